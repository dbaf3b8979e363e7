"""The delivery log shows what was sent, never the signed links that act for a recipient (confirm, manage,
unsubscribe): anyone who could read them could confirm, change or cancel someone else's subscription."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from opsportal.notifications.models import Message
from statuspage import subscriptions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_webhooks_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def _frozen_time():
    # Confirmation tokens carry the time they were signed: freeze it so the test can name them.
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def sign_ups():
    rows = []
    for channel, address in (
        ("email", "ann@shop.example"),
        ("sms", "+14165550100"),
        ("webhook", "https://127.0.0.1:9/hook"),
    ):
        result = subscriptions.subscriber_subscribe(channel=channel, address=address)
        rows.append(result.subscriber)
    return rows


@pytest.mark.parametrize("persona", ["viewer", "responder", "admin"])
def test_no_one_reads_confirmation_or_manage_links_in_the_delivery_log(
    client_for, personas, sign_ups, persona
):
    client = client_for(personas[persona])
    secrets = []
    for subscriber in sign_ups:
        secrets.append(subscriptions.subscriber_confirm_token(subscriber))
        secrets.append(subscriptions.subscriber_manage_token(subscriber))
        secrets.append(subscriber.secret or "no-webhook-secret")
    messages = Message.objects.filter(kind="subscription_confirm")
    assert messages.count() == 3
    # The email's text carries its confirmation link: the very thing the log must not show.
    assert any(token in m.text_body for m in messages for token in secrets)
    for message in messages:
        for url in (
            reverse("portal:message_detail", args=[message.pk]),
            reverse("portal:delivery_log"),
            reverse("portal:message_progress", args=[message.pk]),
        ):
            page = client.get(url)
            assert page.status_code == 200
            text = page.content.decode()
            for token in secrets:
                assert token not in text, (persona, url)
    detail = client.get(reverse("portal:message_detail", args=[messages.first().pk])).content.decode()
    assert "[link hidden]" in detail
