"""On-call background work: handoff reminders, the heartbeat sweep. Thin wrappers over services; safe to run twice."""

from celery import shared_task

from oncall import heartbeats, reminders


@shared_task(name="oncall.tasks.send_handoff_reminders")
def send_handoff_reminders() -> int:
    return reminders.handoff_reminders_send()


@shared_task(name="oncall.tasks.heartbeats_sweep")
def heartbeats_sweep() -> int:
    return heartbeats.heartbeats_sweep()
