"""Periodic timers: Celery beat (production) and the embedded scheduler read the same table."""

from django.conf import settings
from django.utils.module_loading import import_string

from opsportal.celery import app


def test_every_periodic_task_exists_and_beat_schedules_it():
    app.finalize()
    for name, (task_path, seconds) in settings.PERIODIC_TASKS.items():
        assert import_string(task_path).name == task_path
        assert app.conf.beat_schedule[name] == {"task": task_path, "schedule": seconds}
    assert {"run-due-jobs", "check-sla-clocks"} <= set(settings.PERIODIC_TASKS)
