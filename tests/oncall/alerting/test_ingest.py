"""Events in: dedup into groups, source acknowledge/resolve, routing, maintenance suppression, incidents. Every
test runs twice: applied as they arrive (the webhooks, heartbeats) and queued, then applied by the intake in
one batch (the PagerDuty door); both must come out the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from oncall.alerting import alert_events_ingest
from oncall.events import InboundEvent
from oncall.intake import alert_event_enqueue, alert_events_apply_queued
from oncall.models import AlertEvent, AlertGroup, Escalation, Page, Route
from opsportal.changes.models import MaintenanceWindow
from statuspage.models import Component

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # Black Friday, 09:00 in Toronto

pytestmark = pytest.mark.django_db


QUEUED = "queued, then the intake"
_path = {"now": "applied as they arrive"}


@pytest.fixture(autouse=True, params=["applied as they arrive", QUEUED])
def ingestion_path(request):
    _path["now"] = request.param
    return request.param


def _ingest(integration, *events, now=T0):
    if _path["now"] != QUEUED:
        return alert_events_ingest(integration=integration, events=list(events), now=now)
    ids = [alert_event_enqueue(key=integration.key, kind=integration.kind, event=e, now=now) for e in events]
    assert alert_events_apply_queued() == len(events)
    stored = AlertEvent.objects.in_bulk(ids)
    return [stored[pk] for pk in ids]


def test_ingest_repeats_of_one_key_make_one_group_with_a_count(integration, trigger):
    first, second, third = _ingest(integration, trigger(), trigger(), trigger())
    group = AlertGroup.objects.get()
    assert [first.outcome, second.outcome, third.outcome] == ["new group", "deduplicated", "deduplicated"]
    assert group.occurrences == 3 and group.status == "triggered"
    assert group.events.count() == 3
    assert group.incident_severity == "P0"


def test_ingest_resolve_from_the_source_resolves_and_a_new_trigger_opens_a_new_group(integration, trigger):
    _ingest(integration, trigger())
    (resolved,) = _ingest(integration, InboundEvent(action="resolve", dedup_key="disk-full"))
    assert resolved.outcome == "resolved"
    old = AlertGroup.objects.get()
    assert old.status == "resolved" and old.resolved_by_source
    assert Escalation.objects.get(group=old).status == "stopped"
    _ingest(integration, trigger())
    assert AlertGroup.objects.count() == 2
    assert AlertGroup.objects.filter(status="triggered").count() == 1


def test_ingest_acknowledge_or_resolve_for_an_unknown_key_is_stored_and_ignored(integration):
    (event,) = _ingest(integration, InboundEvent(action="acknowledge", dedup_key="never-seen"))
    assert event.pk and event.group is None and event.outcome.startswith("ignored")
    assert not AlertGroup.objects.exists()


def test_ingest_source_acknowledge_stops_paging(integration, trigger):
    _ingest(integration, trigger())
    _ingest(integration, InboundEvent(action="acknowledge", dedup_key="disk-full"))
    group = AlertGroup.objects.get()
    assert group.status == "acknowledged"
    assert Escalation.objects.get(group=group).status == "stopped"


def test_ingest_first_matching_route_wins_over_the_default(integration, trigger, team, irene):
    Route.objects.create(
        integration=integration,
        position=0,
        name="EU warnings",
        team=team,
        conditions=[{"field": "labels.region", "op": "equals", "value": "EU"}],
        urgency="low",
        severity_map={"warning": "P1"},
    )
    Route.objects.create(integration=integration, position=1, name="everything", team=team, suppress=True)
    _ingest(integration, trigger("a", severity="warning", labels={"region": "EU"}))
    _ingest(integration, trigger("b", severity="warning", labels={"region": "NA"}))
    eu, na = AlertGroup.objects.get(dedup_key="a"), AlertGroup.objects.get(dedup_key="b")
    assert (eu.route.name, eu.urgency, eu.incident_severity, eu.suppressed) == (
        "EU warnings",
        "low",
        "P1",
        False,
    )
    assert (na.route.name, na.suppressed) == ("everything", True)
    assert not Escalation.objects.filter(group=na).exists()


def test_ingest_alert_for_a_component_under_maintenance_is_recorded_and_pages_nobody(integration, trigger):
    checkout = Component.objects.create(name="Checkout")
    window = MaintenanceWindow.objects.create(
        title="Database upgrade",
        scheduled_for=T0 - timedelta(minutes=30),
        scheduled_until=T0 + timedelta(hours=1),
        status="in_progress",
    )
    window.components.add(checkout)
    _ingest(integration, trigger(component="checkout"))
    group = AlertGroup.objects.get()
    assert group.suppressed and group.maintenance == window and group.component == checkout
    assert "under maintenance" in group.suppressed_reason
    assert not Escalation.objects.exists() and not Page.objects.exists()
    assert group.log.filter(kind="suppressed").exists()


def test_ingest_route_that_declares_an_incident_links_both_ways(integration, trigger, team):
    Route.objects.create(
        integration=integration,
        name="P0 declares",
        team=team,
        declare_incident=True,
        escalation_policy=integration.escalation_policy,
    )
    with time_machine.travel(T0, tick=False):
        _ingest(integration, trigger())
    group = AlertGroup.objects.get()
    assert group.incident is not None and group.incident.severity == "P0"
    assert list(group.incident.alert_groups.all()) == [group]
    assert group.log.filter(kind="incident").exists()


def test_ingest_warning_does_not_declare_even_when_the_route_says_so(integration, trigger, team):
    Route.objects.create(integration=integration, name="declares", team=team, declare_incident=True)
    with time_machine.travel(T0, tick=False):
        _ingest(integration, trigger(severity="warning"))
    assert AlertGroup.objects.get().incident is None


def test_pages_and_acknowledgement_of_a_linked_group_go_on_the_incident_timeline(
    integration, trigger, team, rob
):
    from oncall.alerting import alert_group_acknowledge
    from oncall.engine import escalations_run_due

    Route.objects.create(
        integration=integration,
        name="P0 declares",
        team=team,
        declare_incident=True,
        escalation_policy=integration.escalation_policy,
    )
    with time_machine.travel(T0, tick=False):
        _ingest(integration, trigger())
        group = AlertGroup.objects.get()
        escalations_run_due(now=T0)
        alert_group_acknowledge(actor=rob, group=group, now=T0)
    lines = list(group.incident.timeline.filter(kind="alert").values_list("body", flat=True))
    assert any("paging" in line for line in lines)
    assert any("Acknowledged" in line and "rob" in line for line in lines)
    assert not group.incident.timeline.filter(kind="alert", is_public=True).exists()
