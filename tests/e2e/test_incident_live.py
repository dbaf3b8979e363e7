"""The war room live: two staff on the same incident page; one acts, the other sees it without reloading."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from opsportal.core.roles import Role

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 5_000


def _open_as(browser, live_server_url, cookie: str, path: str):
    context = browser.new_context(base_url=live_server_url)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    page.goto(path)
    return context, page


def test_incident_note_appears_for_another_viewer_without_reload(
    browser, live_server_url, make_staff, session_cookie_for
):
    irene = make_staff("irene", Role.INCIDENT_COMMANDER)
    rob = make_staff("rob", Role.RESPONDER)
    # Declared through the page: services called here would broadcast from Playwright's event-loop thread.
    irene_context, irene_page = _open_as(
        browser, live_server_url, session_cookie_for(irene), "/portal/incidents/declare/"
    )
    rob_context = None
    try:
        irene_page.get_by_label("Title:", exact=True).fill("Checkout errors")
        irene_page.get_by_label("Severity").select_option("P2")
        irene_page.get_by_role("button", name="Declare").click()
        expect(irene_page).to_have_url(re.compile(r"/portal/incidents/\d+/$"))
        path = irene_page.url.removeprefix(live_server_url)
        rob_context, rob_page = _open_as(browser, live_server_url, session_cookie_for(rob), path)
        for page in (irene_page, rob_page):
            # Subscribed first: an event broadcast before the socket joins the incident's group is lost.
            expect(page.locator("#incident")).to_have_attribute("data-live", "subscribed")
        rob_page.evaluate("window.__marker = 'not reloaded'")

        irene_page.get_by_role("textbox", name="Note:").fill("Rolled back deploy 4711")
        irene_page.get_by_role("button", name="Add note").click()

        expect(irene_page.locator("#panel-timeline")).to_contain_text("Rolled back deploy 4711")
        expect(rob_page.locator("#panel-timeline")).to_contain_text(
            "Rolled back deploy 4711", timeout=LIVE_TIMEOUT_MS
        )

        # A public update moves the status; the other page's header follows too.
        rob_page.get_by_role("textbox", name="Message for merchants:").fill("We have found the cause.")
        rob_page.locator("#update-form").get_by_label("Status").select_option("identified")
        rob_page.get_by_role("button", name="Post update").click()
        expect(irene_page.locator("#panel-timeline")).to_contain_text(
            "We have found the cause.", timeout=LIVE_TIMEOUT_MS
        )
        expect(irene_page.locator("[data-testid=incident-status]")).to_have_text(
            "Status: Identified", timeout=LIVE_TIMEOUT_MS
        )

        assert rob_page.evaluate("window.__marker") == "not reloaded"
        assert irene_page.js_errors == [] and rob_page.js_errors == []
    finally:
        irene_context.close()
        if rob_context is not None:
            rob_context.close()
