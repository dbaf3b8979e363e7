"""A small blocking WebSocket client for the e2e tests, over the `websockets` library's sync client."""

from __future__ import annotations

import json
import time

from websockets.exceptions import ConnectionClosed as _Closed
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


class HandshakeRefused(Exception):
    def __init__(self, status: int):
        super().__init__(f"handshake refused with HTTP {status}")
        self.status = status


class ConnectionClosed(Exception):
    def __init__(self, code: int | None, reason: str = ""):
        super().__init__(f"closed with {code} {reason}".strip())
        self.code = code
        self.reason = reason


class WebSocket:
    def __init__(self, url: str, *, headers: dict[str, str] | None = None, timeout: float = 10.0):
        try:
            # A plain connection object (not the reconnecting iterator newer releases prefer).
            self._conn = connect(url, additional_headers=headers or {}, open_timeout=timeout, legacy=True)
        except InvalidStatus as refused:
            raise HandshakeRefused(refused.response.status_code) from None

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def receive_text(self, *, timeout: float = 10.0) -> str:
        try:
            message = self._conn.recv(timeout=timeout)
        except _Closed as closed:
            received = closed.rcvd
            raise ConnectionClosed(
                received.code if received else None, received.reason if received else ""
            ) from None
        return message if isinstance(message, str) else message.decode()

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
        self._conn.send(json.dumps(data))

    def close(self) -> None:
        self._conn.close()
