"""Retention: finished messages (and their deliveries) and finished timers go after their retention, by a
daily periodic job; anything still in flight, and the audit log, stay."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from opsportal.core.models import AuditEntry, ScheduledJob
from opsportal.core.services import job_cancel, job_schedule, jobs_prune
from opsportal.notifications.models import Delivery, Message
from opsportal.notifications.retention import notifications_prune
from opsportal.notifications.services import Recipient, message_cancel, notification_enqueue

pytestmark = pytest.mark.django_db


def _message(key: str, *statuses: str) -> Message:
    message = notification_enqueue(
        kind="incident_update",
        dedupe_key=key,
        subject="s",
        text="t",
        recipients=[Recipient("websocket", str(n)) for n in range(len(statuses))],
    )
    for delivery, status in zip(message.deliveries.order_by("pk"), statuses, strict=True):
        Delivery.objects.filter(pk=delivery.pk).update(status=status)
    return message


def test_finished_messages_older_than_the_retention_go_with_their_deliveries(settings, alice):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    with time_machine.travel("2026-10-01 12:00:00+00:00", tick=False):
        old_done = _message("old-done", "sent", "dead", "cancelled")
        old_open = _message("old-open", "sent", "pending")
        message_cancel(actor=alice, message=old_done)  # an admin's action is in the audit log
    with time_machine.travel("2026-10-25 12:00:00+00:00", tick=False):
        recent = _message("recent", "sent")
    with time_machine.travel("2026-11-01 12:00:01+00:00", tick=False):
        assert notifications_prune() == 3
    assert set(Message.objects.values_list("dedupe_key", flat=True)) == {"old-open", "recent"}
    assert not Delivery.objects.filter(message_id=old_done.pk).exists()
    assert old_open.deliveries.count() == 2 and recent.deliveries.count() == 1
    assert AuditEntry.objects.filter(action="notification.cancelled").exists()  # the audit log is kept


def test_a_message_still_expanding_is_kept_whatever_its_age():
    with time_machine.travel("2026-01-01 12:00:00+00:00", tick=False):
        Message.objects.create(
            kind="k", dedupe_key="expanding", subject="s", text_body="t", expansion="pending"
        )
    assert notifications_prune() == 0
    assert Message.objects.filter(dedupe_key="expanding").exists()


def test_finished_timers_older_than_the_retention_go_and_waiting_ones_stay(settings):
    settings.JOB_RETENTION_DAYS = 7
    task = "tests.core.test_jobs.record_call"
    with time_machine.travel("2026-11-01 12:00:00+00:00", tick=False):
        done = job_schedule(task=task, run_at=timezone.now())
        ScheduledJob.objects.filter(pk=done.pk).update(status="done", finished_at=timezone.now())
        job_cancel(job=job_schedule(task=task, run_at=timezone.now() + timedelta(days=1)))
        waiting = job_schedule(task=task, run_at=timezone.now() + timedelta(days=30))
    with time_machine.travel("2026-11-08 12:00:01+00:00", tick=False):
        assert jobs_prune() == 2
    assert list(ScheduledJob.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_retention_runs_daily_from_the_periodic_table(settings):
    periodic = {task: seconds for task, seconds in settings.PERIODIC_TASKS.values()}
    assert periodic["opsportal.notifications.tasks.prune_notifications"] == 86400
    assert periodic["opsportal.core.tasks.prune_jobs"] == 86400
