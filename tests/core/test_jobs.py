"""Durable timers: a job fires when due, not before, once, and survives a lost worker."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from opsportal.core.models import ScheduledJob
from opsportal.core.services import JOB_CLAIM_LEASE, job_execute, job_schedule, jobs_claim_due

pytestmark = pytest.mark.django_db

CALLS: list[dict] = []


def record_call(**kwargs):
    """A plain callable a job can point at (tests.core.test_jobs.record_call)."""
    CALLS.append(kwargs)


def explode(**kwargs):
    raise RuntimeError("provider said no")


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def _tick() -> int:
    """What one beat of `jobs_run_due` does, with the execution inline."""
    ids = jobs_claim_due()
    for job_id in ids:
        job_execute(job_id=job_id)
    return len(ids)


def test_a_timer_set_for_five_seconds_fires_after_five_seconds():
    with time_machine.travel("2026-11-27 09:00:00+00:00", tick=False) as traveller:
        job_schedule(
            task="tests.core.test_jobs.record_call",
            run_at=timezone.now() + timedelta(seconds=5),
            kwargs={"order": 42},
        )
        traveller.shift(timedelta(seconds=4.9))
        assert _tick() == 0 and CALLS == []
        traveller.shift(timedelta(seconds=0.1))
        assert _tick() == 1
        assert CALLS == [{"order": 42}]
        assert _tick() == 0, "a job runs once"
    assert ScheduledJob.objects.get().status == ScheduledJob.Status.DONE


def test_scheduling_twice_with_a_dedupe_key_keeps_one_timer():
    run_at = timezone.now() + timedelta(minutes=1)
    first = job_schedule(task="tests.core.test_jobs.record_call", run_at=run_at, dedupe_key="handoff:42")
    second = job_schedule(task="tests.core.test_jobs.record_call", run_at=run_at, dedupe_key="handoff:42")
    assert first.pk == second.pk
    assert ScheduledJob.objects.count() == 1


def test_an_unknown_task_is_refused_when_scheduled_not_when_fired():
    with pytest.raises(ImportError):
        job_schedule(task="opsportal.nowhere.task", run_at=timezone.now())
    assert ScheduledJob.objects.count() == 0


def test_executing_a_job_twice_runs_it_once():
    job = job_schedule(task="tests.core.test_jobs.record_call", run_at=timezone.now(), kwargs={"n": 1})
    [job_id] = jobs_claim_due()
    assert job_execute(job_id=job_id) is True
    assert job_execute(job_id=job.pk) is False
    assert CALLS == [{"n": 1}]


def test_a_job_claimed_by_a_worker_that_died_is_handed_out_again():
    with time_machine.travel("2026-11-27 09:00:00+00:00", tick=False) as traveller:
        job_schedule(task="tests.core.test_jobs.record_call", run_at=timezone.now(), kwargs={"n": 2})
        assert len(jobs_claim_due()) == 1  # claimed, then the worker vanishes
        assert jobs_claim_due() == []
        traveller.shift(JOB_CLAIM_LEASE + timedelta(seconds=1))
        assert _tick() == 1
    assert CALLS == [{"n": 2}]


def test_a_failing_job_is_retried_with_backoff_and_records_the_error():
    with time_machine.travel("2026-11-27 09:00:00+00:00", tick=False) as traveller:
        job = job_schedule(task="tests.core.test_jobs.explode", run_at=timezone.now())
        assert _tick() == 1
        job.refresh_from_db()
        assert job.status == ScheduledJob.Status.SCHEDULED
        assert job.last_error == "RuntimeError: provider said no"
        assert job.run_at > timezone.now()
        traveller.shift(timedelta(hours=1))
        for _ in range(10):
            _tick()
            traveller.shift(timedelta(hours=1))
    job.refresh_from_db()
    assert job.status == ScheduledJob.Status.FAILED
    assert job.attempts == 5


def test_a_timer_for_a_subject_at_a_new_instant_replaces_the_old_one():
    with time_machine.travel("2026-11-27 09:00:00+00:00", tick=False) as traveller:
        first = job_schedule(
            task="tests.core.test_jobs.record_call",
            run_at=timezone.now() + timedelta(minutes=5),
            kwargs={"for": "09:05"},
            subject="reminder:7",
        )
        moved = job_schedule(
            task="tests.core.test_jobs.record_call",
            run_at=timezone.now() + timedelta(minutes=10),
            kwargs={"for": "09:10"},
            subject="reminder:7",
        )
        assert moved.pk != first.pk
        traveller.shift(timedelta(minutes=5))
        _tick()
        assert CALLS == [], "the timer for the old instant does not fire"
        traveller.shift(timedelta(minutes=5))
        _tick()
    assert CALLS == [{"for": "09:10"}]


def test_a_subject_moved_back_to_an_instant_it_left_is_not_taken_for_a_duplicate():
    with time_machine.travel("2026-11-27 09:00:00+00:00", tick=False) as traveller:
        for minutes in (5, 10, 5):
            job_schedule(
                task="tests.core.test_jobs.record_call",
                run_at=timezone.now() + timedelta(minutes=minutes),
                kwargs={"for": minutes},
                subject="reminder:7",
            )
        traveller.shift(timedelta(minutes=11))
        _tick()
    assert CALLS == [{"for": 5}]


def test_the_same_subject_and_instant_twice_keeps_one_timer():
    run_at = timezone.now() + timedelta(minutes=1)
    for _ in range(2):
        job_schedule(task="tests.core.test_jobs.record_call", run_at=run_at, subject="handoff:42")
    assert ScheduledJob.objects.filter(subject="handoff:42").count() == 1
