"""Portal background work: the live-update self-test."""

from celery import shared_task
from django.utils import timezone

from opsportal.core.live import broadcast_now, user_group


@shared_task(name="opsportal.portal.tasks.deliver_live_check")
def deliver_live_check(*, user_id: int, requested_at: str) -> None:
    """Fired by a durable timer; proves timers, background work and WebSockets all work end to end."""
    broadcast_now(
        user_group(user_id),
        {
            "kind": "live_check",
            "requested_at": requested_at,
            "delivered_at": timezone.now().isoformat(),
            "message": "Live check: a timer fired in the background and reached this page.",
        },
    )
