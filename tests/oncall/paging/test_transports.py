"""Pages really leave through the transports: a local server speaking Twilio's Messages API receives one SMS
segment with the code, the reply instruction and the one-time link (which works); an SMTP server on loopback
receives the email page with its link filled in and the source's links checked."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.test import Client

from oncall import paging
from oncall.models import Page
from opsportal.notifications.delivery import deliver_due_batches
from opsportal.notifications.models import Delivery
from tests.notifications.conftest import http_sink  # noqa: F401  (the provider stand-in)
from tests.notifications.test_email import mail_sink  # noqa: F401  (an SMTP server on loopback)
from tests.oncall.paging.conftest import SMS, T0

SID, TOKEN, SENDER = "AC0123456789abcdef", "auth-token-42", "+15005550006"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
def provider(http_sink, settings):  # noqa: F811
    sink = http_sink()
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the stand-in listens on loopback
    settings.SMS_API_BASE_URL = sink.url
    settings.SMS_ACCOUNT_SID, settings.SMS_AUTH_TOKEN, settings.SMS_FROM = SID, TOKEN, SENDER
    settings.PUBLIC_URL = "https://ops.example.com"
    sink.reply(
        MESSAGES_PATH, (201, {"Content-Type": "application/json"}, json.dumps({"sid": "SM1"}).encode())
    )
    return sink


def test_an_sms_page_leaves_through_the_transport_with_its_link(provider, rob, make_group, verified):
    group = make_group("Checkout error rate above 5% on eu-west-1 for all card payments since 02:55 UTC " * 3)
    verified(rob, SMS, "+14165550100", delay=0)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)

    assert deliver_due_batches() == 1

    [request] = provider.requests
    form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
    assert form["To"] == "+14165550100" and form["From"] == SENDER
    text = form["Body"]
    assert len(text) <= 160 and text.isascii()  # one GSM-7 segment
    assert text.startswith(f"[#{group.pk}] P0 Checkout error rate")
    head, link = text.rsplit(" ", 1)
    assert head.endswith(f"... - reply {group.pk}a to ack")
    assert link.startswith("https://ops.example.com/a/")
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert Page.objects.get().status == Page.Status.SENT

    # The link in the text is the one the person can use.
    response = Client().post(link.removeprefix("https://ops.example.com"), {"action": "acknowledge"})
    assert response.status_code == 200
    group.refresh_from_db()
    assert group.status == "acknowledged"


def test_a_unicode_summary_still_fits_with_its_link(provider, rob, make_group, verified):
    group = make_group("Zahlungen fehlgeschlagen – Überlastung im Rechenzentrum Frankfurt 🔥 " * 4)
    verified(rob, SMS, "+14165550100", delay=0)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)

    deliver_due_batches()

    text = parse_qs(provider.requests[0].body.decode())["Body"][0]
    assert f"reply {group.pk}a to ack https://ops.example.com/a/" in text
    assert len(text.encode("utf-16-le")) // 2 <= 134  # two UCS-2 segments, link whole


def test_an_email_page_leaves_by_smtp_with_its_link_filled(mail_sink, rob, make_group, settings):  # noqa: F811
    settings.PUBLIC_URL = "https://ops.example.com"
    group = make_group("Checkout <script> error rate", details={"region": "eu-west-1"})
    group.links = [
        {"href": "https://runbooks.example.com/checkout", "text": "Runbook"},
        {"href": "javascript:x()"},
    ]
    group.save(update_fields=["links"])
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)  # the default: push, then email
    paging.pages_send_due(now=T0 + timedelta(minutes=1))

    deliver_due_batches()

    [(rcpt_tos, mail)] = mail_sink.messages
    assert rcpt_tos == ["rob@ops.example.com"]
    assert mail["Subject"] == f"[#{group.pk}] P0 Checkout <script> error rate"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    link = re.search(r"https://ops\.example\.com/a/[\w-]{16}", text)[0]
    assert f'href="{link}"' in html and "{{recipient" not in text + html
    assert "Runbook: https://runbooks.example.com/checkout" in text and "javascript:" not in text + html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert '"region": "eu-west-1"' in text
    assert f"In the portal: https://ops.example.com/portal/alerts/{group.pk}/" in text
