"""The portal in a real browser against the real server: sign in, live socket, a timer's toast, redirects."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from opsportal.core.roles import Role

pytestmark = pytest.mark.browser

# A timer due in 1 s waits for the next 1 s tick, then for a worker: generous, but far from a hang.
LIVE_EVENT_TIMEOUT_MS = 15_000


def sign_in_with_cookie(page, live_server_url, session_cookie: str) -> None:
    page.context.add_cookies([{"name": "sessionid", "value": session_cookie, "url": live_server_url}])


def test_portal_sign_in_shows_war_room_role_and_live_socket(
    page, transactional_db, real_password_hashing, make_staff
):
    make_staff("rob", Role.RESPONDER)

    page.goto("/portal/login/")
    page.get_by_label("Username").fill("rob")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("heading", level=1, name="War room")).to_be_visible()
    expect(page.locator(".who .role-badge")).to_have_text("Responder")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "open")
    assert page.js_errors == []


def test_portal_live_check_toast_arrives_from_background_timer(
    page, live_server_url, make_staff, session_cookie_for
):
    rob = make_staff("rob", Role.RESPONDER)
    sign_in_with_cookie(page, live_server_url, session_cookie_for(rob))
    page.goto("/portal/")
    # Subscribe first: an event broadcast before the socket joins its group is gone for good.
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "open")

    live_check = page.locator("#live-check")
    live_check.get_by_label("Fire in (seconds)").fill("1")
    live_check.get_by_role("button", name="Send live check").click()

    expect(page.locator("#live-check").get_by_role("status")).to_contain_text("Timer set for")
    toast = page.locator("#toasts .toast").filter(has_text="Live check: a timer fired in the background")
    expect(toast).to_be_visible(timeout=LIVE_EVENT_TIMEOUT_MS)
    # htmx swapped the form in place: the page (and its socket) never reloaded.
    expect(page).to_have_url(re.compile(r"/portal/$"))
    assert page.js_errors == []


def test_portal_anonymous_visitor_is_sent_to_sign_in(page):
    page.goto("/portal/")

    expect(page).to_have_url(re.compile(r"/portal/login/\?next=/portal/$"))
    expect(page.get_by_role("heading", name="Sign in to opsportal")).to_be_visible()
