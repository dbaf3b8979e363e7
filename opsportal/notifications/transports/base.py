"""The transport interface, its two errors, and a keep-alive HTTP session shared by the HTTP transports."""

from __future__ import annotations

import functools
import http.client
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.utils import timezone


class DeliveryError(Exception):
    """Why one delivery did not go out. The message is stored as the delivery's last error."""


class PermanentError(DeliveryError):
    """Retrying cannot help (refused address, 4xx, SSRF target): the delivery goes dead."""


class TransientError(DeliveryError):
    """Worth another try later (network, 429, 5xx, SMTP 4xx). `retry_after` is the peer's own hint."""

    def __init__(self, message: str, *, retry_after: timedelta | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def recipient_context(delivery) -> dict:
    """What a transport knows about the recipient: the row's stored extras plus what was looked up at send
    time (signed links, signing secrets), which is never stored."""
    return {**(delivery.context or {}), **(getattr(delivery, "send_context", None) or {})}


def filled(delivery, value):
    """`value` from the message with the recipient's slots filled (only slots the message declared)."""
    from opsportal.notifications.slots import fill_slots

    return fill_slots(value, recipient_context(delivery), delivery.message.recipient_slots)


class Transport:
    """Sends one batch of deliveries on one channel: open once, send each, close once.

    `send` returns normally on success and raises PermanentError or TransientError otherwise; `open`
    may raise either to fail the whole batch (an SMTP server that is down).
    """

    channel = ""

    def open(self) -> None:
        pass

    def send(self, delivery) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)


def retry_after_from(value: str | None) -> timedelta | None:
    """Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when - timezone.now(), timedelta(0)) if when.tzinfo else None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes 30-150 ms: once per process, and only when an https URL needs it.
    return ssl.create_default_context()


class HttpSession:
    """Keep-alive connections per origin for one batch. Redirects are never followed (http.client
    does not), so a webhook cannot bounce us to an address the SSRF check refused."""

    def __init__(self, *, timeout: float):
        self.timeout = timeout
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def _connect(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=_tls_context())
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def post(self, url: str, *, body: bytes, headers: dict[str, str]) -> HttpResponse:
        parts = urlsplit(url)
        scheme = parts.scheme
        port = parts.port or (443 if scheme == "https" else 80)
        key = (scheme, parts.hostname or "", port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for fresh in (False, True):
            connection = self._connections.get(key)
            reused = connection is not None and not fresh
            if connection is None or fresh:
                self._drop(key)
                connection = self._connections[key] = self._connect(scheme, key[1], port)
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(key)
                # The peer closed an idle keep-alive connection before reading: safe to try once more.
                if reused:
                    continue
                raise TransientError(f"Network error: {type(exc).__name__}: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop(key)
                raise TransientError(f"Network error: {type(exc).__name__}: {exc}") from exc
            if response.will_close:
                self._drop(key)
            return HttpResponse(
                status=response.status, headers={k.lower(): v for k, v in response.getheaders()}, body=data
            )
        raise TransientError("Network error: connection kept closing")  # pragma: no cover

    def _drop(self, key) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for key in list(self._connections):
            self._drop(key)
