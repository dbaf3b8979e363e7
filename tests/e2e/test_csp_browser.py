"""Every page loads in a real browser under the strict Content-Security-Policy with no violation: no inline script
or style, no eval, nothing from another origin (the public pages, the portal with htmx, the API docs)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command

from opsportal.core.roles import Role

pytestmark = pytest.mark.browser

# Listens before any page script runs (Playwright's init scripts are not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || ""}:${event.lineNumber || ""}`);
});
"""


def _load_demo() -> None:
    from django.db import connection

    try:
        call_command("load_demo", "--allow-production", verbosity=0)  # the suite runs with DEBUG off
    finally:
        connection.close()


def _pages_with_demo_data() -> tuple[list[str], list[str]]:
    from opsportal.changes.models import MaintenanceWindow
    from opsportal.incidents.models import Incident
    from opsportal.notifications.models import Message

    # In a thread of its own: load_demo broadcasts through async_to_sync, and Playwright's loop runs in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_load_demo).result()
    public = ["/", "/history/", "/subscribe/", "/portal/login/", "/api/v1/docs/"]
    portal = [
        "/portal/",
        "/portal/incidents/",
        "/portal/incidents/declare/",
        "/portal/maintenance/",
        "/portal/maintenance/new/",
        "/portal/oncall/",
        "/portal/components/",
        "/portal/deliveries/",
        "/portal/subscribers/",
        "/portal/metrics/",
        "/portal/tokens/",
        "/portal/staff/",
        "/portal/audit/",
    ]
    incident = Incident.objects.order_by("pk").first()
    if incident is not None:
        public.append(f"/incidents/{incident.pk}/")
        portal += [f"/portal/incidents/{incident.pk}/", f"/portal/incidents/{incident.pk}/postmortem/"]
    window = MaintenanceWindow.objects.order_by("pk").first()
    if window is not None:
        public.append(f"/maintenance/{window.pk}/")
        portal.append(f"/portal/maintenance/{window.pk}/")
    message = Message.objects.order_by("pk").first()
    if message is not None:
        portal.append(f"/portal/deliveries/{message.pk}/")
    return public, portal


def _visit(page, path: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), path
    page.wait_for_load_state("networkidle")
    return [f"{path}: {violation}" for violation in page.evaluate("window.__cspViolations")]


def test_pages_load_without_csp_violations(page, live_server_url, make_staff, session_cookie_for):
    page.add_init_script(RECORD_VIOLATIONS)
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            console_errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    public, portal = _pages_with_demo_data()
    ana = make_staff("csp-admin", Role.ADMIN)

    violations = []
    for path in public:
        violations += _visit(page, path)
    page.context.add_cookies(
        [{"name": "sessionid", "value": session_cookie_for(ana), "url": live_server_url}]
    )
    for path in portal:
        violations += _visit(page, path)

    assert violations == []
    assert console_errors == []
    assert page.js_errors == []
