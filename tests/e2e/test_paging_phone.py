"""Acknowledge at 3 a.m. on a phone: the one-time link's page fits 390 px, its Acknowledge button is on the first
screen, one tap acknowledges; the responder's contacts page fits too and verifies a phone with htmx."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from oncall import paging
from oncall.models import AlertGroup, ContactMethod, Integration, Team
from opsportal.core.roles import Role
from opsportal.notifications.models import Delivery
from tests.e2e.test_phone_layout import PHONE, _assert_fits_the_phone

pytestmark = pytest.mark.browser


@pytest.fixture
def responder(make_staff, transactional_db):
    return make_staff("rob", Role.RESPONDER)


def _group() -> AlertGroup:
    team = Team.objects.create(name="Payments", slug="payments")
    integration = Integration.objects.create(team=team, name="Prometheus", kind="alertmanager")
    return AlertGroup.objects.create(
        integration=integration,
        team=team,
        dedup_key="checkout",
        summary="Checkout error rate above 5% on eu-west-1 for card payments (Adyen, Stripe) since 02:55 UTC",
        incident_severity="P0",
        source="prometheus-eu-west-1.internal.example.com",
    )


def test_phone_one_tap_acknowledge_from_the_link(browser, live_server_url, responder):
    group = _group()
    page_row = paging.pages_schedule(group=group, users=[responder], step=1, level=0, now=timezone.now())[0]
    _, token = paging.ack_link_create(page=page_row)
    context = browser.new_context(base_url=live_server_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"/a/{token}")
        _assert_fits_the_phone(page)
        button = page.get_by_role("button", name="Acknowledge")
        expect(button).to_be_in_viewport()
        assert button.bounding_box()["height"] >= 44  # a thumb's target
        expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout error rate")

        button.click()

        expect(page.get_by_role("status")).to_contain_text("Acknowledged as rob")
        _assert_fits_the_phone(page)
        group.refresh_from_db()
        assert group.status == "acknowledged"
        page.goto(f"/a/{token}")
        expect(page.get_by_role("heading", name="This link has already been used")).to_be_visible()
    finally:
        context.close()


def test_phone_contacts_page_verifies_a_phone(browser, live_server_url, responder, session_cookie_for):
    context = browser.new_context(base_url=live_server_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": session_cookie_for(responder), "url": live_server_url}]
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/portal/me/contacts/")
        _assert_fits_the_phone(page)
        page.get_by_label("Type").select_option("sms")
        page.get_by_label("Address").fill("+1 416 555 0100")
        page.get_by_role("button", name="Add and send a code").click()
        expect(page.get_by_text("A code is on its way to +14165550100")).to_be_visible()

        code = re.search(r"\b(\d{6})\b", Delivery.objects.get(address="+14165550100").message.text_body)[1]
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_text("+14165550100 is verified")).to_be_visible()
        _assert_fits_the_phone(page)
        assert ContactMethod.objects.get(user=responder).is_verified
        assert errors == []
    finally:
        context.close()
