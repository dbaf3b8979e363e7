"""Outbox writes: enqueue a notification for many recipients inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction

from opsportal.notifications.models import Channel, Delivery, Message

CHUNK = 2000  # rows per INSERT: a constant number of queries per chunk, never one per recipient


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str
    ref: str = ""
    context: dict = field(default_factory=dict, hash=False, compare=False)


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
                        dedupe_key=f"{dedupe_key}|{recipient.channel}|{recipient.address}",
                    )
                )
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        transaction.on_commit(_start_delivery)
    return message


def _start_delivery() -> None:
    from opsportal.core.background import run_in_background
    from opsportal.notifications.tasks import deliver_due

    run_in_background(deliver_due)
