"""bench/history.py's generator (issue 11): it writes what it claims, and the pages agree with it.

Small scale (100 incidents), so tier 1 (SQLite) and tier 2 (PostgreSQL) both run it in seconds."""

from __future__ import annotations

import datetime
import itertools
import re

import pytest
import time_machine
from django.utils import timezone
from history_data import DAYS, FULL, generate, scaled

from oncall import rotation, selectors
from oncall.models import (
    AlertEvent,
    AlertGroup,
    AlertLogEntry,
    Escalation,
    Integration,
    Page,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    Team,
)
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from opsportal.core.models import AuditEntry
from opsportal.core.scopes import AREAS
from opsportal.incidents.models import Incident, Postmortem, PublicUpdate, TimelineEvent
from statuspage.models import Component, ComponentStatus, ComponentStatusChange, Subscriber

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
SCALE = 0.005


@pytest.fixture
def history(db):
    with time_machine.travel(NOW, tick=False):
        yield generate(scale=SCALE, now=NOW)


@pytest.fixture
def reader(alice, make_token):
    return make_token(alice, [f"{area}:read" for area in AREAS])


def test_full_scale_is_the_issues_history():
    assert (
        scaled(1.0)
        == FULL
        == {
            "incidents": 20_000,
            "components": 200,
            "engineers": 400,
            "teams": 100,
            "schedules": 500,
            "subscribers": 100_000,
        }
    )


def test_the_generator_writes_what_it_reports(history):
    target = scaled(SCALE)
    assert history["incidents"] == target["incidents"] == 100
    # Every generated incident is over; one more is live (the war room the bench measures).
    assert Incident.objects.filter(status__in=["resolved", "closed"]).count() == history["incidents"]
    assert Incident.objects.exclude(status__in=["resolved", "closed"]).count() == 1
    assert TimelineEvent.objects.count() == history["timeline_events"] + 2
    assert PublicUpdate.objects.count() == history["public_updates"] + 1
    assert AuditEntry.objects.count() == history["audit_entries"]
    assert Subscriber.objects.count() == history["subscribers"] == target["subscribers"]
    assert Component.objects.count() == history["components"] == target["components"]
    assert Team.objects.count() == history["teams"] == target["teams"]
    assert Schedule.objects.count() == history["schedules"] == target["schedules"]
    assert ScheduleLayer.objects.count() == history["layers"] == 3 * history["schedules"]
    assert ScheduleOverride.objects.count() == history["overrides"]
    assert ComponentStatusChange.objects.count() == history["status_changes"] + 1
    assert Postmortem.objects.filter(status="published").count() == history["postmortems"]


def test_the_history_has_the_issues_proportions(history):
    # ~280,000 events, ~33,000 public updates and ~280,000 audit entries for 20,000 incidents.
    n = history["incidents"]
    assert 12 <= history["timeline_events"] / n <= 16
    assert 1.3 <= history["public_updates"] / n <= 2.0
    assert 12 <= history["audit_entries"] / n <= 16
    first, last = Incident.objects.order_by("started_at").values_list("started_at", flat=True)[::n]
    assert (NOW - first).days <= DAYS and (last - first).days >= DAYS * 0.9


def test_every_component_has_its_history_and_is_back_to_operational(history):
    live = Incident.objects.exclude(status__in=["resolved", "closed"]).get()
    broken = set(live.affected_components.values_list("component_id", flat=True))
    for component in Component.objects.all():
        changes = list(component.status_changes.order_by("at", "id"))
        assert changes[0].status == ComponentStatus.OPERATIONAL
        # Each change starts from the status the one before it left.
        assert all(b.previous_status == a.status for a, b in itertools.pairwise(changes))
        expected = ComponentStatus.PARTIAL_OUTAGE if component.pk in broken else ComponentStatus.OPERATIONAL
        assert changes[-1].status == component.status == expected


def test_every_schedule_has_someone_on_call_around_the_clock(history):
    engines = [selectors.rotation_schedule(s) for s in selectors.schedules_for_engine()]
    assert len(engines) == history["schedules"]
    day = NOW.replace(hour=0)
    for engine in engines:
        assert all(rotation.on_call_at(engine, day + datetime.timedelta(hours=h)) for h in range(24))


