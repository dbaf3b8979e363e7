"""The one-time link in a page: made at send time (never stored in the outbox), GET never acts, POST acts
once as the person paged with their current role, and expired or reused links get a clear 410."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from oncall import paging
from oncall.models import AckLink, AlertLogEntry, Page
from opsportal.core.roles import Role
from opsportal.core.services import SYSTEM, staff_set_role
from opsportal.notifications.delivery import deliveries_claim_due
from opsportal.notifications.models import Delivery
from tests.oncall.paging.conftest import EMAIL, SMS, T0


@pytest.fixture
def sms_page(rob, group, verified):
    verified(rob, SMS, "+14165550100", delay=0)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)
    return Page.objects.get()


def _link(page) -> str:
    context = paging.pages_send_context(refs=[f"page:{page.pk}"])[f"page:{page.pk}"]
    return context["short_url"]


def _path(url: str) -> str:
    return "/a/" + url.rsplit("/a/", 1)[1]


def test_the_link_is_made_at_send_time_and_never_stored(sms_page, settings):
    delivery = Delivery.objects.get()
    assert "/a/" not in str(delivery.context) and "/a/" not in delivery.message.text_body

    _, [claimed] = deliveries_claim_due()

    url = claimed.send_context["short_url"]
    assert url.startswith(settings.PUBLIC_URL.rstrip("/") + "/a/") and claimed.send_context["ack_url"] == url
    token = url.rsplit("/", 1)[1]
    assert len(token) == 16
    link = AckLink.objects.get()
    assert link.token_hash == paging.link_token_hash(token) and token not in link.token_hash
    assert (link.group_id, link.user_id, link.page_id) == (sms_page.group_id, sms_page.user_id, sms_page.pk)


def test_get_shows_the_alert_and_never_acts(sms_page, group):
    path = _path(_link(sms_page))
    for _ in range(3):  # a mail scanner, a preview, the person
        response = Client().get(path)
        assert response.status_code == 200
    body = response.content.decode()
    assert group.summary in body and 'value="acknowledge"' in body and 'value="resolve"' in body
    assert "csrfmiddlewaretoken" in body
    assert response["Cache-Control"] == "no-store"
    group.refresh_from_db()
    assert group.status == "triggered" and AckLink.objects.get().used_at is None


def test_post_acknowledges_once_as_the_person_paged(sms_page, group):
    path = _path(_link(sms_page))
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    token = page.cookies["csrftoken"].value

    response = client.post(path, {"action": "acknowledge", "csrfmiddlewaretoken": token})

    assert response.status_code == 200 and "Acknowledged as rob" in response.content.decode()
    group.refresh_from_db()
    assert group.status == "acknowledged" and group.acknowledged_by.username == "rob"
    entry = AlertLogEntry.objects.get(group=group, kind=AlertLogEntry.Kind.ACKNOWLEDGED)
    assert entry.actor_label == "rob (via link)"
    link = AckLink.objects.get()
    assert link.used_at is not None and link.used_for == "acknowledge"

    again = client.post(path, {"action": "resolve", "csrfmiddlewaretoken": token})
    assert again.status_code == 410 and "already been used" in again.content.decode()
    group.refresh_from_db()
    assert group.status == "acknowledged"
    assert Client().get(path).status_code == 410


def test_post_without_csrf_is_refused(sms_page, group):
    path = _path(_link(sms_page))
    response = Client(enforce_csrf_checks=True).post(path, {"action": "acknowledge"})
    assert response.status_code == 403
    group.refresh_from_db()
    assert group.status == "triggered"


def test_resolve_through_the_link(sms_page, group):
    response = Client().post(_path(_link(sms_page)), {"action": "resolve"})
    assert response.status_code == 200
    group.refresh_from_db()
    assert group.status == "resolved" and group.resolved_by.username == "rob"


def test_an_expired_link_is_gone(sms_page, group, settings):
    settings.ALERT_LINK_TTL = timedelta(hours=24)
    with time_machine.travel(T0, tick=False) as clock:
        path = _path(_link(sms_page))
        clock.shift(timedelta(hours=24))
        shown = Client().get(path)
        acted = Client().post(path, {"action": "acknowledge"})
    assert shown.status_code == 410 and "has expired" in shown.content.decode()
    assert acted.status_code == 410
    group.refresh_from_db()
    assert group.status == "triggered"


def test_a_responder_whose_role_was_removed_is_refused(sms_page, group, rob):
    path = _path(_link(sms_page))
    staff_set_role(actor=SYSTEM, user=rob, role=Role.VIEWER)

    response = Client().post(path, {"action": "acknowledge"})

    assert response.status_code == 403 and "responder role was removed" in response.content.decode()
    group.refresh_from_db()
    assert group.status == "triggered" and AckLink.objects.get().used_at is None


def test_an_unknown_or_altered_link_is_not_found(sms_page):
    path = _path(_link(sms_page))
    assert Client().get(path[:-1] + ("A" if path[-1] != "A" else "B")).status_code == 404
    assert Client().get("/a/" + "x" * 500).status_code == 404
    assert Client().post("/a/nope", {"action": "acknowledge"}).status_code == 404


def test_an_unknown_action_changes_nothing(sms_page, group):
    response = Client().post(_path(_link(sms_page)), {"action": "delete"})
    assert response.status_code == 400
    assert AckLink.objects.get().used_at is None


def test_the_email_page_carries_the_link_in_its_body(rob, group, verified, settings):
    verified(rob, EMAIL, "rob@ops.example.com", delay=0)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)
    message = Delivery.objects.get().message
    assert "{{recipient.ack_url}}" in message.text_body and "{{recipient.ack_url}}" in message.html_body
    assert message.recipient_slots == ["ack_url"]
