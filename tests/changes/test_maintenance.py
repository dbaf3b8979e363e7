"""Maintenance windows start and finish on time by themselves, and put components back as they were."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from opsportal.changes import services
from opsportal.changes.lifecycle import IllegalMaintenanceTransition, MaintenanceStatus, check_transition
from opsportal.changes.models import MaintenanceWindow
from opsportal.core.exceptions import Conflict
from opsportal.core.services import job_execute, jobs_claim_due
from statuspage.models import Component

pytestmark = pytest.mark.django_db

T0 = "2026-11-30 02:00:00+00:00"


def _tick():
    for job_id in jobs_claim_due():
        job_execute(job_id=job_id)


@pytest.fixture
def components():
    return [
        Component.objects.create(name="Payouts"),
        Component.objects.create(name="Reports", status="degraded_performance"),
    ]


def test_the_transition_table():
    check_transition("scheduled", "in_progress")
    check_transition("verifying", "completed")
    for current, requested in [
        ("scheduled", "completed"),
        ("completed", "in_progress"),
        ("cancelled", "scheduled"),
    ]:
        with pytest.raises(IllegalMaintenanceTransition):
            check_transition(current, requested)


def test_a_window_starts_and_completes_on_time_and_restores_each_status(rob, components):
    with time_machine.travel(T0, tick=False) as traveller:
        window = services.maintenance_schedule(
            actor=rob,
            title="Payout bank switch",
            body="Payouts pause for 30 minutes.",
            components=components,
            scheduled_for=timezone.now() + timedelta(hours=1),
            scheduled_until=timezone.now() + timedelta(hours=1, minutes=30),
        )
        traveller.shift(timedelta(minutes=59, seconds=59))
        _tick()
        window.refresh_from_db()
        assert window.status == MaintenanceStatus.SCHEDULED
        traveller.shift(timedelta(seconds=1))
        _tick()
        window.refresh_from_db()
        assert window.status == MaintenanceStatus.IN_PROGRESS
        assert {c.name: c.status for c in Component.objects.all()} == {
            "Payouts": "under_maintenance",
            "Reports": "under_maintenance",
        }
        traveller.shift(timedelta(minutes=30))
        _tick()
    window.refresh_from_db()
    assert window.status == MaintenanceStatus.COMPLETED
    assert {c.name: c.status for c in Component.objects.all()} == {
        "Payouts": "operational",
        "Reports": "degraded_performance",
    }
    assert [u.status for u in window.updates.order_by("created_at", "id")] == [
        "scheduled",
        "in_progress",
        "completed",
    ]


def test_the_sweep_catches_a_window_whose_timer_was_lost(rob, components):
    with time_machine.travel(T0, tick=False) as traveller:
        window = services.maintenance_schedule(
            actor=rob,
            title="DB upgrade",
            body="Brief read-only period.",
            components=components[:1],
            scheduled_for=timezone.now() + timedelta(minutes=5),
            scheduled_until=timezone.now() + timedelta(minutes=10),
        )
        traveller.shift(timedelta(minutes=11))
        assert services.maintenance_sweep() == 2  # started, then completed, in one pass
        assert services.maintenance_sweep() == 0
    window.refresh_from_db()
    assert window.status == MaintenanceStatus.COMPLETED


def test_completion_leaves_a_component_an_incident_took_over(rob, components):
    with time_machine.travel(T0, tick=False) as traveller:
        window = services.maintenance_schedule(
            actor=rob,
            title="x",
            body="y",
            components=components[:1],
            scheduled_for=timezone.now() + timedelta(minutes=1),
            scheduled_until=timezone.now() + timedelta(minutes=2),
        )
        traveller.shift(timedelta(minutes=1))
        services.maintenance_sweep()
        from statuspage.services import component_set_status

        component_set_status(actor=rob, component=components[0], status="major_outage")
        traveller.shift(timedelta(minutes=1))
        services.maintenance_sweep()
    window.refresh_from_db()
    components[0].refresh_from_db()
    assert window.status == "completed" and components[0].status == "major_outage"


def test_bad_windows_are_refused_and_nothing_is_saved(rob, components):
    now = timezone.now()
    with pytest.raises(ValidationError, match="end after it starts"):
        services.maintenance_schedule(
            actor=rob,
            title="x",
            body="y",
            components=components,
            scheduled_for=now + timedelta(hours=2),
            scheduled_until=now + timedelta(hours=1),
        )
    with pytest.raises(ValidationError, match="already be over"):
        services.maintenance_schedule(
            actor=rob,
            title="x",
            body="y",
            components=components,
            scheduled_for=now - timedelta(hours=2),
            scheduled_until=now - timedelta(hours=1),
        )
    assert MaintenanceWindow.objects.count() == 0


def test_an_illegal_manual_move_is_a_conflict(rob, components):
    now = timezone.now()
    window = services.maintenance_schedule(
        actor=rob,
        title="x",
        body="y",
        components=components,
        scheduled_for=now + timedelta(hours=1),
        scheduled_until=now + timedelta(hours=2),
    )
    with pytest.raises(Conflict, match="cannot go from scheduled to completed"):
        services.maintenance_transition(actor=rob, window=window, status="completed")
    services.maintenance_transition(actor=rob, window=window, status="cancelled")
    window.refresh_from_db()
    assert window.status == "cancelled"
    with time_machine.travel(now + timedelta(hours=1, minutes=1)):
        assert services.maintenance_sweep() == 0  # a cancelled window never starts