def test_a_page_of_50_incidents_shows_50_and_the_total_is_the_datas(history, api, reader):
    response = api.get("/api/v1/incidents/?page_size=50", token=reader)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == history["incidents"] + 1
    assert len({incident["id"] for incident in body["results"]}) == 50


def test_the_public_lists_show_the_public_incidents(history, api, reader, client):
    public = history["public_incidents"] + 1  # and the live one
    assert api.get("/api/v1/status/incidents/", token=reader).json()["count"] == public
    with time_machine.travel(NOW, tick=False):
        listed = client.get("/api/v2/incidents.json").json()["incidents"]
    assert len(listed) == min(public, 50)


def test_the_history_page_lists_every_public_incident_of_its_months(history, client):
    with time_machine.travel(NOW, tick=False):
        html = client.get("/history/").content.decode()
    shown = {int(pk) for pk in re.findall(r'href="/incidents/(\d+)/"', html)}
    oldest = min(timezone.localtime(Incident.objects.get(pk=pk).started_at).date() for pk in shown)
    expected = set(
        Incident.objects.filter(public_updates__isnull=False, started_at__date__gte=oldest.replace(day=1))
        .values_list("pk", flat=True)
        .distinct()
    )
    assert shown == expected


def test_the_alerting_history_is_what_the_pipeline_would_have_written(history):
    assert AlertGroup.objects.count() == history["alert_groups"] >= 40
    assert AlertEvent.objects.count() == history["alert_events"]
    assert AlertLogEntry.objects.count() == history["alert_log_entries"]
    assert Page.objects.count() == history["pages"]
    assert Integration.objects.count() == history["integrations"] == 2 * history["teams"]
    # Every group has its stopped (or, when still open and unacknowledged, running) escalation with a snapshot.
    assert Escalation.objects.count() == history["alert_groups"]
    assert not Escalation.objects.filter(snapshot={}).exists()
    open_groups = AlertGroup.objects.exclude(status="resolved")
    assert open_groups.count() == history["open_alert_groups"] > 0
    assert set(Escalation.objects.filter(status="active").values_list("group_id", flat=True)) == set(
        open_groups.filter(status="triggered").values_list("pk", flat=True)
    )
    # Each group's first event opened it, and its occurrences are its trigger events.
    for group in AlertGroup.objects.all()[:50]:
        triggers = list(group.events.filter(action="trigger").order_by("received_at"))
        assert len(triggers) == group.occurrences
        assert triggers[0].outcome == "new group"
        assert group.log.filter(kind="triggered").count() == 1
        assert (group.resolved_at is None) == (group.status != "resolved")
    # The portal's paging rule holds: pages go to verified methods only.
    assert not Page.objects.filter(contact_method__verified_at__isnull=True).exists()


def test_the_alert_lists_agree_with_the_data(history, api, reader):
    body = api.get("/api/v1/alerts/groups/?page_size=50", token=reader).json()
    assert body["count"] == history["alert_groups"]
    assert len({group["id"] for group in body["results"]}) == 50
    assert api.get("/api/v1/alerts/groups/?status=resolved", token=reader).json()["count"] == (
        history["alert_groups"] - history["open_alert_groups"]
    )


def test_maintenance_history_is_in_the_lists_and_the_status_history(history, api, reader):
    windows = MaintenanceWindow.objects.all()
    assert windows.count() == history["maintenance_windows"]
    assert MaintenanceUpdate.objects.count() == history["maintenance_updates"]
    done = windows.filter(status="completed")
    assert done.exists() and windows.filter(status="scheduled", scheduled_for__gt=NOW).count() == 3
    # A completed window's components went under maintenance for its span.
    window = done.first()
    for component in window.components.all():
        assert component.status_changes.filter(status="under_maintenance", at=window.scheduled_for).exists()
    assert api.get("/api/v1/maintenance/", token=reader).json()["count"] == windows.count()
