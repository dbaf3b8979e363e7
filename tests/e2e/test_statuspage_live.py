"""The public page changes live, without a reload, when an incident update is posted through the API."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from opsportal.core.roles import Role
from statuspage.models import Component

pytestmark = pytest.mark.browser


def _post(base_url: str, path: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 (loopback test server)
        base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback test server)
        return json.loads(response.read())


def test_the_public_page_updates_live_when_an_update_is_posted_through_the_api(
    page, live_server_url, make_staff, make_token, transactional_db
):
    rob = make_staff("rob", Role.RESPONDER)
    token = make_token(rob, "incidents:write,statuspage:read")
    checkout = Component.objects.create(name="Checkout")

    page.goto("/")
    expect(page.get_by_role("heading", name="All Systems Operational")).to_be_visible()
    expect(page.locator("#live-state")).to_have_text("· live")
    page.evaluate("window.__not_reloaded = true")

    incident = _post(
        live_server_url,
        "/api/v1/incidents/",
        token,
        {"title": "db-7 primary OOM", "public_title": "Checkout errors", "severity": "P1"},
    )
    _post(
        live_server_url,
        f"/api/v1/incidents/{incident['id']}/updates/",
        token,
        {
            "status": "investigating",
            "body": "Some checkouts are failing; we are on it.",
            "components": [{"id": checkout.pk, "status": "major_outage"}],
        },
    )

    # Browsers spread their refetch over up to 3 s (status.js JITTER_MS) and production renders through a
    # worker first, so the wait is the suite's 10 s: still a third of the 30 s poll, so only the socket passes.
    expect(page.get_by_role("heading", name="Major System Outage")).to_be_visible()
    expect(page.get_by_text("Some checkouts are failing; we are on it.")).to_be_visible()
    expect(page.get_by_role("heading", name="Checkout errors")).to_be_visible()
    assert page.evaluate("window.__not_reloaded") is True
    assert "db-7" not in page.content()
    assert page.js_errors == []
