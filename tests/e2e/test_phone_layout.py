"""Staff on phones: at 390×844 the portal's header is one short row with the menu folded behind a toggle (which
works without JavaScript), tables become stacked rows, and no page scrolls sideways; likewise the status page."""

from __future__ import annotations

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import expect

from opsportal.demo.data import demo_load
from opsportal.incidents.models import Incident

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# One row: the brand, the live state and the Menu button (the old header took half the screen).
MAX_HEADER_PX = 64

# Elements whose box reaches past the right edge of the screen (hidden ones and those inside a closed menu
# have no box). A table scrolled inside its card would pass the page check but fail this one.
STICKING_OUT = """() => {
  const limit = document.documentElement.clientWidth + 1;
  return [...document.querySelectorAll("main *, header *")]
    .filter((el) => { const box = el.getBoundingClientRect(); return box.width > 0 && box.right > limit; })
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`)
    .slice(0, 10);
}"""


@pytest.fixture
def demo(transactional_db):
    # In a thread of its own: Playwright's sync API marks this thread's event loop as running, and the demo's
    # writes broadcast on commit through async_to_sync, which refuses to run in such a thread.
    def load():
        try:
            demo_load()
        finally:
            connection.close()

    worker = threading.Thread(target=load)
    worker.start()
    worker.join()
    return get_user_model().objects.get(username="ben")  # the demo's incident commander


def _phone(browser, live_server_url, cookie: str | None = None, *, javascript: bool = True):
    context = browser.new_context(base_url=live_server_url, viewport=PHONE, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    if cookie:
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    return context, page


def _assert_fits_the_phone(page) -> None:
    # Measure what the reader sees: after the stylesheet has loaded (a heading can be "visible" before it has,
    # when a link click starts the next page on a busy machine).
    page.wait_for_load_state("load")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= page.evaluate("innerWidth"), f"the page scrolls sideways ({width} px wide)"
    assert page.evaluate(STICKING_OUT) == []


def _header_height(page) -> float:
    return page.locator("header").bounding_box()["height"]


def test_phone_incident_page_fits_with_status_and_clocks_first(
    browser, live_server_url, demo, session_cookie_for
):
    incident = Incident.objects.get(status="investigating")
    context, page = _phone(browser, live_server_url, session_cookie_for(demo))
    try:
        page.goto(f"/portal/incidents/{incident.pk}/")

        _assert_fits_the_phone(page)
        assert _header_height(page) <= MAX_HEADER_PX
        expect(page.get_by_role("heading", level=1)).to_contain_text(incident.reference)
        expect(page.get_by_test_id("incident-status")).to_be_in_viewport()
        # On a phone the SLA clocks come straight after the header, before the forms and the timeline.
        clocks = page.locator("#panel-clocks").bounding_box()["y"]
        assert clocks < page.locator("#panel-actions").bounding_box()["y"]
        assert clocks < page.locator("#panel-timeline").bounding_box()["y"]
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "open")
        assert page.js_errors == []
    finally:
        context.close()


def test_phone_oncall_board_reflows_into_stacked_rows(browser, live_server_url, demo, session_cookie_for):
    context, page = _phone(browser, live_server_url, session_cookie_for(demo))
    try:
        page.goto("/portal/oncall/")

        _assert_fits_the_phone(page)
        assert _header_height(page) <= MAX_HEADER_PX
        rows = page.locator("tr[data-schedule]")
        expect(rows).to_have_count(6)  # the demo: three follow-the-sun schedules and three regional ones
        first = rows.first
        # A stacked row: its cells sit one under another, each named by its column.
        cells = first.locator("td")
        assert cells.nth(0).bounding_box()["y"] < cells.nth(1).bounding_box()["y"]
        assert (
            page.evaluate(
                "(cell) => getComputedStyle(cell, '::before').content", cells.nth(0).element_handle()
            )
            == '"On call now"'
        )
        expect(first.locator(".on-call-person")).to_be_in_viewport()
        expect(page.get_by_text("Fully covered").first).to_be_visible()
    finally:
        context.close()


