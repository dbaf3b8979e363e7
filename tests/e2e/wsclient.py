"""A small RFC 6455 WebSocket client on the standard library: open, read JSON events, see refusals.

The venv has no synchronous WebSocket client, and the tests only need a text-frame reader, so this is
enough; it checks what a browser would (the handshake's accept key) and nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import time
from urllib.parse import urlsplit

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeRefused(Exception):
    """The server answered the upgrade with an HTTP status instead of 101 Switching Protocols."""

    def __init__(self, status: int, response: str):
        super().__init__(f"WebSocket handshake refused with HTTP {status}")
        self.status = status
        self.response = response


class ConnectionClosed(Exception):
    def __init__(self, code: int | None, reason: str = ""):
        super().__init__(f"WebSocket closed by the server (code {code}) {reason}".strip())
        self.code = code
        self.reason = reason


class WebSocket:
    def __init__(self, url: str, *, headers: dict[str, str] | None = None, timeout: float = 10.0):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = parts.path or "/"
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        self._buffer = bytearray()
        self._sock = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            self._handshake(key, time.monotonic() + timeout)
        except BaseException:
            self._sock.close()
            raise

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _handshake(self, key: str, deadline: float) -> None:
        while b"\r\n\r\n" not in self._buffer:
            self._fill(deadline)
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        self._buffer = bytearray(rest)
        response = head.decode("latin-1")
        status = int(response.split(" ", 2)[1])
        if status != 101:
            raise HandshakeRefused(status, response)
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in response.split("\r\n")[1:])
        }
        expected = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324
        if headers.get("sec-websocket-accept") != expected:
            raise ConnectionError(f"bad Sec-WebSocket-Accept in {response!r}")

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from the WebSocket server before the deadline")
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            raise TimeoutError("no data from the WebSocket server before the deadline") from None
        if not data:
            raise ConnectionClosed(None, "(connection dropped without a close frame)")
        self._buffer.extend(data)

    def _take(self, count: int, deadline: float) -> bytes:
        while len(self._buffer) < count:
            self._fill(deadline)
        chunk = bytes(self._buffer[:count])
        del self._buffer[:count]
        return chunk

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        # Client frames are always masked (RFC 6455 section 5.3).
        header = bytearray([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 1 << 16:
            header.append(0x80 | 126)
            header.extend(struct.pack("!H", length))
        else:
            header.append(0x80 | 127)
            header.extend(struct.pack("!Q", length))
        mask = os.urandom(4)
        header.extend(mask)
        self._sock.sendall(bytes(header) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read_frame(self, deadline: float) -> tuple[bool, int, bytes]:
        first, second = self._take(2, deadline)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2, deadline))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8, deadline))
        mask = self._take(4, deadline) if second & 0x80 else None
        payload = self._take(length, deadline)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    def receive_text(self, *, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        message = bytearray()
        while True:
            final, opcode, payload = self._read_frame(deadline)
            if opcode == OP_PING:
                self._send_frame(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise ConnectionClosed(code, payload[2:].decode(errors="replace"))
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                message.extend(payload)
                if final:
                    return message.decode()

    def receive_json(self, *, timeout: float = 10.0) -> dict:
        return json.loads(self.receive_text(timeout=timeout))

    def receive_until(self, kind: str, *, timeout: float = 10.0) -> dict:
        """The first event of this kind; events of other kinds (staff-wide broadcasts) are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.receive_json(timeout=max(0.0, deadline - time.monotonic()))
            if event.get("kind") == kind:
                return event

    def send_json(self, data: dict) -> None:
        self._send_frame(OP_TEXT, json.dumps(data).encode())

    def close(self) -> None:
        try:
            self._send_frame(OP_CLOSE, struct.pack("!H", 1000))
        except OSError:
            pass
        self._sock.close()
