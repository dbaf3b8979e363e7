"""On-call background work: handoff reminders, the heartbeat sweep. Thin wrappers over services; safe to run twice."""

from celery import shared_task
from django.core.cache import cache

from oncall import reminders
from opsportal.core.background import run_in_background


@shared_task(name="oncall.tasks.send_handoff_reminders")
def send_handoff_reminders() -> int:
    return reminders.handoff_reminders_send()


# Set while a tick is queued and not yet started: a storm of new alerts queues one tick, not one each.
TICK_QUEUED = "oncall:escalation-tick-queued"
TICK_QUEUED_TTL = 10  # seconds; a lost task only delays paging until the periodic tick (every 2 s)


TICK_STEPS = 400  # steps one tick runs at most (~2 ms each on 2 cores), so a tick stays under a second


@shared_task(name="oncall.tasks.escalations_tick")
def escalations_tick() -> int:
    from oncall import engine

    cache.delete(TICK_QUEUED)  # first: anything committed from now on asks for (and gets) another tick
    ran = engine.escalations_run_due(limit=TICK_STEPS)
    if ran >= TICK_STEPS:
        # More may be due (a storm): the next tick starts now, on whichever worker is free, rather than at the
        # next beat. Not debounced, so a storm keeps one chain of ticks per worker that started one; steps are
        # claimed with SKIP LOCKED, so they share the backlog, and each chain ends when a tick finds it empty.
        run_in_background(escalations_tick)
    return ran


def _start_once_committed(flag: str, task) -> None:
    """Start `task` once the caller's transaction commits, unless `flag` says a run is queued and not yet
    started (that run will see this commit, since it reads only after it starts and clears the flag first)."""
    from django.db import transaction

    def request() -> None:
        if cache.add(flag, 1, timeout=TICK_QUEUED_TTL):
            run_in_background(task)

    transaction.on_commit(request)


def escalations_tick_soon() -> None:
    """A tick once the caller's transaction commits (one queued at a time)."""
    _start_once_committed(TICK_QUEUED, escalations_tick)


# Set while an intake run is queued and not yet started: a storm of enqueued events queues one run at a time.
INTAKE_QUEUED = "oncall:alert-intake-queued"


@shared_task(name="oncall.tasks.alert_events_apply")
def alert_events_apply() -> int:
    from oncall import intake  # late: oncall.intake imports this module

    cache.delete(INTAKE_QUEUED)  # first: events committed from now on ask for (and get) another run
    applied = intake.alert_events_apply_queued()
    if applied:
        # New alerts' first steps now, in this worker, rather than one more trip through the broker (the tick
        # their commit asked for then finds nothing left to do).
        escalations_tick()
    return applied


def alert_events_apply_soon() -> None:
    """An intake run once the caller's transaction commits (one queued at a time)."""
    _start_once_committed(INTAKE_QUEUED, alert_events_apply)


@shared_task(name="oncall.tasks.heartbeats_sweep")
def heartbeats_sweep() -> int:
    from oncall import heartbeats  # late: oncall.alerting (which heartbeats uses) imports this module

    return heartbeats.heartbeats_sweep()
