"""SMS against a local server speaking Twilio's Messages API, the console fallback, and two-segment texts."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import pytest

from opsportal.notifications.delivery import deliver_due_batches
from opsportal.notifications.models import Delivery
from opsportal.notifications.services import Recipient
from opsportal.notifications.transports.sms import GSM7_LIMIT, UCS2_LIMIT, sms_fit
from tests.notifications.conftest import delivery_of

Status = Delivery.Status
SID, TOKEN, SENDER = "AC0123456789abcdef", "auth-token-42", "+15005550006"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
def provider(http_sink, settings):
    sink = http_sink()
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the provider stand-in listens on loopback
    settings.SMS_API_BASE_URL = sink.url
    settings.SMS_ACCOUNT_SID, settings.SMS_AUTH_TOKEN, settings.SMS_FROM = SID, TOKEN, SENDER
    sink.reply(
        MESSAGES_PATH, (201, {"Content-Type": "application/json"}, json.dumps({"sid": "SM1"}).encode())
    )
    return sink


def _form(request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.body.decode()).items()}


def test_sms_is_posted_in_twilio_shape_with_basic_auth(enqueue, provider):
    message = enqueue(
        Recipient("sms", "+14165550100", context={"short_url": "https://st.example/i/9"}),
        text="Checkout is degraded. We are investigating.",
    )

    assert deliver_due_batches() == 1

    [request] = provider.requests
    assert request.path == MESSAGES_PATH
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert _form(request) == {
        "To": "+14165550100",
        "From": SENDER,
        "Body": "Checkout is degraded. We are investigating. https://st.example/i/9",
    }
    assert delivery_of(message).status == Status.SENT


def test_sms_batch_shares_one_connection(enqueue, provider):
    enqueue(*(Recipient("sms", f"+1416555010{n}") for n in range(4)))
    assert deliver_due_batches() == 4
    assert len(provider.requests) == 4
    assert len(provider.connections) == 1


def test_rejected_number_is_permanent(enqueue, provider):
    error = {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
    provider.reply(MESSAGES_PATH, (400, {"Content-Type": "application/json"}, json.dumps(error).encode()))
    message = enqueue(Recipient("sms", "+14165550100"))

    deliver_due_batches()

    row = delivery_of(message)
    assert row.status == Status.DEAD
    assert row.last_error == "SMS provider HTTP 400: 21211 The 'To' number is not a valid phone number."


def test_provider_outage_is_retried(enqueue, provider):
    provider.reply(MESSAGES_PATH, (503, {}, b"unavailable"))
    message = enqueue(Recipient("sms", "+14165550100"))

    deliver_due_batches()

    row = delivery_of(message)
    assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 1, "SMS provider HTTP 503")


def test_without_a_provider_texts_go_to_the_console(enqueue, settings, capsys):
    settings.SMS_API_BASE_URL = ""
    message = enqueue(Recipient("sms", "+14165550100"), text="Checkout is degraded.")

    deliver_due_batches()

    assert "[sms to +14165550100] Checkout is degraded." in capsys.readouterr().out
    assert delivery_of(message).status == Status.SENT


def test_without_a_provider_or_the_console_opt_in_no_text_is_marked_sent(enqueue, settings, capsys):
    settings.SMS_API_BASE_URL = ""
    settings.NOTIFICATIONS_CONSOLE = False
    message = enqueue(Recipient("sms", "+14165550100"), text="Checkout is degraded.")

    deliver_due_batches()

    row = delivery_of(message)
    assert row.status == Status.PENDING
    assert row.last_error == "No SMS provider is configured (SMS_API_BASE_URL)."
    assert "Checkout is degraded." not in capsys.readouterr().out


def test_short_texts_are_left_alone():
    assert sms_fit("All systems operational.", short_url="https://st.example/i/1") == (
        "All systems operational. https://st.example/i/1"
    )


def test_long_gsm_text_is_cut_to_two_segments_before_the_link():
    link = "https://st.example/i/9"
    fitted = sms_fit("Checkout latency is elevated in EU. " * 20, short_url=link)
    assert len(fitted) <= GSM7_LIMIT
    assert len(fitted) >= GSM7_LIMIT - 10, "uses the room it has"
    assert fitted.endswith("... " + link)


def test_gsm_extension_characters_count_double():
    fitted = sms_fit("{braces} " * 60)
    septets = sum(2 if char in "{}" else 1 for char in fitted)
    assert septets <= GSM7_LIMIT


def test_unicode_text_is_cut_to_two_ucs2_segments():
    link = "https://st.example/i/9"
    fitted = sms_fit("Оплата временно недоступна, мы работаем над этим. " * 10, short_url=link)
    assert len(fitted.encode("utf-16-le")) // 2 <= UCS2_LIMIT
    assert fitted.endswith("… " + link)


def test_emoji_count_as_two_ucs2_units():
    fitted = sms_fit("🔥" * 100)
    assert len(fitted.encode("utf-16-le")) // 2 <= UCS2_LIMIT
    assert fitted.endswith("…")
