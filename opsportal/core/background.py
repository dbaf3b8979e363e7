"""Where background work goes: Celery workers in production, the in-process worker in embedded mode."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# The embedded runner's worker, while one runs in this process. It registers itself here, so core can hand
# it work (and /readyz can ask after it) without importing the runner, which lives a layer above core.
_in_process_worker = None


def in_process_worker():
    """The running embedded worker, or None (production, tests, management commands)."""
    return _in_process_worker


def in_process_worker_set(worker) -> None:
    global _in_process_worker
    _in_process_worker = worker


def run_in_background(task, /, **kwargs) -> None:
    """Start a Celery task now: on the broker in production, on the embedded worker otherwise.

    Without a running embedded worker (tests, management commands) the task runs inline, so the
    outcome is the same everywhere, only the thread differs.
    """
    if settings.RUNNING_MODE == "production":
        task.apply_async(kwargs=kwargs)
        return
    worker = in_process_worker()
    if worker is not None:
        worker.submit(task, kwargs)
    else:
        task.apply(kwargs=kwargs, throw=True)


def run_on_commit(task, /, **kwargs) -> None:
    """Start a task once the surrounding transaction commits (never for a rolled-back change)."""
    transaction.on_commit(lambda: run_in_background(task, **kwargs))
