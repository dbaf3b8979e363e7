"""Incident services: what each write changes, what it refuses, and that refusals change nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from opsportal.core.exceptions import Conflict
from opsportal.core.models import AuditEntry
from opsportal.incidents import services, sla_services
from opsportal.incidents.models import (
    Incident,
    IncidentRole,
    Postmortem,
    PublicUpdate,
    RoleAssignment,
    TimelineEvent,
)
from opsportal.incidents.postmortems import postmortem_edit, postmortem_start, postmortem_transition
from statuspage.models import Component

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout():
    return Component.objects.create(name="Checkout")


def _kinds(incident):
    return list(incident.timeline.order_by("at", "id").values_list("kind", flat=True))


def test_declaring_writes_the_incident_its_timeline_and_the_audit_log(
    rob, checkout, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        incident = services.incident_declare(
            actor=rob, title="Checkout 500s", severity="P1", components=[(checkout, "major_outage")]
        )
    assert incident.status == "triage" and incident.public_title == "Checkout 500s"
    assert _kinds(incident) == ["declared", "component"]
    assert AuditEntry.objects.filter(action="incident.declared", object_id=str(incident.pk)).exists()
    assert callbacks, "live broadcasts go out on commit"


def test_viewers_cannot_declare_and_nothing_is_saved(vera):
    with pytest.raises(PermissionDenied):
        services.incident_declare(actor=vera, title="x", severity="P2")
    assert Incident.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "  ", "severity": "P1"}, "title"),
        ({"title": "x", "severity": "P9"}, "severity"),
        ({"title": "x", "public_title": "y" * 201, "severity": "P1"}, "public_title"),
        ({"title": "x", "severity": "P1", "started_at": timezone.now() + timedelta(hours=1)}, "started_at"),
    ],
)
def test_bad_declarations_name_the_field(rob, kwargs, field):
    with pytest.raises(ValidationError) as raised:
        services.incident_declare(actor=rob, **kwargs)
    assert field in raised.value.message_dict
    assert Incident.objects.count() == 0


def test_an_illegal_transition_is_a_conflict_and_changes_nothing(rob):
    incident = services.incident_declare(actor=rob, title="x", severity="P2")
    with pytest.raises(Conflict, match="cannot go from triage to closed"):
        services.incident_transition(actor=rob, incident=incident, status="closed")
    incident.refresh_from_db()
    assert incident.status == "triage"
    assert _kinds(incident) == ["declared"]


def test_p0_needs_a_commander_to_leave_triage(rob, irene):
    incident = services.incident_declare(actor=rob, title="Payments down", severity="P0")
    with pytest.raises(Conflict, match="needs an incident commander"):
        services.incident_transition(actor=rob, incident=incident, status="investigating")
    services.incident_assign_role(actor=rob, incident=incident, role=IncidentRole.COMMANDER, user=irene)
    services.incident_transition(actor=rob, incident=incident, status="investigating")
    incident.refresh_from_db()
    assert incident.status == "investigating" and incident.acknowledged_at is not None


def test_only_people_with_the_commander_role_can_command(rob, irene):
    incident = services.incident_declare(actor=rob, title="x", severity="P1")
    with pytest.raises(ValidationError, match="does not hold the incident commander role"):
        services.incident_assign_role(actor=irene, incident=incident, role=IncidentRole.COMMANDER, user=rob)


def test_taking_a_held_role_is_a_conflict_unless_it_is_a_handoff(rob, irene, make_staff):
    from opsportal.core.roles import Role

    ben = make_staff("ben", Role.INCIDENT_COMMANDER)
    incident = services.incident_declare(actor=rob, title="x", severity="P1", commander=irene)
    with pytest.raises(Conflict, match="irene is already incident commander"):
        services.incident_assign_role(actor=ben, incident=incident, role=IncidentRole.COMMANDER, user=ben)
    services.incident_assign_role(
        actor=irene, incident=incident, role=IncidentRole.COMMANDER, user=ben, replace=True
    )
    active = RoleAssignment.objects.filter(incident=incident, role="commander", relieved_at__isnull=True)
    assert [a.user.username for a in active] == ["ben"]
    assert _kinds(incident)[-2:] == ["role_relieved", "role_assigned"]


def test_resolving_stamps_times_and_closing_a_p1_needs_a_published_postmortem(rob, irene):
    incident = services.incident_declare(actor=rob, title="x", severity="P1", commander=irene)
    for status in ("investigating", "monitoring", "resolved"):
        services.incident_transition(actor=rob, incident=incident, status=status)
    incident.refresh_from_db()
    assert incident.mitigated_at and incident.resolved_at
    with pytest.raises(Conflict, match="post-mortem is published"):
        services.incident_transition(actor=rob, incident=incident, status="closed")
    postmortem = postmortem_start(actor=rob, incident=incident)
    postmortem_edit(actor=rob, postmortem=postmortem, summary="s", customer_impact="c", root_cause="r")
    postmortem_transition(actor=rob, postmortem=postmortem, status="in_review")
    with pytest.raises(PermissionDenied):
        postmortem_transition(actor=rob, postmortem=postmortem, status="published")
    postmortem_transition(actor=irene, postmortem=postmortem, status="published")
    services.incident_transition(actor=rob, incident=incident, status="closed")
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.closed_at


def test_reopening_a_resolved_incident_restarts_the_resolve_clock(rob):
    incident = services.incident_declare(actor=rob, title="x", severity="P2")
    services.incident_transition(actor=rob, incident=incident, status="resolved")
    services.incident_transition(actor=rob, incident=incident, status="investigating")
    incident.refresh_from_db()
    assert incident.resolved_at is None and incident.mitigated_at is None


def test_a_public_update_moves_status_and_components_together(rob, checkout):
    incident = services.incident_declare(
        actor=rob, title="internal name", severity="P2", public_title="Slow checkout"
    )
    update = services.incident_post_update(
        actor=rob,
        incident=incident,
        status="identified",
        body="We found the cause.",
        component_statuses=[(checkout, "partial_outage")],
    )
    incident.refresh_from_db()
    checkout.refresh_from_db()
    assert incident.status == "identified"
    assert checkout.status == "partial_outage"
    assert update.component_statuses == [
        {
            "component_id": checkout.pk,
            "name": "Checkout",
            "old_status": "operational",
            "status": "partial_outage",
        }
    ]
    event = incident.timeline.get(kind="public_update")
    assert event.is_public and event.body == "We found the cause."


def test_a_bad_public_update_changes_nothing(rob, checkout):
    incident = services.incident_declare(actor=rob, title="x", severity="P2")
    with pytest.raises(ValidationError):
        services.incident_post_update(
            actor=rob,
            incident=incident,
            status="identified",
            body="x",
            component_statuses=[(checkout, "on_fire")],
        )
    services.incident_transition(actor=rob, incident=incident, status="declined")
    with pytest.raises(Conflict, match="declined"):
        services.incident_post_update(actor=rob, incident=incident, status="investigating", body="x")
    checkout.refresh_from_db()
    assert checkout.status == "operational"
    assert PublicUpdate.objects.count() == 0


def test_sla_warning_and_breach_are_written_once_each(rob):
    with time_machine.travel("2026-11-27 14:00:00+00:00", tick=False) as traveller:
        incident = services.incident_declare(actor=rob, title="x", severity="P0")
        traveller.shift(timedelta(minutes=3, seconds=59))
        assert sla_services.incident_check_sla(incident_id=incident.pk) == []
        traveller.shift(timedelta(seconds=1))  # respond clock: 80 % of 5 min
        assert [e.body for e in sla_services.incident_check_sla(incident_id=incident.pk)] == [
            "P0 respond SLA at 80 % (target 5 min)"
        ]
        assert sla_services.incident_check_sla(incident_id=incident.pk) == []
        traveller.shift(timedelta(minutes=1))
        [breach] = sla_services.incident_check_sla(incident_id=incident.pk)
        assert breach.kind == TimelineEvent.Kind.SLA_BREACH
        assert breach.at == timezone.now()  # stamped at the breach instant, not when noticed
        sla_services.incident_check_sla(incident_id=incident.pk)
    assert incident.timeline.filter(kind__in=["sla_warning", "sla_breach"]).count() == 2


def test_changing_severity_retargets_the_clocks(rob):
    with time_machine.travel("2026-11-27 14:00:00+00:00", tick=False) as traveller:
        incident = services.incident_declare(actor=rob, title="x", severity="P2")
        traveller.shift(timedelta(minutes=30))
        assert sla_services.incident_check_sla(incident_id=incident.pk) == []  # P2 respond: 60 min
        services.incident_change_severity(actor=rob, incident=incident, severity="P0", reason="payments too")
        written = sla_services.incident_check_sla(incident_id=incident.pk)
    assert {e.kind for e in written} == {"sla_warning", "sla_breach"}
    assert all(e.data["severity"] == "P0" for e in written)


def test_notes_are_internal(rob):
    incident = services.incident_declare(actor=rob, title="x", severity="P2")
    note = services.incident_add_note(actor=rob, incident=incident, body="DB failover at 14:05", pinned=True)
    assert note.is_public is False and note.pinned is True
    postmortem = postmortem_start(actor=rob, incident=incident)
    assert "DB failover at 14:05" in postmortem.timeline
    assert Postmortem.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_default_sla_policies_survive_a_database_flush():
    from django.core.management import call_command

    from opsportal.incidents.models import SeverityPolicy

    call_command("flush", "--noinput", verbosity=0)
    assert list(SeverityPolicy.objects.values_list("severity", "resolve_minutes")) == [
        ("P0", 60),
        ("P1", 240),
        ("P2", 1440),
        ("P3", 4320),
        ("P4", 10080),
    ]


def test_comms_can_post_investigating_from_triage_before_a_commander_is_named(rob):
    incident = services.incident_declare(actor=rob, title="x", severity="P0")
    services.incident_post_update(
        actor=rob, incident=incident, status="investigating", body="Looking into it."
    )
    incident.refresh_from_db()
    assert incident.status == "triage"  # still waiting for a commander, but the public has heard from us
    with pytest.raises(Conflict, match="needs an incident commander"):
        services.incident_post_update(actor=rob, incident=incident, status="identified", body="Found it.")


def test_people_given_a_role_hear_about_it_in_the_app(rob, irene):
    from opsportal.notifications.delivery import deliver_due_batches
    from opsportal.notifications.models import Delivery

    incident = services.incident_declare(actor=rob, title="Payments down", severity="P1")
    services.incident_assign_role(actor=rob, incident=incident, role=IncidentRole.COMMANDER, user=irene)
    services.incident_assign_role(
        actor=rob, incident=incident, role=IncidentRole.SCRIBE, user=rob
    )  # self: no note
    [delivery] = Delivery.objects.filter(channel="websocket")
    assert delivery.address == str(irene.pk)
    assert delivery.message.subject == f"You are incident commander of {incident.reference}: Payments down"
    assert delivery.context["url"] == f"/portal/incidents/{incident.pk}/"
    deliver_due_batches()
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_an_sla_crossing_moved_by_a_target_edit_is_written_again_at_its_new_instant(rob, alice):
    from opsportal.incidents.models import SeverityPolicy

    with time_machine.travel("2026-11-27 14:00:00+00:00", tick=False) as traveller:
        incident = services.incident_declare(actor=rob, title="x", severity="P2")
        traveller.shift(timedelta(minutes=48))  # P2 respond: 60 min, warning at 48
        [first] = sla_services.incident_check_sla(incident_id=incident.pk)
        policy = SeverityPolicy.objects.get(severity="P2")
        sla_services.severity_policy_update(
            actor=alice, policy=policy, detect_minutes=15, respond_minutes=90, resolve_minutes=1440
        )
        assert sla_services.incident_check_sla(incident_id=incident.pk) == []  # the new warning is at 72
        traveller.shift(timedelta(minutes=24))
        [moved] = sla_services.incident_check_sla(incident_id=incident.pk)
        assert sla_services.incident_check_sla(incident_id=incident.pk) == []
    assert (first.kind, moved.kind) == ("sla_warning", "sla_warning")
    assert "target 90 min" in moved.body
