"""Maintenance timers: start and complete windows on time. Each is safe to run twice."""

from celery import shared_task

from opsportal.changes import services


@shared_task(name="opsportal.changes.tasks.maintenance_start_if_due")
def maintenance_start_if_due(window_id: int) -> bool:
    return services.maintenance_start_if_due(window_id=window_id)


@shared_task(name="opsportal.changes.tasks.maintenance_complete_if_due")
def maintenance_complete_if_due(window_id: int) -> bool:
    return services.maintenance_complete_if_due(window_id=window_id)


@shared_task(name="opsportal.changes.tasks.maintenance_sweep")
def maintenance_sweep() -> int:
    return services.maintenance_sweep()


@shared_task(name="opsportal.changes.tasks.maintenance_remind")
def maintenance_remind(window_id: int, starts_at: str | None = None) -> bool:
    return services.maintenance_remind_if_due(window_id=window_id, starts_at=starts_at)
