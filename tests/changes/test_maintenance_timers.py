"""A maintenance window's timers serve instants: rescheduling moves them, and the old ones never fire."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from opsportal.changes import services
from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.core.models import ScheduledJob
from opsportal.core.services import job_execute, jobs_claim_due
from opsportal.notifications.models import Message
from statuspage.models import Component

pytestmark = pytest.mark.django_db

T0 = "2026-11-30 02:00:00+00:00"


def _tick() -> None:
    for job_id in jobs_claim_due():
        job_execute(job_id=job_id)


def _reminders(window) -> list[str]:
    return list(
        Message.objects.filter(
            kind="maintenance_reminder", dedupe_key__startswith=f"maintenance:{window.pk}:"
        )
        .order_by("id")
        .values_list("dedupe_key", flat=True)
    )


@pytest.fixture
def window(rob):
    with time_machine.travel(T0, tick=False):
        return services.maintenance_schedule(
            actor=rob,
            title="Payout bank switch",
            body="Payouts pause for 30 minutes.",
            components=[Component.objects.create(name="Payouts")],
            scheduled_for=timezone.now() + timedelta(hours=3),
            scheduled_until=timezone.now() + timedelta(hours=4),
        )


def _move(rob, window, *, start_in: timedelta, length=timedelta(hours=1)):
    start = window.created_at.replace(hour=2, minute=0, second=0, microsecond=0) + start_in
    return services.maintenance_reschedule(
        actor=rob, window=window, scheduled_for=start, scheduled_until=start + length
    )


def test_rescheduling_later_moves_the_reminder(rob, window):
    with time_machine.travel(T0, tick=False) as traveller:
        window = _move(rob, window, start_in=timedelta(hours=5))
        traveller.shift(timedelta(hours=2))  # the old reminder's time
        _tick()
        assert _reminders(window) == []
        traveller.shift(timedelta(hours=2))  # an hour before the new start
        _tick()
    assert _reminders(window) == [f"maintenance:{window.pk}:reminder:{window.scheduled_for.isoformat()}"]


def test_a_reminder_already_sent_does_not_swallow_the_one_for_a_new_start(rob, window):
    with time_machine.travel(T0, tick=False) as traveller:
        traveller.shift(timedelta(hours=2))
        _tick()
        assert len(_reminders(window)) == 1
        window = _move(rob, window, start_in=timedelta(hours=6))
        traveller.shift(timedelta(hours=3))  # an hour before the new start
        _tick()
    assert len(_reminders(window)) == 2


def test_moving_away_and_back_reminds_once_at_the_original_time(rob, window):
    with time_machine.travel(T0, tick=False) as traveller:
        _move(rob, window, start_in=timedelta(hours=5))
        window = _move(rob, window, start_in=timedelta(hours=3))
        traveller.shift(timedelta(hours=2))
        _tick()
        traveller.shift(timedelta(hours=2))
        _tick()
    assert len(_reminders(window)) == 1


def test_moving_the_start_within_the_hour_cancels_the_reminder(rob, window):
    with time_machine.travel(T0, tick=False) as traveller:
        window = _move(rob, window, start_in=timedelta(minutes=30))
        traveller.shift(timedelta(minutes=29))
        _tick()
        traveller.shift(timedelta(hours=2))
        _tick()
    assert _reminders(window) == []


def test_each_timer_of_a_rescheduled_window_waits_once_at_its_new_instant(rob, window):
    with time_machine.travel(T0, tick=False):
        window = _move(rob, window, start_in=timedelta(hours=5), length=timedelta(hours=2))
    waiting = ScheduledJob.objects.filter(
        subject__startswith=f"maintenance:{window.pk}:", status=ScheduledJob.Status.SCHEDULED
    )
    assert sorted((job.subject.rsplit(":", 1)[1], job.run_at) for job in waiting) == sorted(
        [
            ("start", window.scheduled_for),
            ("remind", window.scheduled_for - services.REMINDER_BEFORE),
            ("complete", window.scheduled_until),
        ]
    )


def test_rescheduling_only_the_end_keeps_the_start_timer(rob, window):
    start_job = ScheduledJob.objects.get(subject=f"maintenance:{window.pk}:start")
    with time_machine.travel(T0, tick=False):
        services.maintenance_reschedule(
            actor=rob,
            window=window,
            scheduled_for=window.scheduled_for,
            scheduled_until=window.scheduled_until + timedelta(hours=1),
        )
    assert ScheduledJob.objects.filter(subject=f"maintenance:{window.pk}:start").get().pk == start_job.pk


def test_cancelling_a_window_cancels_its_timers(rob, window):
    with time_machine.travel(T0, tick=False):
        services.maintenance_transition(actor=rob, window=window, status=MaintenanceStatus.CANCELLED)
    assert not ScheduledJob.objects.filter(
        subject__startswith=f"maintenance:{window.pk}:", status=ScheduledJob.Status.SCHEDULED
    ).exists()
