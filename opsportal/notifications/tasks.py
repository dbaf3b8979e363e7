"""Notification background work (delivery engine is filled in by the delivery module)."""

from celery import shared_task


@shared_task(name="opsportal.notifications.tasks.deliver_due")
def deliver_due() -> int:
    from opsportal.notifications.delivery import deliver_due_batches

    return deliver_due_batches()
