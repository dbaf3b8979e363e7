"""SMS replies through the Twilio-shaped inbound webhook: the signature is checked before anything happens;
"<id>a" acknowledges, "<id>c" closes, "<id>e" escalates, as the verified sender who was paged."""

from __future__ import annotations

import pytest
from django.test import Client

from oncall import paging, sms_replies
from oncall.models import AlertLogEntry, Escalation, Page
from opsportal.core.roles import Role
from opsportal.core.services import SYSTEM, staff_set_role
from tests.oncall.paging.conftest import SMS, T0

TOKEN = "twilio-auth-token-12345"
PATH = "/hooks/sms/twilio"
ROB = "+14165550100"


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.SMS_AUTH_TOKEN = TOKEN
    settings.PUBLIC_URL = "https://ops.example.com"


@pytest.fixture
def paged(rob, group, verified):
    verified(rob, SMS, ROB, delay=0)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)
    return group


def _form(body: str, sender: str = ROB) -> dict[str, str]:
    return {
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC0123456789abcdef",
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }


def _post(form: dict, *, signature: str | None = "sign", url: str = "https://ops.example.com" + PATH):
    headers = {}
    if signature == "sign":
        signature = sms_replies.twilio_signature(TOKEN, url, form.items())
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return Client().post(PATH, form, headers=headers)


def _message(response) -> str:
    body = response.content.decode()
    assert response["Content-Type"].startswith("application/xml")
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    return body.split("<Message>", 1)[1].split("</Message>", 1)[0]


def test_signature_matches_twilios_documented_example():
    # The example in Twilio's "Webhooks security" guide: URL, five parameters, auth token 12345.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert sms_replies.twilio_signature("12345", url, params.items()) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@pytest.mark.parametrize("body", ["12a", "12A", " 12 a ", "#12a", "12a."])
def test_reply_parse_accepts_case_and_spaces(body):
    assert sms_replies.reply_parse(body) == sms_replies.Reply(12, "acknowledge")


@pytest.mark.parametrize("body", ["", "a12", "12", "12x", "ack 12", "12ab", "1" * 19 + "a"])
def test_reply_parse_refuses_anything_else(body):
    assert sms_replies.reply_parse(body) is None


def test_a_signed_ack_reply_acknowledges(paged):
    response = _post(_form(f"{paged.pk}a"))

    assert response.status_code == 200
    assert _message(response) == f"Acknowledged #{paged.pk}: Checkout error rate above 5%"
    paged.refresh_from_db()
    assert paged.status == "acknowledged" and paged.acknowledged_by.username == "rob"
    assert AlertLogEntry.objects.get(group=paged, kind="acknowledged").actor_label == "rob (via sms)"


def test_a_close_reply_resolves(paged):
    response = _post(_form(f" {paged.pk} C"))
    assert _message(response) == f"Closed #{paged.pk}: Checkout error rate above 5%"
    paged.refresh_from_db()
    assert paged.status == "resolved"


def test_an_escalate_reply_escalates(paged):
    Escalation.objects.create(group=paged, snapshot={"levels": []}, next_step_at=None, steps_taken=1)
    response = _post(_form(f"{paged.pk}e"))
    assert _message(response) == f"Escalated #{paged.pk}: Checkout error rate above 5%"
    assert AlertLogEntry.objects.filter(group=paged, kind="escalated").exists()


def test_an_escalate_reply_without_a_policy_says_so(paged):
    response = _post(_form(f"{paged.pk}e"))
    assert "no escalation policy" in _message(response)


@pytest.mark.parametrize(
    "signature", [None, "", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "garbage", "sign-for-another-url"]
)
def test_a_forged_or_missing_signature_is_refused_and_nothing_happens(paged, signature):
    if signature == "sign-for-another-url":
        signature = sms_replies.twilio_signature(
            TOKEN, "https://evil.example.com" + PATH, _form("1a").items()
        )
    response = _post(_form(f"{paged.pk}a"), signature=signature)

    assert response.status_code == 403
    paged.refresh_from_db()
    assert paged.status == "triggered"


def test_a_signature_over_other_params_is_refused(paged):
    form = _form(f"{paged.pk}a")
    signature = sms_replies.twilio_signature(
        TOKEN, "https://ops.example.com" + PATH, _form(f"{paged.pk}c").items()
    )
    assert _post(form, signature=signature).status_code == 403


def test_without_an_auth_token_every_reply_is_refused(paged, settings):
    settings.SMS_AUTH_TOKEN = ""
    assert (
        _post(_form(f"{paged.pk}a"), signature=sms_replies.twilio_signature("", "x", [])).status_code == 403
    )


def test_an_unknown_number_is_told_so_and_nothing_happens(paged):
    response = _post(_form(f"{paged.pk}a", sender="+447700900123"))
    assert _message(response) == "This number is not a verified contact method in opsportal."
    paged.refresh_from_db()
    assert paged.status == "triggered"


def test_an_unknown_code(paged):
    assert _message(_post(_form("hello"))).startswith("Unknown code.")
    assert _message(_post(_form("999999a"))).startswith("Unknown code: there is no alert #999999")


def test_someone_not_paged_for_the_alert_is_refused(paged, make_group, ana, verified):
    verified(ana, SMS, "+353861234567", delay=0)
    response = _post(_form(f"{paged.pk}a", sender="+353861234567"))
    assert _message(response) == f"You were not paged for #{paged.pk}."
    other = make_group("Another alert")
    assert _message(_post(_form(f"{other.pk}a"))) == f"You were not paged for #{other.pk}."
    paged.refresh_from_db()
    assert paged.status == "triggered"


def test_a_scheduled_page_not_yet_sent_does_not_count(rob, group, verified):
    verified(rob, SMS, ROB, delay=5)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    assert Page.objects.get().status == "scheduled"
    assert _message(_post(_form(f"{group.pk}a"))) == f"You were not paged for #{group.pk}."


def test_a_responder_whose_role_was_removed_is_refused(paged, rob):
    staff_set_role(actor=SYSTEM, user=rob, role=Role.VIEWER)
    assert "role was removed" in _message(_post(_form(f"{paged.pk}a")))
    paged.refresh_from_db()
    assert paged.status == "triggered"


def test_replying_to_a_resolved_alert(paged):
    _post(_form(f"{paged.pk}c"))
    assert "already resolved" in _message(_post(_form(f"{paged.pk}a")))


def test_the_reply_is_escaped_xml(paged):
    paged.summary = "<b>&</b> down"
    paged.save(update_fields=["summary"])
    assert (
        _message(_post(_form(f"{paged.pk}a"))) == f"Acknowledged #{paged.pk}: &lt;b&gt;&amp;&lt;/b&gt; down"
    )


def test_get_is_not_allowed():
    assert Client().get(PATH).status_code == 405