def test_phone_portal_home_menu_opens_and_closes(browser, live_server_url, demo, session_cookie_for):
    context, page = _phone(browser, live_server_url, session_cookie_for(demo))
    try:
        page.goto("/portal/")

        _assert_fits_the_phone(page)
        assert _header_height(page) <= MAX_HEADER_PX
        expect(page.get_by_role("heading", name="War room", level=1)).to_be_in_viewport()
        incidents_link = page.get_by_role("navigation", name="Portal").get_by_role("link", name="Incidents")
        expect(incidents_link).to_be_hidden()

        page.locator("label", has_text="Menu").click()
        expect(incidents_link).to_be_visible()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        _assert_fits_the_phone(page)

        incidents_link.click()
        expect(page.get_by_role("heading", name="Incidents", level=1)).to_be_visible()
        _assert_fits_the_phone(page)
        assert page.js_errors == []
    finally:
        context.close()


def test_phone_menu_works_without_javascript(browser, live_server_url, demo, session_cookie_for):
    context, page = _phone(browser, live_server_url, session_cookie_for(demo), javascript=False)
    try:
        page.goto("/portal/oncall/")
        on_call = page.get_by_role("navigation", name="Portal").get_by_role("link", name="On-call")
        expect(on_call).to_be_hidden()
        page.locator("label", has_text="Menu").click()
        expect(on_call).to_be_visible()
        _assert_fits_the_phone(page)
    finally:
        context.close()


def test_phone_status_page_fits(browser, live_server_url, demo):
    context, page = _phone(browser, live_server_url)
    try:
        page.goto("/")

        _assert_fits_the_phone(page)
        assert _header_height(page) <= 2 * MAX_HEADER_PX  # the page's name and two links, no menu
        expect(page.locator(".banner")).to_be_in_viewport()
        expect(page.get_by_text("Elevated card payment declines in Europe").first).to_be_visible()
        assert page.js_errors == []
    finally:
        context.close()


# Every other portal page: tables that do not stack scroll inside themselves, never the page.
PORTAL_PAGES = [
    "/portal/incidents/",
    "/portal/incidents/declare/",
    "/portal/maintenance/",
    "/portal/oncall/checkout-sre-follow-the-sun/",
    "/portal/components/",
    "/portal/deliveries/",
    "/portal/subscribers/",
    "/portal/metrics/",
    "/portal/tokens/",
    "/portal/staff/",
    "/portal/audit/",
    "/history/",
]


def test_phone_no_portal_page_scrolls_sideways(browser, live_server_url, demo, session_cookie_for):
    admin = get_user_model().objects.get(username="ana")
    context, page = _phone(browser, live_server_url, session_cookie_for(admin))
    try:
        wide = {}
        for path in PORTAL_PAGES:
            page.goto(path)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            if width > page.evaluate("innerWidth"):
                wide[path] = width
            assert _header_height(page) <= MAX_HEADER_PX or path == "/history/"
        assert wide == {}
    finally:
        context.close()


# --- the war room's search boxes on a phone (issue 11: no <select> of every component or staff member) ---


def _live_incident() -> Incident:
    return Incident.objects.get(status="investigating")


def test_phone_war_room_adds_a_component_and_a_person_found_by_search(
    browser, live_server_url, demo, session_cookie_for
):
    incident = _live_incident()
    context, page = _phone(browser, live_server_url, session_cookie_for(demo))
    try:
        page.goto(f"/portal/incidents/{incident.pk}/")
        expect(page.locator("#incident")).to_have_attribute("data-live", "subscribed")
        # No select lists the components or the staff: the page offers search boxes.
        longest = page.evaluate("Math.max(...[...document.querySelectorAll('select')].map((s) => s.length))")
        assert longest <= 6  # impacts, statuses, severities, roles: never a table
        components = page.locator("#component-add-form")
        components.get_by_role("searchbox", name="Component").fill("wall")
        match = components.get_by_role("radio", name="Wallets (Apple Pay, Google Pay)")
        expect(match).to_be_visible()
        expect(components.get_by_role("radio")).to_have_count(1)
        _assert_fits_the_phone(page)
        match.focus()
        page.keyboard.press("Space")  # a match is picked from the keyboard like any radio button
        expect(match).to_be_checked()
        components.get_by_label("Impact").select_option("major_outage")
        components.get_by_role("button", name="Add or change").click()
        expect(page.locator("#panel-components")).to_contain_text("Wallets (Apple Pay, Google Pay)")
        expect(page.get_by_label("Impact on Wallets (Apple Pay, Google Pay)")).to_have_value("major_outage")

        page.get_by_text("Assign or hand over a role").click()
        roles = page.locator("#role-form")
        roles.get_by_label("Role").select_option("sme")
        roles.get_by_role("searchbox", name="Person").fill("jun")
        jun = roles.get_by_role("radio", name=re.compile("Jun Sato"))
        expect(jun).to_be_visible()
        _assert_fits_the_phone(page)
        jun.check()
        roles.get_by_role("button", name="Assign").click()
        expect(page.locator("#panel-roles")).to_contain_text("Subject-matter expert: Jun Sato")
        _assert_fits_the_phone(page)
        assert page.js_errors == []
    finally:
        context.close()


