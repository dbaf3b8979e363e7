"""Incidents through API v1: declare, list, read, and every action, with problems for refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from oncall.models import Team
from opsportal.core.models import AuditEntry
from opsportal.incidents import services
from opsportal.incidents.models import Incident, IncidentRole, PublicUpdate, TimelineEvent
from statuspage.models import Component

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/v1/incidents/"


def url(incident, action=""):
    return f"{INCIDENTS}{incident.pk}/" + (f"{action}/" if action else "")


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:opsportal:problem:")
    return body


@pytest.fixture
def checkout():
    return Component.objects.create(name="Checkout")


@pytest.fixture
def write_token(rob, make_token):
    return make_token(rob, "incidents:read,incidents:write")


@pytest.fixture
def commander_token(irene, make_token):
    return make_token(irene, "incidents:write")


def _declare(actor, title="Checkout errors", severity="P2", **kwargs):
    return services.incident_declare(actor=actor, title=title, severity=severity, **kwargs)


def test_declare_answers_201_with_the_incident_timeline_and_audit(api, rob, irene, checkout, write_token):
    response = api.post(
        INCIDENTS,
        {
            "title": "Card payments failing",
            "severity": "P1",
            "public_title": "Payment issues",
            "components": [{"id": checkout.pk, "impact": "major_outage"}],
            "commander": "irene",
        },
        token=write_token,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    incident = Incident.objects.get(pk=body["id"])
    assert body["reference"] == f"INC-{incident.pk}"
    assert (body["title"], body["public_title"], body["severity"]) == (
        "Card payments failing",
        "Payment issues",
        "P1",
    )
    assert (body["status"], body["public_status"]) == ("triage", "investigating")
    assert body["roles"] == [
        {"role": "commander", "user": "irene", "assigned_at": body["roles"][0]["assigned_at"]}
    ]
    assert body["components"] == [{"id": checkout.pk, "name": "Checkout", "impact": "major_outage"}]
    assert {clock["name"] for clock in body["sla"]} == {"detect", "respond", "resolve"}
    assert body["links"]["self"].endswith(url(incident))
    assert "declared" in incident.timeline.values_list("kind", flat=True)
    entry = AuditEntry.objects.get(action="incident.declared")
    assert entry.actor == rob


def test_declare_with_unknown_names_and_ids_is_400_with_field_errors(api, write_token):
    response = api.post(
        INCIDENTS,
        {
            "title": "x",
            "severity": "P2",
            "commander": "nobody",
            "team": 999999,
            "components": [{"id": 999999, "impact": "major_outage"}],
        },
        token=write_token,
    )
    errors = assert_problem(response, 400)["errors"]
    assert set(errors) == {"commander", "team", "components"}
    assert "id" in errors["components"]["0"]
    assert not Incident.objects.exists()


def test_a_bad_severity_is_400_naming_the_field(api, write_token):
    response = api.post(INCIDENTS, {"title": "x", "severity": "P9"}, token=write_token)
    assert "severity" in assert_problem(response, 400)["errors"]


def test_a_future_start_is_refused_by_the_service_as_a_400(api, write_token):
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    response = api.post(INCIDENTS, {"title": "x", "severity": "P2", "started_at": later}, token=write_token)
    assert "started_at" in assert_problem(response, 400)["errors"]


def test_malformed_json_is_a_400_problem(api, write_token):
    response = api.post(INCIDENTS, '{"title": ', token=write_token)
    body = assert_problem(response, 400)
    assert body["type"].endswith("malformed-body")


def test_a_read_token_cannot_write_and_no_token_is_401(api, rob, make_token):
    read_token = make_token(rob, "incidents:read")
    assert api.get(INCIDENTS, token=read_token).status_code == 200
    assert_problem(api.post(INCIDENTS, {"title": "x", "severity": "P2"}, token=read_token), 403)
    assert_problem(api.get(INCIDENTS), 401)
    other_area = make_token(rob, "statuspage:write")
    assert_problem(api.get(INCIDENTS, token=other_area), 403)
    assert not Incident.objects.exists()


def test_list_filters_by_severity_status_team_component_and_dates(api, rob, checkout, write_token):
    payments = Team.objects.create(name="Payments", slug="payments")
    now = timezone.now()
    old = _declare(
        rob, "Old blip", "P3", started_at=now - timedelta(days=10), detected_at=now - timedelta(days=10)
    )
    p1 = _declare(rob, "Card failures", "P1", team=payments, components=[(checkout, "partial_outage")])
    declined = _declare(rob, "False alarm", "P4")
    services.incident_transition(actor=rob, incident=declined, status="declined")

    def ids(query):
        response = api.get(INCIDENTS + query, token=write_token)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [declined.pk, p1.pk, old.pk]
    assert ids("?severity=P1") == [p1.pk]
    assert ids("?status=declined") == [declined.pk]
    assert ids(f"?team={payments.pk}") == [p1.pk]
    assert ids(f"?component={checkout.pk}") == [p1.pk]
    day = (now - timedelta(days=10)).date().isoformat()
    assert ids(f"?since={day}&until={day}") == [old.pk]
    assert ids(f"?since={(now - timedelta(days=1)).date().isoformat()}") == [declined.pk, p1.pk]


def test_list_searches_titles_and_references(api, rob, write_token):
    card = _declare(rob, "Card failures", summary="acquirer timeouts")
    _declare(rob, "Slow dashboard")
    assert [r["id"] for r in api.get(INCIDENTS + "?q=acquirer", token=write_token).json()["results"]] == [
        card.pk
    ]
    assert [
        r["id"] for r in api.get(INCIDENTS + f"?q=INC-{card.pk}", token=write_token).json()["results"]
    ] == [card.pk]


@pytest.mark.parametrize(
    "query, field",
    [
        ("severity=P9", "severity"),
        ("status=open", "status"),
        ("team=abc", "team"),
        ("since=yesterday", "since"),
    ],
)
def test_bad_list_filters_are_400_problems(api, write_token, query, field):
    response = api.get(f"{INCIDENTS}?{query}", token=write_token)
    assert field in assert_problem(response, 400)["errors"]


def test_list_paginates_with_a_bounded_number_of_queries(
    api, rob, irene, checkout, write_token, django_assert_max_num_queries
):
    for n in range(12):
        incident = _declare(rob, f"Incident {n}", components=[(checkout, "degraded_performance")])
        services.incident_assign_role(actor=rob, incident=incident, role=IncidentRole.COMMANDER, user=irene)
    # token, the holder's current role, last-used stamp, count, page, roles, components: none per row.
    with django_assert_max_num_queries(7):
        response = api.get(INCIDENTS + "?page_size=5&page=2", token=write_token)
    body = response.json()
    assert body["count"] == 12 and len(body["results"]) == 5
    assert body["next"] and body["previous"]
    assert all(row["roles"][0]["user"] == "irene" for row in body["results"])


def test_retrieve_unknown_incident_is_404_problem(api, write_token):
    assert_problem(api.get(f"{INCIDENTS}999999/", token=write_token), 404)


def test_an_illegal_transition_is_a_409_and_changes_nothing(api, rob, write_token):
    incident = _declare(rob)
    events = incident.timeline.count()
    response = api.post(url(incident, "transition"), {"status": "closed"}, token=write_token)
    assert "cannot go from triage to closed" in assert_problem(response, 409)["detail"]
    incident.refresh_from_db()
    assert incident.status == "triage" and incident.closed_at is None
    assert incident.timeline.count() == events


def test_a_legal_transition_answers_with_the_updated_incident(api, rob, write_token):
    incident = _declare(rob)
    response = api.post(
        url(incident, "transition"), {"status": "identified", "note": "bad deploy"}, token=write_token
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "identified" and body["acknowledged_at"] is not None
    assert incident.timeline.filter(kind="status", body__contains="bad deploy").exists()


def test_a_p0_cannot_leave_triage_without_a_commander(api, rob, irene, write_token):
    incident = _declare(rob, severity="P0")
    response = api.post(url(incident, "transition"), {"status": "investigating"}, token=write_token)
    assert "commander" in assert_problem(response, 409)["detail"]
    api.post(url(incident, "roles"), {"role": "commander", "user": "irene"}, token=write_token)
    response = api.post(url(incident, "transition"), {"status": "investigating"}, token=write_token)
    assert response.status_code == 200 and response.json()["status"] == "investigating"


def test_a_taken_role_is_409_unless_replace(api, rob, irene, alice, write_token):
    incident = _declare(rob, commander=irene)
    response = api.post(url(incident, "roles"), {"role": "commander", "user": "alice"}, token=write_token)
    assert "irene" in assert_problem(response, 409)["detail"]
    response = api.post(
        url(incident, "roles"), {"role": "commander", "user": "alice", "replace": True}, token=write_token
    )
    assert response.status_code == 200, response.content
    assert [(r["role"], r["user"]) for r in response.json()["roles"]] == [("commander", "alice")]


def test_roles_refuse_unknown_users_and_can_be_relieved(api, rob, write_token):
    incident = _declare(rob)
    response = api.post(url(incident, "roles"), {"role": "scribe", "user": "ghost"}, token=write_token)
    assert "user" in assert_problem(response, 400)["errors"]
    assert api.post(url(incident, "roles"), {"role": "scribe", "user": "rob"}, token=write_token).json()[
        "roles"
    ]
    response = api.post(url(incident, "roles/relieve"), {"role": "scribe", "user": "rob"}, token=write_token)
    assert response.status_code == 200 and response.json()["roles"] == []
    again = api.post(url(incident, "roles/relieve"), {"role": "scribe", "user": "rob"}, token=write_token)
    assert_problem(again, 409)


def test_acknowledge_severity_and_components(api, rob, checkout, write_token):
    incident = _declare(rob)
    body = api.post(url(incident, "acknowledge"), token=write_token).json()
    assert body["acknowledged_at"] is not None
    body = api.post(
        url(incident, "severity"), {"severity": "P1", "reason": "spreading"}, token=write_token
    ).json()
    assert body["severity"] == "P1"
    bad = api.post(url(incident, "severity"), {"severity": "P7"}, token=write_token)
    assert "severity" in assert_problem(bad, 400)["errors"]
    body = api.post(
        url(incident, "components"), {"component": checkout.pk, "impact": "partial_outage"}, token=write_token
    ).json()
    assert body["components"] == [{"id": checkout.pk, "name": "Checkout", "impact": "partial_outage"}]
    operational = api.post(
        url(incident, "components"), {"component": checkout.pk, "impact": "operational"}, token=write_token
    )
    assert "impact" in assert_problem(operational, 400)["errors"]
    body = api.post(
        url(incident, "components"), {"component": checkout.pk, "impact": None}, token=write_token
    ).json()
    assert body["components"] == []
    unknown = api.post(url(incident, "components"), {"component": 999999, "impact": None}, token=write_token)
    assert "component" in assert_problem(unknown, 400)["errors"]


def test_a_public_update_moves_components_and_the_incident(api, rob, checkout, write_token):
    incident = _declare(rob)
    response = api.post(
        url(incident, "updates"),
        {
            "status": "identified",
            "body": "Card payments are failing; we found the cause.",
            "components": [{"id": checkout.pk, "status": "major_outage"}],
        },
        token=write_token,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "identified" and body["author"] == "rob"
    assert body["components"] == [
        {
            "component_id": checkout.pk,
            "name": "Checkout",
            "old_status": "operational",
            "status": "major_outage",
        }
    ]
    checkout.refresh_from_db()
    assert checkout.status == "major_outage"
    incident.refresh_from_db()
    assert incident.status == "identified"
    detail = api.get(url(incident), token=write_token).json()
    assert detail["public_status"] == "identified"
    assert detail["components"] == [{"id": checkout.pk, "name": "Checkout", "impact": "major_outage"}]


def test_a_public_update_with_a_bad_status_is_400(api, rob, write_token):
    incident = _declare(rob)
    response = api.post(url(incident, "updates"), {"status": "closed", "body": "x"}, token=write_token)
    assert "status" in assert_problem(response, 400)["errors"]
    assert not PublicUpdate.objects.exists()


def test_notes_stay_on_the_timeline_and_never_in_public_updates(api, rob, write_token):
    incident = _declare(rob)
    note = api.post(
        url(incident, "notes"), {"body": "Secret: acquirer X is down", "pinned": True}, token=write_token
    )
    assert note.status_code == 201, note.content
    assert note.json()["kind"] == "note" and note.json()["pinned"] is True
    api.post(
        url(incident, "updates"), {"status": "investigating", "body": "Looking into it"}, token=write_token
    )
    updates = api.get(url(incident, "updates"), token=write_token).json()
    assert [u["body"] for u in updates["results"]] == ["Looking into it"]
    assert "Secret" not in str(updates)
    timeline = api.get(url(incident, "timeline"), token=write_token).json()["results"]
    assert [event["kind"] for event in timeline] == ["declared", "note", "public_update"]


def test_the_timeline_exports_as_markdown(api, rob, write_token):
    incident = _declare(rob, "Card failures")
    services.incident_add_note(actor=rob, incident=incident, body="Rolled back build 42")
    response = api.get(url(incident, "timeline") + "?format=markdown", token=write_token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith(f"# INC-{incident.pk}: Card failures")
    assert "Rolled back build 42" in text
    by_header = api.get(url(incident, "timeline"), token=write_token, HTTP_ACCEPT="text/markdown")
    assert by_header.content.decode() == text


def test_merge_joins_an_active_incident(api, rob, write_token):
    duplicate, main = _declare(rob, "Dup"), _declare(rob, "Main")
    response = api.post(url(duplicate, "merge"), {"into": main.pk}, token=write_token)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["merged_into"]) == ("merged", main.pk)
    assert main.timeline.filter(kind=TimelineEvent.Kind.MERGED).exists()
    itself = api.post(url(main, "merge"), {"into": main.pk}, token=write_token)
    assert "into" in assert_problem(itself, 400)["errors"]
    unknown = api.post(url(main, "merge"), {"into": 999999}, token=write_token)
    assert "into" in assert_problem(unknown, 400)["errors"]


def test_the_schema_documents_the_incident_endpoints(client):
    schema = client.get("/api/v1/schema/", headers={"Accept": "application/json"}).json()
    declare = schema["paths"]["/api/v1/incidents/"]["post"]
    # Request components carry a "Request" suffix (COMPONENT_SPLIT_REQUEST): input and output differ.
    assert declare["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "IncidentDeclareInputRequest"
    )
    assert "201" in declare["responses"]
    assert "/api/v1/incidents/{incident_id}/postmortem/action-items/" in schema["paths"]
