"""The alert page on a phone at 3 a.m.: at 390×844 it fits without sideways scrolling, the Acknowledge button
is on the first screen, and one tap acknowledges (the page then says so and the timeline shows who)."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection
from playwright.sync_api import expect

from oncall.models import AlertGroup

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
STICKING_OUT = """() => {
  const limit = document.documentElement.clientWidth + 1;
  return [...document.querySelectorAll("main *, header *")]
    .filter((el) => { const box = el.getBoundingClientRect(); return box.width > 0 && box.right > limit; })
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`)
    .slice(0, 10);
}"""


def _in_a_thread(work):
    # Playwright's sync API marks this thread's event loop as running; writes that broadcast on commit
    # through async_to_sync refuse to run in such a thread.
    result = {}

    def run():
        try:
            result["value"] = work()
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return result["value"]


@pytest.fixture
def paging_alert(transactional_db, make_staff):
    from oncall.alerting import alert_events_ingest
    from oncall.events import InboundEvent
    from oncall.models import (
        EscalationLevel,
        EscalationPolicy,
        EscalationTarget,
        Integration,
        Region,
        TargetKind,
        Team,
        TeamMembership,
    )
    from opsportal.core.roles import Role

    def build():
        rob = make_staff("rob", Role.RESPONDER, time_zone="America/Toronto")
        region = Region.objects.create(code="NA", name="North America", time_zone="America/Toronto")
        team = Team.objects.create(name="Payments", slug="payments")
        TeamMembership.objects.create(team=team, user=rob, region=region)
        policy = EscalationPolicy.objects.create(team=team, name="Payments default")
        level = EscalationLevel.objects.create(policy=policy, position=0, delay_minutes=5)
        EscalationTarget.objects.create(level=level, kind=TargetKind.USER, user=rob)
        integration = Integration.objects.create(
            team=team, name="Prometheus", kind="pagerduty", escalation_policy=policy
        )
        event = InboundEvent(
            action="trigger",
            dedup_key="checkout-5xx",
            summary="Checkout error rate above 2% on eu-west-1 (payments-api-7f9c4d-xk2pq: "
            "upstream_connect_error_or_disconnect_before_headers_reset)",
            severity="critical",
            source="lb-eu-west-1",
            details={"firing_for": "3m", "query": 'sum(rate(http_requests_total{code=~"5.."}[5m]))' * 3},
            links=[{"href": "https://runbooks.example.com/checkout-5xx", "text": "Runbook: checkout 5xx"}],
        )
        alert_events_ingest(integration=integration, events=[event])
        return rob, AlertGroup.objects.get()

    return _in_a_thread(build)


def test_phone_alert_page_one_tap_acknowledges(browser, live_server_url, paging_alert, session_cookie_for):
    rob, group = paging_alert
    cookie = _in_a_thread(lambda: session_cookie_for(rob))
    context = browser.new_context(base_url=live_server_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"/portal/alerts/{group.pk}/")
        page.wait_for_load_state("load")
        expect(page.get_by_test_id("alert-status")).to_have_text("Triggered")
        ack = page.get_by_role("button", name="Acknowledge", exact=True)
        expect(ack).to_be_in_viewport()
        assert ack.bounding_box()["height"] >= 44  # a thumb-sized target
        assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
        assert page.evaluate(STICKING_OUT) == []
        expect(page.get_by_role("link", name="Runbook: checkout 5xx")).to_be_visible()
        expect(page.get_by_test_id("viewer-zone")).to_contain_text("America/Toronto")

        ack.click()

        expect(page.get_by_test_id("alert-status")).to_have_text("Acknowledged")
        expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
        expect(page.get_by_test_id("alert-log")).to_contain_text("rob")
        page.wait_for_load_state("load")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
        assert page.evaluate(STICKING_OUT) == []
        assert errors == []
    finally:
        context.close()
    assert _in_a_thread(lambda: AlertGroup.objects.get(pk=group.pk).status) == "acknowledged"


def test_phone_alert_stream_policy_and_integration_pages_fit(
    browser, live_server_url, paging_alert, session_cookie_for
):
    rob, group = paging_alert
    policy_id, integration_id = _in_a_thread(lambda: (group.escalation_policy_id, group.integration_id))
    cookie = _in_a_thread(lambda: session_cookie_for(rob))
    context = browser.new_context(base_url=live_server_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for path, heading in (
            ("/portal/alerts/", "Alerts"),
            (f"/portal/escalation-policies/{policy_id}/", "Payments default"),
            (f"/portal/integrations/{integration_id}/", "Prometheus"),
        ):
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            page.wait_for_load_state("load")
            if os.environ.get("SCREENSHOTS"):
                page.screenshot(
                    path=f"{os.environ['SCREENSHOTS']}/{heading.replace(' ', '_')}.png", full_page=True
                )
            assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth"), path
            assert page.evaluate(STICKING_OUT) == [], path
        assert errors == []
    finally:
        context.close()