def test_phone_war_room_search_boxes_work_without_javascript(
    browser, live_server_url, demo, session_cookie_for
):
    incident = _live_incident()
    context, page = _phone(browser, live_server_url, session_cookie_for(demo), javascript=False)
    try:
        page.goto(f"/portal/incidents/{incident.pk}/")
        page.get_by_text("Assign or hand over a role").click()
        roles = page.locator("#role-form")
        roles.get_by_label("Role").select_option("sme")
        roles.get_by_role("searchbox", name="Person").fill("kiri@ops.example.com")
        roles.get_by_role("button", name="Assign").click()
        expect(page.locator("#panel-roles")).to_contain_text("Subject-matter expert: Kiri Walker")

        components = page.locator("#component-add-form")
        components.get_by_role("searchbox", name="Component").fill("Payout")  # not a whole name
        components.get_by_role("button", name="Add or change").click()
        expect(page.locator("#panel-components")).to_contain_text("No component is named “Payout”.")
        page.locator("#component-add-form").get_by_role("searchbox", name="Component").fill("payouts")
        page.locator("#component-add-form").get_by_role("button", name="Add or change").click()
        expect(page.locator("#panel-components")).to_contain_text("Payouts")
        _assert_fits_the_phone(page)
    finally:
        context.close()


# --- declaring on a phone (issue 11): the commander and the components are found, not listed ---


def test_phone_declare_finds_components_keeps_picks_and_a_commander(
    browser, live_server_url, demo, session_cookie_for
):
    context, page = _phone(browser, live_server_url, session_cookie_for(demo))
    try:
        page.goto("/portal/incidents/declare/")
        longest = page.evaluate("Math.max(...[...document.querySelectorAll('select')].map((s) => s.length))")
        assert longest <= 6  # severities, teams of the demo, impacts: never every component or person
        page.get_by_label("Title:", exact=True).fill("Wallet payments failing")
        find = page.get_by_role("searchbox", name="Find components")
        find.fill("wall")
        wallets = page.get_by_label("Wallets (Apple Pay, Google Pay)")
        expect(wallets).to_be_visible()
        wallets.select_option("major_outage")
        # A second search keeps what was picked, and offers the new matches beside it.
        find.fill("payouts")
        expect(page.get_by_label("Payouts")).to_be_visible()
        expect(page.get_by_label("Wallets (Apple Pay, Google Pay)")).to_have_value("major_outage")
        page.get_by_label("Payouts").select_option("degraded_performance")
        page.get_by_role("searchbox", name="Commander").fill("ben")
        ben = page.get_by_role("radio", name=re.compile("Ben Carter"))
        expect(ben).to_be_visible()
        ben.check()
        _assert_fits_the_phone(page)
        page.get_by_role("button", name="Declare", exact=True).last.click()
        expect(page.locator("#panel-components")).to_contain_text("Wallets (Apple Pay, Google Pay)")
        expect(page.locator("#panel-components")).to_contain_text("Payouts")
        expect(page.locator("#panel-roles")).to_contain_text("Ben Carter")
        assert page.js_errors == []
    finally:
        context.close()


def test_phone_declare_works_without_javascript(browser, live_server_url, demo, session_cookie_for):
    context, page = _phone(browser, live_server_url, session_cookie_for(demo), javascript=False)
    try:
        page.goto("/portal/incidents/declare/")
        page.get_by_label("Title:", exact=True).fill("Payouts delayed")
        page.get_by_role("searchbox", name="Find components").fill("payouts")
        page.get_by_role("button", name="Find").click()
        page.get_by_label("Payouts").select_option("partial_outage")
        page.get_by_role("searchbox", name="Commander").fill("ben@ops.example.com")
        _assert_fits_the_phone(page)
        page.get_by_role("button", name="Declare", exact=True).last.click()
        expect(page.locator("#panel-components")).to_contain_text("Payouts")
        expect(page.locator("#panel-roles")).to_contain_text("Ben Carter")
    finally:
        context.close()
