"""In-app notifications for signed-in staff, through the channel layer to the user's own group."""

from __future__ import annotations

from opsportal.core.live import broadcast_now, user_group
from opsportal.notifications.transports.base import (
    PermanentError,
    TransientError,
    Transport,
    recipient_context,
)


class WebSocketTransport(Transport):
    channel = "websocket"

    def send(self, delivery) -> None:
        try:
            user_id = int(delivery.address)
        except ValueError:
            # Not a user id: an enqueueing bug that no retry can fix.
            raise PermanentError(f"Not a user id: {delivery.address!r}") from None
        message = delivery.message
        event = {
            "kind": "notification",
            "message": message.subject,
            "body": message.text_body,
            "message_id": message.pk,
            "url": recipient_context(delivery).get("url", ""),
        }
        try:
            broadcast_now(user_group(user_id), event)
        except Exception as exc:  # the layer's errors vary by backend (Redis, in-memory)
            # A user who is offline is not a failure; a channel layer that is down is worth retrying.
            raise TransientError(f"Channel layer: {type(exc).__name__}: {exc}") from exc
