"""The transport interface and its two errors. HTTP transports go out through opsportal.core.outbound."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

from django.utils import timezone

from opsportal.core.outbound import OutboundClient, OutboundFailed, OutboundRefused, OutboundResponse


class DeliveryError(Exception):
    """Why one delivery did not go out. The message is stored as the delivery's last error."""


class PermanentError(DeliveryError):
    """Retrying cannot help (refused address, 4xx, SSRF target): the delivery goes dead."""


class TransientError(DeliveryError):
    """Worth another try later (network, 429, 5xx, SMTP 4xx). `retry_after` is the peer's own hint."""

    def __init__(self, message: str, *, retry_after: timedelta | None = None):
        super().__init__(message)
        self.retry_after = retry_after


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


def http_post(client: OutboundClient, url: str, *, body: bytes, headers: dict[str, str]) -> OutboundResponse:
    """POST through the outbound client, its refusals and failures turned into delivery errors. An answer
    bigger than the cap still tells its status: a 2xx was delivered, anything else is the peer's fault."""
    try:
        return client.post(url, body=body, headers=headers)
    except OutboundRefused as exc:
        raise PermanentError(f"Refused URL {url}: {exc}") from exc
    except OutboundFailed as exc:
        status = getattr(exc, "status", None)
        if status is not None:
            if 200 <= status < 300:
                return OutboundResponse(status=status, headers={}, body=b"")
            raise PermanentError(str(exc)) from exc
        raise TransientError(str(exc)) from exc
