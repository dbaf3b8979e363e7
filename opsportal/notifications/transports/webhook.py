"""Webhooks: a signed JSON POST of the message payload, with an idempotency key so a redelivery after a
crash can be dropped by the receiver. Retried only on network errors, 429 and 5xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.core.exceptions import ValidationError

from opsportal.notifications.transports.base import (
    HttpSession,
    PermanentError,
    TransientError,
    Transport,
    filled,
    recipient_context,
    retry_after_from,
)
from opsportal.notifications.validation import validate_webhook_url

TIMEOUT_SECONDS = 5.0


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """'v1=' + hex HMAC-SHA256 over "{timestamp}.{body}": the timestamp is signed so a replay is detectable."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def webhook_body(delivery) -> dict:
    """The message's webhook body (payload["webhook"] when the message carries one per channel), with this
    recipient's own unsubscribe link in meta, as Statuspage's subscriber webhooks have it."""
    payload = delivery.message.payload or {}
    body = filled(delivery, payload.get("webhook", payload))
    unsubscribe = recipient_context(delivery).get("unsubscribe_url")
    if unsubscribe and isinstance(body.get("meta"), dict):
        body = {**body, "meta": {**body["meta"], "unsubscribe": unsubscribe}}
    return body


class WebhookTransport(Transport):
    channel = "webhook"

    def __init__(self):
        self.session: HttpSession | None = None

    def open(self) -> None:
        self.session = HttpSession(timeout=TIMEOUT_SECONDS)

    def send(self, delivery) -> None:
        try:
            # Again at send time: the name may resolve somewhere else than when the subscriber signed up.
            url = validate_webhook_url(delivery.address)
        except ValidationError as exc:
            raise PermanentError(f"Refused URL {delivery.address}: {' '.join(exc.messages)}") from exc
        body = json.dumps(webhook_body(delivery), separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "opsportal-webhooks/1",
            "X-Opsportal-Timestamp": timestamp,
            "Idempotency-Key": str(delivery.idempotency_key),
        }
        secret = recipient_context(delivery).get("secret")  # looked up at send time, never stored
        if secret:
            headers["X-Opsportal-Signature"] = webhook_signature(
                secret=secret, timestamp=timestamp, body=body
            )
        response = self.session.post(url, body=body, headers=headers)
        if 200 <= response.status < 300:
            return
        if response.status == 429 or response.status >= 500:
            raise TransientError(
                f"Webhook answered HTTP {response.status}",
                retry_after=retry_after_from(response.headers.get("retry-after")),
            )
        if 300 <= response.status < 400:
            raise PermanentError(f"Webhook answered HTTP {response.status} (redirects are not followed)")
        raise PermanentError(f"Webhook answered HTTP {response.status}")

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
