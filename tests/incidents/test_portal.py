"""The war room in the staff portal: who may see and act, form errors, conflicts, public updates,
timeline export, metrics and SLA settings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsportal.core.services import SYSTEM
from opsportal.incidents.models import Incident, Postmortem, SeverityPolicy, TimelineEvent
from opsportal.incidents.services import incident_add_note, incident_declare
from statuspage.models import Component

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "responder", "incident_commander", "admin")


@pytest.fixture
def api_component(db):
    return Component.objects.create(name="Payments API")


@pytest.fixture
def incident(db, api_component):
    return incident_declare(
        actor=SYSTEM,
        title="Card payments failing",
        public_title="Payment errors",
        severity="P2",
        components=[(api_component, "partial_outage")],
    )


def _pages(incident) -> list[str]:
    return [
        reverse("portal:incident_list"),
        reverse("portal:incident_detail", args=[incident.pk]),
        reverse("portal:incident_panel", args=[incident.pk, "timeline"]),
        reverse("portal:incident_timeline_md", args=[incident.pk]),
        reverse("portal:incident_postmortem", args=[incident.pk]),
        reverse("portal:metrics"),
    ]


def test_incident_pages_open_for_every_staff_role(personas, client_for, incident):
    for role in ROLES:
        client = client_for(personas[role])
        for url in _pages(incident):
            assert client.get(url).status_code == 200, (role, url)


def test_incident_pages_refuse_outsiders_and_send_anonymous_to_login(personas, client_for, client, incident):
    outsider = client_for(personas["none"])
    for url in _pages(incident):
        assert outsider.get(url).status_code == 403, url
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:login"))


def test_incident_viewer_sees_the_page_but_every_action_is_refused(
    personas, client_for, incident, api_component
):
    vera = client_for(personas["viewer"])
    page = vera.get(reverse("portal:incident_detail", args=[incident.pk]))
    assert b"Card payments failing" in page.content
    assert b"Add note" not in page.content  # no forms offered
    event = incident.timeline.first()
    actions = {
        "portal:incident_transition": {"status": "investigating"},
        "portal:incident_acknowledge": {},
        "portal:incident_severity": {"severity": "P1"},
        "portal:incident_role_assign": {"role": "scribe", "user": personas["viewer"].pk},
        "portal:incident_take_command": {},
        "portal:incident_component": {"component": api_component.pk, "impact": ""},
        "portal:incident_note": {"body": "hello"},
        "portal:incident_public_update": {"status": "identified", "body": "Found it"},
        "portal:incident_merge": {"into": incident.pk},
        "portal:incident_postmortem_start": {},
    }
    for name, data in actions.items():
        assert vera.post(reverse(name, args=[incident.pk]), data).status_code == 403, name
    pin = reverse("portal:timeline_pin", args=[incident.pk, event.pk])
    assert vera.post(pin, {"pinned": "on"}).status_code == 403
    assert vera.get(reverse("portal:incident_declare")).status_code == 403
    incident.refresh_from_db()
    assert incident.status == "triage" and incident.severity == "P2" and incident.acknowledged_at is None
    assert not incident.timeline.filter(kind=TimelineEvent.Kind.NOTE).exists()


def test_incident_declare_form_creates_incident_and_redirects_to_command_page(
    personas, client_for, api_component
):
    response = client_for(personas["responder"]).post(
        reverse("portal:incident_declare"),
        {
            "title": "Checkout slow",
            "public_title": "Slow checkout",
            "severity": "P3",
            "summary": "p95 up",
            f"impact_{api_component.pk}": "degraded_performance",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:incident_detail", args=[incident.pk])
    assert incident.affected_components.get().impact == "degraded_performance"


def test_incident_declare_form_errors_are_shown_and_nothing_saved(personas, client_for):
    client = client_for(personas["responder"])
    response = client.post(reverse("portal:incident_declare"), {"title": "", "severity": "P9"})
    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert b"P9 is not one of the available choices" in response.content
    # Meaning, checked by the service: a blank title after stripping.
    response = client.post(reverse("portal:incident_declare"), {"title": "   ", "severity": "P2"})
    assert response.status_code == 400
    assert Incident.objects.count() == 0


def test_incident_commander_choice_checked_by_service(personas, client_for):
    response = client_for(personas["responder"]).post(
        reverse("portal:incident_declare"),
        {"title": "DB down", "severity": "P2", "commander": personas["responder"].pk},
    )
    assert response.status_code == 400
    assert b"does not hold the incident commander role" in response.content
    assert Incident.objects.count() == 0


def test_incident_illegal_transition_shows_conflict_and_changes_nothing(personas, client_for, incident):
    incident.status = "closed"
    incident.save(update_fields=["status"])
    before = incident.timeline.count()
    response = client_for(personas["responder"]).post(
        reverse("portal:incident_transition", args=[incident.pk]),
        {"status": "investigating"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "cannot go from closed to investigating" in response.content.decode()
    assert 'id="panel-header"' in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "closed"
    assert incident.timeline.count() == before


def test_incident_transition_through_the_page(personas, client_for, incident):
    response = client_for(personas["responder"]).post(
        reverse("portal:incident_transition", args=[incident.pk]), {"status": "investigating"}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "investigating"


def test_incident_public_update_changes_component_status(personas, client_for, incident, api_component):
    response = client_for(personas["responder"]).post(
        reverse("portal:incident_public_update", args=[incident.pk]),
        {
            "status": "monitoring",
            "body": "A fix is out.",
            f"component_{api_component.pk}": "degraded_performance",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "incident-refresh"
    api_component.refresh_from_db()
    incident.refresh_from_db()
    assert api_component.status == "degraded_performance"
    assert incident.status == "monitoring"
    update = incident.public_updates.get()
    assert update.body == "A fix is out."
    assert update.component_statuses[0]["status"] == "degraded_performance"


def test_incident_public_update_without_text_is_refused(personas, client_for, incident):
    response = client_for(personas["responder"]).post(
        reverse("portal:incident_public_update", args=[incident.pk]),
        {"status": "identified", "body": "   "},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert not incident.public_updates.exists()


def test_incident_take_command_twice_is_a_conflict(make_staff, personas, client_for, incident):
    from opsportal.core.roles import Role

    other = make_staff("ingrid", Role.INCIDENT_COMMANDER)
    assert (
        client_for(personas["incident_commander"])
        .post(reverse("portal:incident_take_command", args=[incident.pk]))
        .status_code
        == 302
    )
    response = client_for(other).post(
        reverse("portal:incident_take_command", args=[incident.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "already incident commander" in response.content.decode()
    response = client_for(other).post(
        reverse("portal:incident_take_command", args=[incident.pk]), {"replace": "1"}
    )
    assert response.status_code == 302
    assert incident.role_assignments.get(relieved_at__isnull=True).user == other


def test_incident_note_and_pin_toggle(personas, client_for, incident):
    client = client_for(personas["responder"])
    client.post(reverse("portal:incident_note", args=[incident.pk]), {"body": "Rolled back v42"})
    note = incident.timeline.get(kind=TimelineEvent.Kind.NOTE)
    assert not note.is_public and not note.pinned
    client.post(reverse("portal:timeline_pin", args=[incident.pk, note.pk]), {"pinned": "on"})
    note.refresh_from_db()
    assert note.pinned
    panel = client.get(
        reverse("portal:incident_panel", args=[incident.pk, "timeline"]), headers={"HX-Request": "true"}
    )
    assert "Rolled back v42" in panel.content.decode()
    assert "<html" not in panel.content.decode()


def test_incident_component_impact_change_and_remove(personas, client_for, incident, api_component):
    client = client_for(personas["responder"])
    url = reverse("portal:incident_component", args=[incident.pk])
    client.post(url, {"component": api_component.pk, "impact": "major_outage"})
    assert incident.affected_components.get().impact == "major_outage"
    client.post(url, {"component": api_component.pk, "impact": ""})
    assert not incident.affected_components.exists()


def test_incident_timeline_markdown_export(personas, client_for, incident):
    incident_add_note(actor=SYSTEM, incident=incident, body="Paged the database team")
    response = client_for(personas["viewer"]).get(reverse("portal:incident_timeline_md", args=[incident.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith(f"# INC-{incident.pk}: Card payments failing")
    assert "Paged the database team" in text


def test_incident_list_filters_and_search(personas, client_for, incident):
    incident_declare(actor=SYSTEM, title="Search index lagging", severity="P4")
    client = client_for(personas["viewer"])
    content = client.get(reverse("portal:incident_list"), {"severity": "P4"}).content.decode()
    assert "Search index lagging" in content and "Card payments failing" not in content
    content = client.get(reverse("portal:incident_list"), {"q": f"INC-{incident.pk}"}).content.decode()
    assert "Card payments failing" in content and "Search index lagging" not in content
    fragment = client.get(reverse("portal:incident_list"), headers={"HX-Request": "true"}).content.decode()
    assert 'id="incident-results"' in fragment and "<html" not in fragment


def test_home_shows_active_incidents(personas, client_for, incident):
    content = client_for(personas["viewer"]).get(reverse("portal:home")).content.decode()
    assert "Active incidents" in content and "Card payments failing" in content


def test_postmortem_start_edit_and_review(personas, client_for, incident):
    event = incident_add_note(actor=SYSTEM, incident=incident, body="Root cause: expired cert", pinned=True)
    assert event.pinned
    client = client_for(personas["responder"])
    client.post(reverse("portal:incident_postmortem_start", args=[incident.pk]))
    postmortem = Postmortem.objects.get(incident=incident)
    assert "Root cause: expired cert" in postmortem.timeline
    response = client.post(
        reverse("portal:incident_postmortem", args=[incident.pk]),
        {"summary": "Cert expired", "customer_impact": "Card payments failed", "root_cause": "No renewal"},
    )
    assert response.status_code == 302
    client.post(reverse("portal:incident_postmortem_status", args=[incident.pk]), {"status": "in_review"})
    postmortem.refresh_from_db()
    assert postmortem.status == "in_review" and postmortem.root_cause == "No renewal"
    # Publishing needs a resolved incident: a conflict, shown on the page.
    response = client_for(personas["incident_commander"]).post(
        reverse("portal:incident_postmortem_status", args=[incident.pk]), {"status": "published"}
    )
    assert response.status_code == 409
    assert "once the incident is resolved" in response.content.decode()
    client.post(reverse("portal:action_item_add", args=[incident.pk]), {"title": "Automate renewal"})
    assert postmortem.action_items.get().title == "Automate renewal"


def test_metrics_page_draws_svg_charts_and_a_table(personas, client_for, incident):
    response = client_for(personas["viewer"]).get(reverse("portal:metrics"), {"period": "7"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in content and 'role="img"' in content
    assert 'id="metrics-table"' in content
    response = client_for(personas["viewer"]).get(
        reverse("portal:metrics"), {"period": "custom", "since": "2026-01-02", "until": "2026-01-01"}
    )
    assert response.status_code == 400


def test_severity_settings_are_admin_only(personas, client_for):
    url = reverse("portal:severity_settings")
    for role in ("viewer", "responder", "incident_commander"):
        client = client_for(personas[role])
        assert client.get(url).status_code == 403, role
        assert client.post(url, {"severity": "P2", "P2-detect_minutes": 1}).status_code == 403, role
    admin = client_for(personas["admin"])
    assert admin.get(url).status_code == 200
    response = admin.post(
        url, {"severity": "P2", "P2-detect_minutes": 10, "P2-respond_minutes": 30, "P2-resolve_minutes": 600}
    )
    assert response.status_code == 302
    policy = SeverityPolicy.objects.get(severity="P2")
    assert (policy.detect_minutes, policy.respond_minutes, policy.resolve_minutes) == (10, 30, 600)
    response = admin.post(
        url, {"severity": "P2", "P2-detect_minutes": 0, "P2-respond_minutes": 30, "P2-resolve_minutes": 600}
    )
    assert response.status_code == 400
    assert "Targets are at least one minute." in response.content.decode()
    assert SeverityPolicy.objects.get(severity="P2").detect_minutes == 10
