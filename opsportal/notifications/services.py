"""Outbox writes: enqueue a notification for many recipients inside the caller's transaction; admins'
cancel and retry."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction
from django.utils import timezone

from opsportal.core.services import audit_record, require_permission
from opsportal.notifications.models import Channel, Delivery, Message

CHUNK = 2000  # rows per INSERT: a constant number of queries per chunk, never one per recipient


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str
    ref: str = ""
    context: dict = field(default_factory=dict, hash=False, compare=False)


def _address_digest(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()[:32]


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def notification_enqueue(
    *,
    kind: str,
    dedupe_key: str,
    subject: str,
    text: str,
    html: str = "",
    payload: dict | None = None,
    recipients: Iterable[Recipient],
) -> Message:
    """Write the message and one outbox row per recipient and channel, in the caller's transaction.

    Enqueueing the same dedupe key again adds nobody twice: the message and each row have unique keys.
    Delivery starts when the transaction commits.
    """
    with transaction.atomic():
        message, _ = Message.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={
                "kind": kind,
                "subject": subject,
                "text_body": text,
                "html_body": html,
                "payload": payload or {},
            },
        )
        for chunk in _chunks(recipients, CHUNK):
            rows = []
            for recipient in chunk:
                if recipient.channel not in Channel.values:
                    raise ValueError(f"Unknown channel {recipient.channel!r}")
                rows.append(
                    Delivery(
                        message=message,
                        channel=recipient.channel,
                        address=recipient.address,
                        recipient_ref=recipient.ref,
                        context=recipient.context,
                        # Hashed: a 500-character webhook URL must not overflow the key column.
                        dedupe_key=f"{dedupe_key}|{recipient.channel}|{_address_digest(recipient.address)}",
                    )
                )
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        transaction.on_commit(_start_delivery)
    return message


def _start_delivery() -> None:
    from django.conf import settings

    from opsportal.core.background import run_in_background
    from opsportal.notifications.tasks import deliver_due

    # Several tasks, so every worker takes chunks of a big fan-out at once (claims never overlap).
    for _ in range(max(1, settings.NOTIFICATION_DELIVERY_TASKS)):
        run_in_background(deliver_due)


def message_cancel(*, actor, message: Message) -> int:
    """Cancel every delivery of `message` still waiting; ones already being sent finish. Returns how many."""
    require_permission(actor, "core.administer")
    with transaction.atomic():
        cancelled = message.deliveries.filter(status=Delivery.Status.PENDING).update(
            status=Delivery.Status.CANCELLED, next_attempt_at=timezone.now()
        )
        audit_record(
            actor=actor, action="notification.cancelled", obj=message, after={"cancelled": cancelled}
        )
        transaction.on_commit(lambda: _publish_progress(message.pk))
    return cancelled


def delivery_retry(*, actor, delivery: Delivery) -> bool:
    """Send a dead or cancelled delivery again, with a fresh allowance of attempts and the SAME idempotency
    key, so a webhook receiver that did get it can drop the copy. False when it was not dead or cancelled."""
    require_permission(actor, "core.administer")
    with transaction.atomic():
        retried = Delivery.objects.filter(
            pk=delivery.pk, status__in=[Delivery.Status.DEAD, Delivery.Status.CANCELLED]
        ).update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_at=None)
        if retried:
            audit_record(
                actor=actor,
                action="notification.delivery_retried",
                obj=delivery,
                before={"status": delivery.status, "last_error": delivery.last_error},
                after={"status": Delivery.Status.PENDING},
            )
            transaction.on_commit(_start_delivery)
            transaction.on_commit(lambda: _publish_progress(delivery.message_id))
    delivery.refresh_from_db()
    return bool(retried)


def _publish_progress(message_id: int) -> None:
    from opsportal.notifications.delivery import publish_progress

    publish_progress([message_id])
