"""Transports: how one channel's deliveries leave the building. See base.py for the interface."""

from __future__ import annotations

from opsportal.notifications.transports.base import PermanentError, TransientError, Transport


def transport_for(channel: str) -> Transport:
    """A fresh transport for one batch of deliveries on `channel`."""
    from opsportal.notifications.transports.email import EmailTransport
    from opsportal.notifications.transports.sms import SmsTransport
    from opsportal.notifications.transports.webhook import WebhookTransport
    from opsportal.notifications.transports.websocket import WebSocketTransport

    transports = {
        "email": EmailTransport,
        "sms": SmsTransport,
        "webhook": WebhookTransport,
        "websocket": WebSocketTransport,
    }
    try:
        return transports[channel]()
    except KeyError:
        raise PermanentError(f"No transport for channel {channel!r}") from None


__all__ = ["PermanentError", "TransientError", "Transport", "transport_for"]
