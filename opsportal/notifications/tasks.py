"""Notification background work: expanding audiences, the delivery engine, retention. Thin wrappers over
the services; each is safe to run twice."""

from celery import shared_task


@shared_task(name="opsportal.notifications.tasks.deliver_due")
def deliver_due() -> int:
    from opsportal.notifications.delivery import deliver_due_batches

    return deliver_due_batches()


@shared_task(name="opsportal.notifications.tasks.expand_message")
def expand_message(message_id: int) -> int:
    """Write a message's outbox rows; delivery starts with the first chunk, and each later chunk adds a
    delivery task so sending keeps pace with the expansion."""
    from django.conf import settings

    from opsportal.core.background import run_in_background
    from opsportal.notifications.expansion import message_expand

    started = False

    def start_delivery() -> None:
        nonlocal started
        for _ in range(1 if started else max(1, settings.NOTIFICATION_DELIVERY_TASKS)):
            run_in_background(deliver_due)
        started = True

    return message_expand(message_id=message_id, on_chunk=start_delivery)


@shared_task(name="opsportal.notifications.tasks.expand_pending")
def expand_pending() -> int:
    """The sweep: resume every expansion whose start was lost or whose process died."""
    from opsportal.core.background import run_in_background
    from opsportal.notifications.expansion import messages_awaiting_expansion

    ids = messages_awaiting_expansion()
    for message_id in ids:
        run_in_background(expand_message, message_id=message_id)
    return len(ids)


@shared_task(name="opsportal.notifications.tasks.prune_notifications")
def prune_notifications() -> int:
    from opsportal.notifications.retention import notifications_prune

    return notifications_prune()
