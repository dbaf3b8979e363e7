"""Webhooks: a signed JSON POST of the message payload, with an idempotency key so a redelivery after a
crash can be dropped by the receiver. Retried only on network errors, 429 and 5xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from opsportal.core.outbound import OutboundClient
from opsportal.notifications.transports.base import (
    PermanentError,
    TransientError,
    Transport,
    http_post,
    retry_after_from,
)

TIMEOUT_SECONDS = 5.0  # the whole request: resolving, connecting, sending and reading the answer
MAX_RESPONSE_BYTES = 64 * 1024  # we read only the status; a receiver's answer is not ours to store


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """'v1=' + hex HMAC-SHA256 over "{timestamp}.{body}": the timestamp is signed so a replay is detectable."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def webhook_body(delivery) -> dict:
    """The message's webhook body (payload["webhook"] when the message carries one per channel), with this
    recipient's own unsubscribe link in meta, as Statuspage's subscriber webhooks have it."""
    payload = delivery.message.payload or {}
    body = payload.get("webhook", payload)
    unsubscribe = (delivery.context or {}).get("unsubscribe_url")
    if unsubscribe and isinstance(body.get("meta"), dict):
        body = {**body, "meta": {**body["meta"], "unsubscribe": unsubscribe}}
    return body


class WebhookTransport(Transport):
    channel = "webhook"

    def __init__(self):
        self.client: OutboundClient | None = None

    def open(self) -> None:
        self.client = OutboundClient(
            timeout=TIMEOUT_SECONDS, max_response_bytes=MAX_RESPONSE_BYTES, user_agent="opsportal-webhooks/1"
        )

    def send(self, delivery) -> None:
        # The client checks the address again at send time (the name may resolve somewhere else than when
        # the subscriber signed up) and connects to exactly the address it checked.
        url = delivery.address
        body = json.dumps(webhook_body(delivery), separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Opsportal-Timestamp": timestamp,
            "Idempotency-Key": str(delivery.idempotency_key),
        }
        secret = (delivery.context or {}).get("secret")
        if secret:
            headers["X-Opsportal-Signature"] = webhook_signature(
                secret=secret, timestamp=timestamp, body=body
            )
        response = http_post(self.client, url, body=body, headers=headers)
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
        if self.client is not None:
            self.client.close()
