"""The Celery app: production runs `celery worker` and `celery beat` on Redis."""

import os

from celery import Celery

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
