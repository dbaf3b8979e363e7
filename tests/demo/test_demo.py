"""Demo data loads once, completely, and a second run changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from oncall import rotation, selectors
from oncall.models import (
    AlertGroup,
    AlertLogEntry,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    Integration,
    NotificationRule,
    Region,
    Route,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    ShiftSwap,
    Team,
    TeamMembership,
)
from opsportal.changes.models import MaintenanceWindow
from opsportal.core.models import AuditEntry
from opsportal.demo.data import demo_load
from opsportal.incidents.models import Incident
from statuspage.models import Component, ComponentGroup, ComponentStatusChange

pytestmark = pytest.mark.django_db


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            get_user_model(),
            Region,
            Team,
            TeamMembership,
            ComponentGroup,
            Component,
            ComponentStatusChange,
            AuditEntry,
            Incident,
            MaintenanceWindow,
            Schedule,
            ScheduleLayer,
            ScheduleOverride,
            ShiftSwap,
            Integration,
            Route,
            EscalationPolicy,
            EscalationLevel,
            ContactMethod,
            NotificationRule,
            AlertGroup,
            AlertLogEntry,
        )
    }


def test_demo_schedules_follow_the_sun():
    now = timezone.now()
    assert demo_load(now=now)["schedules"] == Team.objects.count() == 3
    for schedule in Schedule.objects.filter(slug__endswith="-follow-the-sun").prefetch_related("layers"):
        zones = {layer.name: layer.time_zone for layer in schedule.layers.all()}
        assert zones == {"NA": "America/Toronto", "EU": "Europe/Dublin", "APAC": "Asia/Singapore"}
        assert all(layer.turn_unit == "weeks" for layer in schedule.layers.all())
        assert schedule.overrides.count() == 2
        assert list(schedule.swaps.values_list("status", flat=True)) == ["proposed"]
    monday = now - timedelta(days=now.weekday())
    for override in ScheduleOverride.objects.all():
        assert monday.date() <= override.start.date() <= (monday + timedelta(days=6)).date()


# Either side of both DST changes: North America moves on 8 March and 1 November 2026, Europe on 29 March and
# 25 October, so some weeks each region is on a different offset than usual.
COVERAGE_WEEKS = 8


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 3, 2, 12, 0, tzinfo=UTC),  # winter, then both spring changes within the weeks checked
        datetime(2026, 7, 15, 3, 30, tzinfo=UTC),  # summer everywhere
        datetime(2026, 10, 20, 23, 45, tzinfo=UTC),  # both autumn changes within the weeks checked
        datetime(2026, 12, 3, 12, 51, tzinfo=UTC),  # winter
    ],
)
def test_demo_schedules_leave_no_gap_nights_and_weekends_included(when):
    with time_machine.travel(when, tick=False):
        demo_load()
    end = when + timedelta(weeks=COVERAGE_WEEKS)
    schedules = list(selectors.schedules_for_engine().filter(slug__endswith="-follow-the-sun"))
    assert len(schedules) == 3
    for schedule in schedules:
        engine = selectors.rotation_schedule(schedule)
        assert rotation.gaps(engine, when, end) == [], schedule.name
        # Weekends and nights are covered by someone in each of the regions in turn.
        held = {shift.source for shift in rotation.final_schedule(engine, when, end)}
        assert {"NA", "EU", "APAC"} <= held


def test_demo_load_is_idempotent():
    demo_load()
    first = _counts()
    assert demo_load() == {
        "regions": 0,
        "staff": 0,
        "teams": 0,
        "components": 0,
        "status_changes": 0,
        "incidents": 0,
        "maintenance": 0,
        "schedules": 0,
        "integrations": 0,
        "escalation_policies": 0,
        "contact_methods": 0,
        "alert_groups": 0,
    }
    assert _counts() == first


def test_load_demo_refuses_production_without_the_flag(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_demo")
    assert get_user_model().objects.count() == 0
