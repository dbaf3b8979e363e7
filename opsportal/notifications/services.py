"""Outbox writes: enqueue a notification for many recipients inside the caller's transaction; admins'
cancel and retry."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from opsportal.core.roles import ADMINISTER
from opsportal.core.services import audit_record, require_permission
from opsportal.notifications.models import Channel, Delivery, Message

COPY_FROM = 50  # rows in a chunk from which PostgreSQL's COPY beats a multi-row INSERT
CHUNK = 2000  # rows per INSERT: a constant number of queries per chunk, never one per recipient
# Never stored in an outbox row: the recipient's owner supplies them at send time (NOTIFICATIONS_RECIPIENT_CONTEXT).
SECRET_CONTEXT_KEYS = frozenset(
    {"secret", "unsubscribe_url", "manage_url", "confirm_url", "short_url", "token"}
)


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
    recipient_slots: Iterable[str] = (),
) -> Message:
    """Write the message and one outbox row per recipient and channel, in the caller's transaction. For a
    few recipients; a large audience goes through notification_enqueue_for_audience.

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
                "recipient_slots": sorted(recipient_slots),
            },
        )
        outbox_rows_write(message, recipients)
        _start_delivery_on_commit()
    return message


@dataclass(frozen=True)
class Notification:
    """One message for a few recipients, for notifications_enqueue_many."""

    kind: str
    dedupe_key: str
    subject: str
    text: str
    recipients: tuple[Recipient, ...]
    html: str = ""
    payload: dict = field(default_factory=dict, hash=False, compare=False)
    recipient_slots: tuple[str, ...] = ()


def notifications_enqueue_many(notifications: list[Notification]) -> dict[str, list[Delivery]]:
    """notification_enqueue for many small messages at once (an escalation tick's pages), in a constant
    number of statements: the messages, their outbox rows, and one read back. Same at-most-once keys.
    Returns each message's outbox rows by the message's dedupe key."""
    if not notifications:
        return {}
    with transaction.atomic():
        Message.objects.bulk_create(
            [
                Message(
                    kind=n.kind,
                    dedupe_key=n.dedupe_key,
                    subject=n.subject,
                    text_body=n.text,
                    html_body=n.html,
                    payload=n.payload or {},
                    recipient_slots=sorted(n.recipient_slots),
                )
                for n in notifications
            ],
            ignore_conflicts=True,
        )
        messages = Message.objects.in_bulk([n.dedupe_key for n in notifications], field_name="dedupe_key")
        rows = []
        for n in notifications:
            for recipient in n.recipients:
                if recipient.channel not in Channel.values or SECRET_CONTEXT_KEYS & recipient.context.keys():
                    raise ValueError(f"Refused outbox row for {n.dedupe_key!r}: unknown channel or a secret")
                rows.append(
                    Delivery(
                        message=messages[n.dedupe_key],
                        channel=recipient.channel,
                        address=recipient.address,
                        recipient_ref=recipient.ref,
                        context=recipient.context,
                        dedupe_key=_row_key(n.dedupe_key, recipient),
                    )
                )
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        written: dict[str, list[Delivery]] = {n.dedupe_key: [] for n in notifications}
        by_message = {message.pk: key for key, message in messages.items()}
        for delivery in Delivery.objects.filter(message_id__in=by_message):
            written[by_message[delivery.message_id]].append(delivery)
        _start_delivery_on_commit()
    return written


def notification_enqueue_for_audience(
    *,
    kind: str,
    dedupe_key: str,
    subject: str,
    text: str,
    html: str = "",
    payload: dict | None = None,
    audience: str,
    params: dict,
) -> Message:
    """Write ONE message naming its audience (a name in settings.NOTIFICATION_AUDIENCES, with `params`), in
    the caller's transaction. Its outbox rows are written after commit, in durable, resumable chunks
    (notifications.expansion), so the caller's transaction and its locks stay short whatever the audience."""
    from django.conf import settings

    if audience not in settings.NOTIFICATION_AUDIENCES:
        raise ValueError(f"Unknown audience {audience!r}")
    with transaction.atomic():
        message, created = Message.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={
                "kind": kind,
                "subject": subject,
                "text_body": text,
                "html_body": html,
                "payload": payload or {},
                "audience": audience,
                "audience_params": params,
                "expansion": Message.Expansion.PENDING,
            },
        )
        if created:
            transaction.on_commit(lambda: _start_expansion(message.pk))
    return message


