"""Where background work goes: Celery workers in production, the in-process worker in embedded mode."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def run_in_background(task, /, **kwargs) -> None:
    """Start a Celery task now: on the broker in production, on the embedded worker otherwise.

    Without a running embedded worker (tests, management commands) the task runs inline, so the
    outcome is the same everywhere, only the thread differs.
    """
    if settings.RUNNING_MODE == "production":
        task.apply_async(kwargs=kwargs)
        return
    from opsportal.embedded.worker import current_worker

    worker = current_worker()
    if worker is not None:
        worker.submit(task, kwargs)
    else:
        task.apply(kwargs=kwargs, throw=True)


def run_on_commit(task, /, **kwargs) -> None:
    """Start a task once the surrounding transaction commits (never for a rolled-back change)."""
    transaction.on_commit(lambda: run_in_background(task, **kwargs))
