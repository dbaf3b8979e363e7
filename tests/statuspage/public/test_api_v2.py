"""/api/v2/*.json speaks Statuspage: same keys, nesting, nulls, enums and limits as a real Statuspage page."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from opsportal.changes.services import maintenance_schedule, maintenance_transition
from opsportal.incidents.services import incident_add_note, incident_declare, incident_post_update
from statuspage.models import Component, ComponentGroup
from statuspage.services import component_set_status

pytestmark = pytest.mark.django_db

# Copies of ../shared/reference kept in the repository, so a clone anywhere can run the contract tests.
REFERENCE = Path(__file__).resolve().parents[2] / "reference"
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical"}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")
SECRETS = (b"SECRET-title", b"SECRET-summary", b"SECRET-note")
ENDPOINTS = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]


def reference(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text())


REF_COMPONENTS = reference("statuspage-components.json")
REF_INCIDENTS = reference("statuspage-incidents.json")
REF_PAGE = REF_COMPONENTS["page"]
REF_COMPONENT = REF_COMPONENTS["components"][0]
REF_INCIDENT = REF_INCIDENTS["incidents"][0]
REF_UPDATE = REF_INCIDENT["incident_updates"][0]
REF_AFFECTED = REF_UPDATE["affected_components"][0]
# Statuspage's documented scheduled maintenance: an incident plus its window.
REF_MAINTENANCE_KEYS = set(REF_INCIDENT) | {"scheduled_for", "scheduled_until"}
REF_GROUP_KEYS = set(REF_COMPONENT) | {"components"}


def nullable_keys(value, found=None) -> set[str]:
    """Keys the reference shows as null somewhere: only those may be null in ours."""
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                found.add(key)
            nullable_keys(item, found)
    elif isinstance(value, list):
        for item in value:
            nullable_keys(item, found)
    return found


# The reference holds only resolved incidents; Statuspage documents resolved_at as null until resolution.
NULLABLE = nullable_keys(REF_INCIDENTS) | nullable_keys(REF_COMPONENTS) | {"resolved_at", "description"}


def assert_like(ours, theirs, where="$"):
    """Same keys at every level, same JSON types where both sides have a value, null only where allowed."""
    if ours is None:
        assert theirs is None or where.rsplit(".", 1)[-1] in NULLABLE, (
            where,
            "null where Statuspage has none",
        )
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert set(ours) == set(theirs), (where, set(ours) ^ set(theirs))
        for key in theirs:
            assert_like(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        if theirs and ours:
            for item in ours:
                assert_like(item, theirs[0], f"{where}[]")
    elif theirs is not None and ours is not None:
        assert type(ours) is type(theirs), (where, ours, theirs)
        if isinstance(theirs, str) and TIMESTAMP.match(theirs):
            assert TIMESTAMP.match(ours), (where, ours)


def assert_component(component):
    if component["group"]:
        assert set(component) == REF_GROUP_KEYS
        assert all(isinstance(child, str) for child in component["components"])
        assert_like({k: v for k, v in component.items() if k != "components"}, REF_COMPONENT)
    else:
        assert_like(component, REF_COMPONENT)
    assert component["status"] in COMPONENT_STATUSES


def assert_update(update, parent):
    assert_like(update, REF_UPDATE)
    assert update["incident_id"] == parent["id"]
    assert update["affected_components"] is None or update["affected_components"]
    for affected in update["affected_components"] or []:
        assert_like(affected, REF_AFFECTED)
        assert affected["old_status"] in COMPONENT_STATUSES and affected["new_status"] in COMPONENT_STATUSES


def assert_incident(incident):
    assert_like(incident, REF_INCIDENT)
    assert incident["status"] in INCIDENT_STATUSES
    assert incident["impact"] in IMPACTS
    for update in incident["incident_updates"]:
        assert_update(update, incident)
        assert update["status"] in INCIDENT_STATUSES
    for component in incident["components"]:
        assert_component(component)


def assert_maintenance(maintenance):
    assert set(maintenance) == REF_MAINTENANCE_KEYS
    assert_like({k: v for k, v in maintenance.items() if not k.startswith("scheduled_")}, REF_INCIDENT)
    assert TIMESTAMP.match(maintenance["scheduled_for"]) and TIMESTAMP.match(maintenance["scheduled_until"])
    assert maintenance["impact"] == "maintenance"
    assert maintenance["status"] in MAINTENANCE_STATUSES
    for update in maintenance["incident_updates"]:
        assert_update(update, maintenance)
        assert update["status"] in MAINTENANCE_STATUSES


def get_json(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.content[:300])
    assert response["Content-Type"] == "application/json"
    return response.json()


@pytest.fixture
def world(rob, irene):
    checkout = ComponentGroup.objects.create(name="Checkout", position=2)
    cards = Component.objects.create(name="Card payments", group=checkout, position=1)
    Component.objects.create(name="Wallets", group=checkout, position=2, status="degraded_performance")
    Component.objects.create(name="Internal billing job", group=checkout, showcase=False)
    api = Component.objects.create(name="API", position=1, description="The partner API")
    payouts = Component.objects.create(name="Payouts", position=3)

    resolved = incident_declare(
        actor=rob,
        title="SECRET-title: replica lag",
        summary="SECRET-summary",
        severity="P2",
        public_title="Slow card payments",
    )
    incident_post_update(
        actor=rob,
        incident=resolved,
        status="investigating",
        body="We are looking into slow card payments.",
        component_statuses=[(cards, "partial_outage")],
    )
    incident_post_update(actor=rob, incident=resolved, status="monitoring", body="A fix is in place.")
    incident_post_update(
        actor=rob,
        incident=resolved,
        status="resolved",
        body="Card payments are back to normal.",
        component_statuses=[(cards, "operational")],
    )
    active = incident_declare(
        actor=rob,
        title="SECRET-title: api 500s",
        severity="P1",
        public_title="API errors",
        components=[(api, "major_outage")],
        commander=irene,
    )
    incident_add_note(actor=rob, incident=active, body="SECRET-note: rolling back")
    incident_post_update(
        actor=rob,
        incident=active,
        status="identified",
        body="We found the cause of the API errors.",
        component_statuses=[(api, "major_outage")],
    )
    quiet = incident_declare(
        actor=rob, title="SECRET-title quiet", severity="P3", public_title="Never public"
    )

    now = timezone.now()
    upcoming = maintenance_schedule(
        actor=rob,
        title="Payout bank switch",
        body="Payouts pause for 30 minutes.",
        components=[payouts],
        scheduled_for=now + timedelta(days=2),
        scheduled_until=now + timedelta(days=2, minutes=30),
    )
    running = maintenance_schedule(
        actor=rob,
        title="Database upgrade",
        body="Reports may be slow.",
        components=[api],
        scheduled_for=now + timedelta(minutes=5),
        scheduled_until=now + timedelta(hours=1),
    )
    maintenance_transition(actor=rob, window=running, status="in_progress")
    done = maintenance_schedule(
        actor=rob,
        title="Cache resize",
        body="No impact expected.",
        components=[],
        scheduled_for=now + timedelta(minutes=1),
        scheduled_until=now + timedelta(minutes=20),
    )
    maintenance_transition(actor=rob, window=done, status="in_progress")
    maintenance_transition(actor=rob, window=done, status="completed")
    cancelled = maintenance_schedule(
        actor=rob,
        title="Cancelled window",
        body="Never mind.",
        components=[],
        scheduled_for=now + timedelta(days=3),
        scheduled_until=now + timedelta(days=3, hours=1),
    )
    maintenance_transition(actor=rob, window=cancelled, status="cancelled")
    return {
        "resolved": resolved,
        "active": active,
        "quiet": quiet,
        "cards": cards,
        "api": api,
        "upcoming": upcoming,
        "running": running,
        "done": done,
        "cancelled": cancelled,
    }


def test_the_reference_files_are_what_the_contract_assumes():
    assert TIMESTAMP.match(REF_PAGE["updated_at"]) and TIMESTAMP.match(REF_INCIDENT["created_at"])
    assert REF_INCIDENT["incident_updates"][0]["affected_components"] is not None
    assert any(
        u["affected_components"] is None for i in REF_INCIDENTS["incidents"] for u in i["incident_updates"]
    )


def test_v2_every_endpoint_has_the_page_object(client, world, settings):
    for path in ENDPOINTS:
        body = get_json(client, path)
        assert_like(body["page"], REF_PAGE)
        assert body["page"]["id"] == settings.STATUSPAGE_ID
        assert body["page"]["url"] == settings.PUBLIC_URL
        assert body["page"]["time_zone"] == "Etc/UTC"


def test_v2_components_match_statuspage_and_show_only_public_ones(client, world):
    body = get_json(client, "/api/v2/components.json")
    assert set(body) == set(REF_COMPONENTS)
    for component in body["components"]:
        assert_component(component)
    names = [c["name"] for c in body["components"]]
    assert names == ["API", "Checkout", "Card payments", "Wallets", "Payouts"]
    assert "Internal billing job" not in json.dumps(body)
    group = body["components"][1]
    assert group["group"] is True and group["group_id"] is None
    assert group["status"] == "degraded_performance"  # its worst component
    children = [c for c in body["components"] if c["group_id"] == group["id"]]
    assert [c["id"] for c in children] == group["components"]
    assert all("components" not in c for c in body["components"] if not c["group"])
    assert body["components"][0]["description"] == "The partner API"
    assert all(c["id"].strip() and isinstance(c["id"], str) for c in body["components"])


def test_v2_incidents_match_statuspage(client, world, settings):
    body = get_json(client, "/api/v2/incidents.json")
    assert set(body) == set(REF_INCIDENTS)
    for incident in body["incidents"]:
        assert_incident(incident)
    by_name = {i["name"]: i for i in body["incidents"]}
    assert set(by_name) == {"Slow card payments", "API errors"}

    resolved = by_name["Slow card payments"]
    assert resolved["status"] == "resolved" and resolved["impact"] == "minor"
    assert resolved["resolved_at"] is not None and resolved["monitoring_at"] is not None
    assert resolved["shortlink"] == f"{settings.PUBLIC_URL}/incidents/{world['resolved'].pk}/"
    statuses = [u["status"] for u in resolved["incident_updates"]]
    assert statuses == ["resolved", "monitoring", "investigating"]  # newest first
    first, middle, _ = resolved["incident_updates"]
    assert first["affected_components"] == [
        {
            "code": str(world["cards"].pk),
            "name": "Card payments",
            "old_status": "partial_outage",
            "new_status": "operational",
        }
    ]
    assert middle["affected_components"] is None  # Statuspage: null, not [], when nothing changed

    active = by_name["API errors"]
    assert active["status"] == "identified" and active["impact"] == "major"
    assert active["resolved_at"] is None and active["monitoring_at"] is None
    assert [c["name"] for c in active["components"]] == ["API"]


def test_v2_unresolved_leaves_out_resolved_incidents(client, world):
    body = get_json(client, "/api/v2/incidents/unresolved.json")
    assert [i["name"] for i in body["incidents"]] == ["API errors"]
    for incident in body["incidents"]:
        assert_incident(incident)


def test_v2_incidents_lists_the_50_most_recent(client, rob):
    now = timezone.now()
    for n in range(55):
        incident = incident_declare(
            actor=rob,
            title=f"internal {n}",
            severity="P3",
            public_title=f"Public {n}",
            started_at=now - timedelta(minutes=60 - n),
        )
        incident_post_update(actor=rob, incident=incident, status="investigating", body=f"Update {n}")
    names = [i["name"] for i in get_json(client, "/api/v2/incidents.json")["incidents"]]
    assert names == [f"Public {n}" for n in range(54, 4, -1)]


def test_v2_scheduled_maintenances_match_statuspage(client, world):
    body = get_json(client, "/api/v2/scheduled-maintenances.json")
    assert set(body) == {"page", "scheduled_maintenances"}
    for maintenance in body["scheduled_maintenances"]:
        assert_maintenance(maintenance)
    by_name = {m["name"]: m for m in body["scheduled_maintenances"]}
    # Statuspage has no "cancelled": a cancelled window is not listed (the calendar marks it CANCELLED).
    assert set(by_name) == {"Payout bank switch", "Database upgrade", "Cache resize"}
    done = by_name["Cache resize"]
    assert done["status"] == "completed" and done["resolved_at"] is not None
    assert [u["status"] for u in done["incident_updates"]] == ["completed", "in_progress", "scheduled"]
    assert by_name["Payout bank switch"]["components"][0]["name"] == "Payouts"
    assert by_name["Payout bank switch"]["shortlink"].endswith(f"/maintenance/{world['upcoming'].pk}/")


def test_v2_upcoming_and_active_maintenances_filter_by_status(client, world):
    upcoming = get_json(client, "/api/v2/scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    active = get_json(client, "/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert [m["name"] for m in upcoming] == ["Payout bank switch"]
    assert [m["name"] for m in active] == ["Database upgrade"]
    assert active[0]["status"] == "in_progress"
    for maintenance in upcoming + active:
        assert_maintenance(maintenance)


def test_v2_scheduled_maintenances_lists_the_50_most_recent(client, rob):
    now = timezone.now()
    for n in range(55):
        maintenance_schedule(
            actor=rob,
            title=f"Window {n}",
            body="Routine.",
            components=[],
            scheduled_for=now + timedelta(hours=n + 1),
            scheduled_until=now + timedelta(hours=n + 2),
        )
    names = [
        m["name"] for m in get_json(client, "/api/v2/scheduled-maintenances.json")["scheduled_maintenances"]
    ]
    assert names == [f"Window {n}" for n in range(54, 4, -1)]


def test_v2_summary_and_status(client, world):
    summary = get_json(client, "/api/v2/summary.json")
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    for component in summary["components"]:
        assert_component(component)
    for incident in summary["incidents"]:
        assert_incident(incident)
    for maintenance in summary["scheduled_maintenances"]:
        assert_maintenance(maintenance)
    assert [i["name"] for i in summary["incidents"]] == ["API errors"]
    assert {m["name"] for m in summary["scheduled_maintenances"]} == {
        "Payout bank switch",
        "Database upgrade",
    }
    # API is under maintenance, Wallets degraded, and an unresolved P1 (impact major) is open.
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}

    status = get_json(client, "/api/v2/status.json")
    assert set(status) == {"page", "status"}
    assert status["status"] == summary["status"]
    assert status["status"]["indicator"] in INDICATORS


def test_v2_status_says_maintenance_while_a_window_runs(client, rob):
    component = Component.objects.create(name="Reports")
    window = maintenance_schedule(
        actor=rob,
        title="Reports upgrade",
        body="Reports pause.",
        components=[component],
        scheduled_for=timezone.now() + timedelta(minutes=1),
        scheduled_until=timezone.now() + timedelta(hours=1),
    )
    maintenance_transition(actor=rob, window=window, status="in_progress")
    assert get_json(client, "/api/v2/status.json")["status"] == {
        "indicator": "maintenance",
        "description": "Service Under Maintenance",
    }


def test_v2_an_empty_page_is_all_systems_operational(client, db):
    body = get_json(client, "/api/v2/summary.json")
    assert body["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert body["components"] == [] and body["incidents"] == [] and body["scheduled_maintenances"] == []
    assert body["page"]["updated_at"] is None or TIMESTAMP.match(body["page"]["updated_at"])


def test_v2_no_internal_field_appears_in_any_body(client, world):
    for path in ENDPOINTS:
        content = client.get(path).content
        for secret in (*SECRETS, b"Never public", b"Internal billing job"):
            assert secret not in content, (path, secret)


def test_v2_etag_and_if_none_match_give_304(client, world):
    first = client.get("/api/v2/summary.json")
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    assert "max-age" in first["Cache-Control"]
    again = client.get("/api/v2/summary.json", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Access-Control-Allow-Origin"] == "*"


def test_v2_is_open_to_any_origin(client, world):
    for path in ENDPOINTS:
        assert (
            client.get(path, headers={"Origin": "https://merchant.example"})["Access-Control-Allow-Origin"]
            == "*"
        )
    preflight = client.options(
        "/api/v2/summary.json",
        headers={"Origin": "https://merchant.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight["Access-Control-Allow-Methods"]


def test_v2_is_read_only(client, db):
    response = client.post("/api/v2/summary.json", {}, content_type="application/json")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


def test_v2_unknown_paths_are_problem_404s(client, db):
    for path in ["/api/v2/nope.json", "/api/v2/incidents/123.json", "/api/v2/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 404


def test_v2_a_committed_component_change_shows_on_the_very_next_request(
    client, world, rob, django_capture_on_commit_callbacks
):
    def cards_status():
        body = get_json(client, "/api/v2/components.json")
        return next(c["status"] for c in body["components"] if c["name"] == "Card payments")

    assert cards_status() == "operational"
    etag = client.get("/api/v2/components.json")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        component_set_status(actor=rob, component=world["cards"], status="major_outage")
    assert cards_status() == "major_outage"
    assert client.get("/api/v2/components.json", headers={"If-None-Match": etag}).status_code == 200


def test_v2_renders_once_per_public_version(client, world, django_assert_num_queries):
    client.get("/api/v2/summary.json")
    with django_assert_num_queries(0):
        assert client.get("/api/v2/summary.json").status_code == 200


def test_v2_incidents_query_count_does_not_grow_with_incidents(client, rob, django_assert_max_num_queries):
    component = Component.objects.create(name="Checkout")
    for n in range(10):
        incident = incident_declare(actor=rob, title=f"i{n}", severity="P2", public_title=f"P{n}")
        incident_post_update(
            actor=rob,
            incident=incident,
            status="investigating",
            body="Looking.",
            component_statuses=[(component, "partial_outage")],
        )
    with django_assert_max_num_queries(10):
        assert len(get_json(client, "/api/v2/incidents.json")["incidents"]) == 10