def outbox_rows_write(message: Message, recipients: Iterable[Recipient]) -> int:
    """Insert one row per recipient (chunked, constant queries per chunk); rows already there are skipped."""
    count = 0
    for chunk in _chunks(recipients, CHUNK):
        # COPY pays for its temporary table only on big chunks; a page to one person is one INSERT.
        write = _copy_rows if connection.vendor == "postgresql" and len(chunk) > COPY_FROM else _insert_rows
        for recipient in chunk:
            if recipient.channel not in Channel.values:
                raise ValueError(f"Unknown channel {recipient.channel!r}")
            if SECRET_CONTEXT_KEYS & recipient.context.keys():
                raise ValueError(
                    f"Secrets and signed links are looked up at send time, not stored: "
                    f"{sorted(SECRET_CONTEXT_KEYS & recipient.context.keys())}"
                )
        write(message, message.dedupe_key, chunk)
        count += len(chunk)
    return count


def _row_key(dedupe_key: str, recipient: Recipient) -> str:
    # Hashed: a 500-character webhook URL must not overflow the key column.
    return f"{dedupe_key}|{recipient.channel}|{_address_digest(recipient.address)}"


def _insert_rows(message: Message, dedupe_key: str, chunk: list[Recipient]) -> None:
    Delivery.objects.bulk_create(
        [
            Delivery(
                message=message,
                channel=r.channel,
                address=r.address,
                recipient_ref=r.ref,
                context=r.context,
                dedupe_key=_row_key(dedupe_key, r),
            )
            for r in chunk
        ],
        ignore_conflicts=True,
    )


_COPY_COLUMNS = (
    "message_id",
    "channel",
    "address",
    "recipient_ref",
    "context",
    "dedupe_key",
    "idempotency_key",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "last_error",
    "claimed_by",
)


def _copy_rows(message: Message, dedupe_key: str, chunk: list[Recipient]) -> None:
    """PostgreSQL: COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING. Several times
    faster than INSERT statements for a large fan-out, with the same at-most-once rows."""
    now = timezone.now()
    columns = ", ".join(_COPY_COLUMNS)
    with connection.cursor() as cursor:
        # Only the loaded columns, no constraints; the ids come from the real table's identity on INSERT.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS notifications_delivery_load ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM notifications_delivery WITH NO DATA"
        )
        cursor.execute("TRUNCATE notifications_delivery_load")
        with cursor.copy(f"COPY notifications_delivery_load ({columns}) FROM STDIN") as copy:
            for r in chunk:
                copy.write_row(
                    (
                        message.pk,
                        r.channel,
                        r.address,
                        r.ref,
                        json.dumps(r.context),
                        _row_key(dedupe_key, r),
                        uuid.uuid4(),
                        Delivery.Status.PENDING,
                        0,
                        now,
                        now,
                        "",
                        "",
                    )
                )
        cursor.execute(  # the column names are our constants, not input
            f"INSERT INTO notifications_delivery ({columns}) SELECT {columns} FROM notifications_delivery_load "  # noqa: S608
            "ON CONFLICT (dedupe_key) DO NOTHING"
        )


def _start_delivery_on_commit() -> None:
    """Start delivery when the transaction commits, once however many messages it enqueued (a tick handing
    500 pages to the outbox starts the workers once, not 500 times)."""
    if any(func is _start_delivery for _savepoints, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_start_delivery)


def _start_delivery() -> None:
    from django.conf import settings

    from opsportal.core.background import run_in_background
    from opsportal.notifications.tasks import deliver_due

    # Several tasks, so every worker takes chunks of a big fan-out at once (claims never overlap).
    for _ in range(max(1, settings.NOTIFICATION_DELIVERY_TASKS)):
        run_in_background(deliver_due)


def _start_expansion(message_id: int) -> None:
    from opsportal.core.background import run_in_background
    from opsportal.notifications.tasks import expand_message

    run_in_background(expand_message, message_id=message_id)


