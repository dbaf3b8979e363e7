"""The Celery app: production runs `celery worker` and `celery beat` on Redis."""

import os

from celery import Celery
from celery.signals import celeryd_after_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

app = Celery("opsportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_beat_schedule(sender, **kwargs):
    # Beat and the embedded scheduler read the same table of periodic timers.
    from django.conf import settings

    sender.conf.beat_schedule = {
        name: {"task": task, "schedule": seconds} for name, (task, seconds) in settings.PERIODIC_TASKS.items()
    }


@celeryd_after_setup.connect
def _worker_started(sender, instance, **kwargs):
    # In the main process, before the pool forks and before any task is taken: the children inherit the node
    # name their claims carry, and what an earlier run of this node held is handed back at once.
    from django.conf import settings
    from django.utils.module_loading import import_string

    for hook in settings.WORKER_STARTUP_HOOKS:
        import_string(hook)(node=str(sender))
