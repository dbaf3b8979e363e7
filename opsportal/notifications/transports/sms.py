"""SMS through a provider interface: an HTTP backend speaking Twilio's Messages API shape, or the console.
Texts are kept within two segments, ending with the short link when there is one."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from django.conf import settings

from opsportal.core.outbound import OutboundClient
from opsportal.notifications.transports.base import (
    PermanentError,
    TransientError,
    Transport,
    http_post,
    retry_after_from,
)
from opsportal.notifications.transports.console import console_write

# GSM 03.38 basic set; the extension set costs two septets (an escape plus the character).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
# Two concatenated segments: 2 × 153 septets in GSM-7, 2 × 67 UTF-16 code units in UCS-2.
GSM7_LIMIT = 306
UCS2_LIMIT = 134
MANAGE_LABEL = "Manage/stop:"
# Fewer characters of the message than this and a second link is not worth its room.
MIN_SMS_WORDS = 40


def _is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def _cost(text: str, gsm7: bool) -> int:
    if gsm7:
        return sum(2 if char in GSM7_EXTENDED else 1 for char in text)
    return len(text.encode("utf-16-le")) // 2


def sms_fit(text: str, *, short_url: str = "") -> str:
    """`text` (plus " " + short_url) cut to two segments, with an ellipsis where it was cut."""
    text = " ".join(text.split())
    suffix = f" {short_url}" if short_url else ""
    gsm7 = _is_gsm7(text + suffix)
    limit = GSM7_LIMIT if gsm7 else UCS2_LIMIT
    if _cost(text + suffix, gsm7) <= limit:
        return text + suffix
    ellipsis = "..." if gsm7 else "…"  # "…" is not in GSM-7 and would force the whole text to UCS-2
    budget = limit - _cost(ellipsis + suffix, gsm7)
    kept, spent = [], 0
    for char in text:
        spent += _cost(char, gsm7)
        if spent > budget:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ellipsis + suffix


def sms_text(delivery) -> str:
    message = delivery.message
    base = (message.payload or {}).get("sms") or message.text_body or message.subject
    # A recipient's own link (a confirmation) wins; otherwise the message's page, so every text links somewhere.
    short_url = (delivery.context or {}).get("short_url")
    link = short_url or (message.payload or {}).get("link", "")
    manage_url = (delivery.context or {}).get("manage_url") or ""
    if not manage_url or short_url:  # a confirmation: nothing more is sent unless they follow its link
        return sms_fit(base, short_url=link)
    # Every text to a subscriber says where to stop it. When two links leave too little room for the words
    # (a UCS-2 text has 134 characters), the manage link alone stays.
    both = f"{link} {MANAGE_LABEL} {manage_url}" if link else f"{MANAGE_LABEL} {manage_url}"
    text = sms_fit(base, short_url=both)
    if len(text) - len(both) >= MIN_SMS_WORDS:
        return text
    return sms_fit(base, short_url=f"{MANAGE_LABEL} {manage_url}")


class SmsProvider:
    """Sends one text. Raises PermanentError or TransientError like a transport."""

    def send(self, *, to: str, body: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class ConsoleSmsProvider(SmsProvider):
    def send(self, *, to: str, body: str) -> None:
        console_write(channel="sms", address=to, text=body)


class TwilioHttpProvider(SmsProvider):
    """POST {base}/2010-04-01/Accounts/{sid}/Messages.json with To, From, Body and basic auth."""

    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, sender: str, timeout: float):
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        self.sender = sender
        self.client = OutboundClient(timeout=timeout, user_agent="opsportal-sms/1")

    def send(self, *, to: str, body: str) -> None:
        form = urlencode({"To": to, "From": self.sender, "Body": body}).encode()
        response = http_post(self.client, self.url, body=form, headers=self.headers)
        if 200 <= response.status < 300:
            return
        detail = _provider_error(response.body)
        if response.status == 429 or response.status >= 500:
            raise TransientError(
                f"SMS provider HTTP {response.status}{detail}",
                retry_after=retry_after_from(response.headers.get("retry-after")),
            )
        raise PermanentError(f"SMS provider HTTP {response.status}{detail}")

    def close(self) -> None:
        self.client.close()


def _provider_error(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data[key]) for key in ("code", "message") if data.get(key)]
    return f": {' '.join(parts)}" if parts else ""


def sms_provider() -> SmsProvider:
    if not settings.SMS_API_BASE_URL:
        if not settings.NOTIFICATIONS_CONSOLE:
            # Settings refuse to start like this; a text that went nowhere is never marked sent.
            raise TransientError("No SMS provider is configured (SMS_API_BASE_URL).")
        return ConsoleSmsProvider()
    return TwilioHttpProvider(
        base_url=settings.SMS_API_BASE_URL,
        account_sid=settings.SMS_ACCOUNT_SID,
        auth_token=settings.SMS_AUTH_TOKEN,
        sender=settings.SMS_FROM,
        timeout=settings.SMS_TIMEOUT,
    )


class SmsTransport(Transport):
    channel = "sms"

    def __init__(self):
        self.provider: SmsProvider | None = None

    def open(self) -> None:
        self.provider = sms_provider()

    def send(self, delivery) -> None:
        self.provider.send(to=delivery.address, body=sms_text(delivery))

    def close(self) -> None:
        if self.provider is not None:
            self.provider.close()