def message_cancel(*, actor, message: Message) -> int:
    """Cancel every delivery of `message` still waiting, and the expansion of its audience if it is still
    going; ones already being sent finish. Returns how many deliveries were cancelled."""
    require_permission(actor, ADMINISTER)
    with transaction.atomic():
        # Waits for an expansion chunk in flight (it locks the message); the next chunk sees the cancel.
        Message.objects.filter(pk=message.pk, expansion=Message.Expansion.PENDING).update(
            expansion=Message.Expansion.CANCELLED
        )
        cancelled = message.deliveries.filter(status=Delivery.Status.PENDING).update(
            status=Delivery.Status.CANCELLED, next_attempt_at=timezone.now()
        )
        audit_record(
            actor=actor, action="notification.cancelled", obj=message, after={"cancelled": cancelled}
        )
        transaction.on_commit(lambda: _publish_progress(message.pk))
    return cancelled


# A live worker renews its claims every few seconds (delivery.HEARTBEAT); one not renewed for this long is
# stuck (its worker died), and admins may act on it before the sweep's lease hands it out again.
STUCK_AFTER = timedelta(seconds=30)


def stuck_sending() -> Q:
    return Q(status=Delivery.Status.SENDING, claimed_at__lt=timezone.now() - STUCK_AFTER)


def delivery_retry(*, actor, delivery: Delivery) -> bool:
    """Send a dead, cancelled or stuck delivery again, with a fresh allowance of attempts and the SAME
    idempotency key (and email Message-ID), so a receiver that did get it can drop the copy. False when it
    was none of those."""
    require_permission(actor, ADMINISTER)
    with transaction.atomic():
        retried = (
            Delivery.objects.filter(pk=delivery.pk)
            .filter(Q(status__in=[Delivery.Status.DEAD, Delivery.Status.CANCELLED]) | stuck_sending())
            .update(
                status=Delivery.Status.PENDING,
                attempts=0,
                next_attempt_at=timezone.now(),
                claimed_at=None,
                claimed_by="",
            )
        )
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


def delivery_release(*, actor, delivery: Delivery) -> bool:
    """Hand a stuck `sending` row back to the queue now, keeping its attempt count. False if it is not stuck
    (a live worker is still renewing its claim, or it has finished)."""
    require_permission(actor, ADMINISTER)
    with transaction.atomic():
        released = (
            Delivery.objects.filter(pk=delivery.pk)
            .filter(stuck_sending())
            .update(
                status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), claimed_at=None, claimed_by=""
            )
        )
        if released:
            audit_record(
                actor=actor,
                action="notification.delivery_released",
                obj=delivery,
                before={"status": Delivery.Status.SENDING, "claimed_by": delivery.claimed_by},
                after={"status": Delivery.Status.PENDING},
            )
            transaction.on_commit(_start_delivery)
            transaction.on_commit(lambda: _publish_progress(delivery.message_id))
    delivery.refresh_from_db()
    return bool(released)


def delivery_cancel(*, actor, delivery: Delivery) -> bool:
    """Stop one delivery that is waiting, or stuck in `sending`. False if it is neither."""
    require_permission(actor, ADMINISTER)
    with transaction.atomic():
        cancelled = (
            Delivery.objects.filter(pk=delivery.pk)
            .filter(Q(status=Delivery.Status.PENDING) | stuck_sending())
            .update(status=Delivery.Status.CANCELLED, claimed_at=None, claimed_by="")
        )
        if cancelled:
            audit_record(
                actor=actor,
                action="notification.delivery_cancelled",
                obj=delivery,
                before={"status": delivery.status},
                after={"status": Delivery.Status.CANCELLED},
            )
            transaction.on_commit(lambda: _publish_progress(delivery.message_id))
    delivery.refresh_from_db()
    return bool(cancelled)


def message_release_stuck(*, actor, message: Message) -> int:
    """Hand every stuck `sending` row of `message` back to the queue. Returns how many."""
    require_permission(actor, ADMINISTER)
    with transaction.atomic():
        released = message.deliveries.filter(stuck_sending()).update(
            status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), claimed_at=None, claimed_by=""
        )
        if released:
            audit_record(
                actor=actor, action="notification.stuck_released", obj=message, after={"released": released}
            )
            transaction.on_commit(_start_delivery)
            transaction.on_commit(lambda: _publish_progress(message.pk))
    return released
