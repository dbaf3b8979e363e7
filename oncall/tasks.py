"""On-call background work: handoff reminders, the heartbeat sweep. Thin wrappers over services; safe to run twice."""

from celery import shared_task

from oncall import reminders


@shared_task(name="oncall.tasks.send_handoff_reminders")
def send_handoff_reminders() -> int:
    return reminders.handoff_reminders_send()


@shared_task(name="oncall.tasks.escalations_tick")
def escalations_tick() -> int:
    from oncall import engine

    return engine.escalations_run_due()


@shared_task(name="oncall.tasks.heartbeats_sweep")
def heartbeats_sweep() -> int:
    from oncall import heartbeats  # late: oncall.alerting (which heartbeats uses) imports this module

    return heartbeats.heartbeats_sweep()
