"""Retention: messages whose deliveries have all finished are deleted with their deliveries once older than
NOTIFICATION_RETENTION_DAYS. The audit log (who cancelled or retried what) is kept."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from opsportal.notifications.models import Delivery, Message

# Deleting in slices keeps each transaction (and its locks) short on a 100,000-row fan-out.
BATCH = 5000


def notifications_prune(*, now=None, days: int | None = None) -> int:
    """Delete finished messages older than the retention and their deliveries. Returns deliveries deleted.

    A message still sending, retrying or being expanded is kept whatever its age."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS if days is None else days)
    open_rows = Delivery.objects.filter(
        message=OuterRef("pk"), status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
    )
    finished = (
        Message.objects.filter(created_at__lt=cutoff)
        .exclude(expansion=Message.Expansion.PENDING)
        .filter(~Exists(open_rows))
    )
    deleted = 0
    for message_id in list(finished.values_list("pk", flat=True)):
        while True:
            with transaction.atomic():
                ids = list(
                    Delivery.objects.filter(message_id=message_id).values_list("pk", flat=True)[:BATCH]
                )
                if not ids:
                    # Only if nothing was added meanwhile (a retry is impossible without rows, but be sure).
                    Message.objects.filter(pk=message_id).filter(~Exists(open_rows)).delete()
                    break
                deleted += Delivery.objects.filter(pk__in=ids).delete()[0]
    return deleted
