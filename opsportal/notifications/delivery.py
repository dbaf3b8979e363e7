"""The delivery engine: claim due outbox rows in chunks, hand each channel's share to its transport, and
record the outcomes with a constant number of queries per chunk."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from opsportal.core.live import broadcast_now, staff_group
from opsportal.notifications import backoff
from opsportal.notifications.models import Delivery, Message
from opsportal.notifications.transports import PermanentError, TransientError, transport_for
from opsportal.notifications.workers import claim_token

logger = logging.getLogger(__name__)

CHUNK_SIZE = 250
# A claim is short and renewed while the worker is at it (every HEARTBEAT): a row whose claim has not been
# renewed for CLAIM_LEASE belongs to a worker that died, and is handed out again. The lease is well above
# the longest single send (transport timeouts are 5-10 s), so a live worker never loses its rows.
CLAIM_LEASE = timedelta(seconds=60)
HEARTBEAT = timedelta(seconds=5)
# Outcomes are written as they happen: every OUTCOME_BATCH rows, and at least every OUTCOME_SECONDS.
OUTCOME_SECONDS = 0.25
# One call stops after this many chunks so a worker is not held forever; the sweep continues.
MAX_CHUNKS = 400

Status = Delivery.Status


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, pending (retry) or dead
    error: str = ""
    next_attempt_at: datetime | None = None
    bounced: bool = False  # the address itself was refused: the owner of the recipient should stop using it


@dataclass(frozen=True)
class Claim:
    token: str  # names the worker; outcomes are written only to rows still carrying it
    at: datetime


def message_group(message_id: int) -> str:
    return f"message-{message_id}"


def deliveries_claim_due(*, limit: int = CHUNK_SIZE) -> tuple[Claim, list[Delivery]]:
    """Claim up to `limit` due rows, mark them sending and count the attempt. Each row goes to one caller.

    SKIP LOCKED lets several workers claim side by side on PostgreSQL; SQLite serialises writers, so the
    same query is safe there.
    """
    now = timezone.now()
    claim = Claim(claim_token(), now)
    with transaction.atomic():
        due = Delivery.objects.filter(
            Q(status=Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_LEASE)
        )
        ids = list(
            due.order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return claim, []
        Delivery.objects.filter(pk__in=ids).update(
            status=Status.SENDING, claimed_at=now, claimed_by=claim.token, attempts=F("attempts") + 1
        )
    deliveries = list(Delivery.objects.filter(pk__in=ids, status=Status.SENDING, claimed_by=claim.token))
    # Messages once per chunk rather than joined onto every row: a fan-out shares one large body.
    messages = Message.objects.in_bulk({delivery.message_id for delivery in deliveries})
    for delivery in deliveries:
        delivery.message = messages[delivery.message_id]
    _attach_send_context(deliveries)
    return claim, deliveries


def _context_hooks() -> dict[str, str]:
    """settings.NOTIFICATIONS_RECIPIENT_CONTEXT: {ref prefix: dotted path} ("subscriber" for
    "subscriber:12"); a plain dotted path serves every ref."""
    setting = getattr(settings, "NOTIFICATIONS_RECIPIENT_CONTEXT", None) or {}
    return {"": setting} if isinstance(setting, str) else dict(setting)


def _attach_send_context(deliveries: list[Delivery]) -> None:
    """Secrets and signed links are looked up now, at send time, by whoever owns the recipients (a hook
    per ref prefix, in settings): they are never copied into outbox rows or message payloads."""
    for delivery in deliveries:
        delivery.send_context = {}
    hooks = _context_hooks()
    refs_by_hook: dict[str, set[str]] = defaultdict(set)
    for delivery in deliveries:
        if delivery.recipient_ref:
            prefix = delivery.recipient_ref.split(":", 1)[0]
            hook_path = hooks.get(prefix) or hooks.get("")
            if hook_path:
                refs_by_hook[hook_path].add(delivery.recipient_ref)
    if not refs_by_hook:
        return
    slots = {slot for d in deliveries for slot in d.message.recipient_slots or []}
    found: dict[str, dict] = {}
    failed: set[str] = set()
    for hook_path, refs in refs_by_hook.items():
        try:
            found.update(import_string(hook_path)(refs=sorted(refs), slots=slots))
        except Exception:
            # Sending without the unsubscribe link or the signature is worse than sending a little later.
            logger.exception("Looking up recipient details with %s failed", hook_path)
            failed |= refs
    for delivery in deliveries:
        if delivery.recipient_ref in failed:
            delivery.send_context = None
        elif delivery.recipient_ref:
            delivery.send_context = found.get(delivery.recipient_ref, {})


def _outcome_of_failure(delivery: Delivery, error: Exception, now: datetime) -> Outcome:
    text = str(error)[:2000] or type(error).__name__
    if isinstance(error, TransientError):
        if backoff.gives_up(delivery.attempts):
            return Outcome(Status.DEAD, f"Gave up after {delivery.attempts} attempts: {text}")
        delay = backoff.retry_delay(delivery.attempts)
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, backoff.CAP))
        return Outcome(Status.PENDING, text, now + delay)
    # An email refused outright by the receiving server is a hard bounce.
    return Outcome(Status.DEAD, text, bounced=delivery.channel == "email")


class _Recorder:
    """Writes each row's outcome as it happens (grouped at most OUTCOME_SECONDS or OUTCOME_BATCH rows), and
    renews the claim on the rows still to send every HEARTBEAT. Only rows still ours are touched: a row
    cancelled meanwhile, or re-claimed by another worker after our lease ran out, keeps what they wrote."""

    def __init__(self, claim: Claim, deliveries: list[Delivery]):
        self.claim = claim
        self.open_ids = {delivery.pk for delivery in deliveries}
        self.outcomes: dict[int, Outcome] = {}
        self.unwritten: list[Delivery] = []
        self.batch = max(1, getattr(settings, "NOTIFICATION_OUTCOME_BATCH", 1))
        self.last_write = time.monotonic()
        # Wall-clock time, like the claimed_at it renews and the lease it is compared with.
        self.last_heartbeat = timezone.now()

    def add(self, delivery: Delivery, outcome: Outcome) -> None:
        self.outcomes[delivery.pk] = outcome
        self.unwritten.append(delivery)
        self.open_ids.discard(delivery.pk)
        if len(self.unwritten) >= self.batch or time.monotonic() - self.last_write >= OUTCOME_SECONDS:
            self.write()

    def _heartbeat_due(self) -> bool:
        return timezone.now() - self.last_heartbeat >= HEARTBEAT

    def beat(self) -> None:
        """Between sends: keep the claim on what is left fresh."""
        if self._heartbeat_due():
            self.write()

    def write(self) -> None:
        heartbeat_due = self._heartbeat_due()
        if not self.unwritten and not (heartbeat_due and self.open_ids):
            return
        now = timezone.now()
        ours = Delivery.objects.filter(status=Status.SENDING, claimed_by=self.claim.token)
        sent = [d.pk for d in self.unwritten if self.outcomes[d.pk].status == Status.SENT]
        failed = []
        for delivery in self.unwritten:
            outcome = self.outcomes[delivery.pk]
            if outcome.status == Status.SENT:
                continue
            delivery.status = outcome.status
            delivery.last_error = outcome.error
            delivery.next_attempt_at = outcome.next_attempt_at or delivery.next_attempt_at
            delivery.claimed_at = None
            delivery.claimed_by = ""
            failed.append(delivery)
        writes = []
        if sent:
            writes.append(
                lambda: ours.filter(pk__in=sent).update(
                    status=Status.SENT, sent_at=now, last_error="", claimed_at=None, claimed_by=""
                )
            )
        if failed:
            writes.append(
                lambda: ours.filter(pk__in=[d.pk for d in failed]).bulk_update(
                    failed, ["status", "last_error", "next_attempt_at", "claimed_at", "claimed_by"]
                )
            )
        if heartbeat_due and self.open_ids:
            open_ids = set(self.open_ids)
            writes.append(lambda: ours.filter(pk__in=open_ids).update(claimed_at=now))
        if len(writes) == 1:
            writes[0]()  # one statement, one round trip: the common case of one row sent
        else:
            with transaction.atomic():
                for write in writes:
                    write()
        if heartbeat_due:
            self.last_heartbeat = now
        self.unwritten = []
        self.last_write = time.monotonic()


def _send_channel(channel: str, deliveries: list[Delivery], recorder: _Recorder) -> None:
    def fail_all(error: Exception) -> None:
        now = timezone.now()
        for delivery in deliveries:
            recorder.add(delivery, _outcome_of_failure(delivery, error, now))

    try:
        transport = transport_for(channel)
        transport.open()
    except (PermanentError, TransientError) as exc:
        fail_all(exc)
        return
    try:
        for delivery in deliveries:
            if delivery.pk in recorder.outcomes:
                continue
            recorder.beat()
            try:
                transport.send(delivery)
            except (PermanentError, TransientError) as exc:
                recorder.add(delivery, _outcome_of_failure(delivery, exc, timezone.now()))
            except Exception as exc:
                # A bug, not the peer: retrying blindly could repeat a half-done send. An admin can retry.
                logger.exception("Delivery %s on %s failed unexpectedly", delivery.pk, channel)
                recorder.add(delivery, Outcome(Status.DEAD, f"Internal error: {type(exc).__name__}: {exc}"))
            else:
                recorder.add(delivery, Outcome(Status.SENT))
    finally:
        try:
            transport.close()
        except Exception:
            logger.exception("Closing the %s transport failed", channel)


def message_progress(message_ids) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {message_id: {} for message_id in message_ids}
    rows = (
        Delivery.objects.filter(message_id__in=message_ids)
        .values_list("message_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for message_id, status, n in rows:
        counts[message_id][status] = n
    return counts


# Counting a 100,000-row fan-out takes ~0.15 s; once a second per message is plenty for a progress bar.
PROGRESS_EVERY_SECONDS = 1.0


def publish_progress(message_ids) -> None:
    """Move the delivery log's progress bars. Best effort: a channel layer hiccup must not stop delivery."""
    due = list(message_ids)
    for message_id, counts in message_progress(due).items():
        event = {"kind": "delivery.progress", "message": message_id, "counts": counts}
        for group in (message_group(message_id), staff_group()):
            try:
                broadcast_now(group, event)
            except Exception:
                logger.warning("Could not publish delivery progress to %s", group, exc_info=True)


@contextlib.contextmanager
def _outcomes_without_flush():
    """Outcomes must survive the worker, not a crash of the database server: on PostgreSQL this connection
    skips the WAL flush per commit while it sends, so writing each outcome as it happens costs one round trip."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def deliver_claimed(claim: Claim, deliveries: list[Delivery]) -> dict[int, Outcome]:
    with _outcomes_without_flush():
        return _deliver_claimed(claim, deliveries)


def _deliver_claimed(claim: Claim, deliveries: list[Delivery]) -> dict[int, Outcome]:
    recorder = _Recorder(claim, deliveries)
    for delivery in deliveries:
        # Attempts are counted at claim time, so a row that keeps killing its worker still runs out.
        if delivery.attempts > backoff.MAX_ATTEMPTS:
            recorder.add(
                delivery,
                Outcome(
                    Status.DEAD, f"Gave up after {delivery.attempts - 1} attempts; the last worker was lost"
                ),
            )
    now = timezone.now()
    for delivery in deliveries:
        if getattr(delivery, "send_context", {}) is None and delivery.pk not in recorder.outcomes:
            error = TransientError("Could not look up the recipient's details; retrying")
            recorder.add(delivery, _outcome_of_failure(delivery, error, now))
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.pk not in recorder.outcomes:
            by_channel[delivery.channel].append(delivery)
    for channel, group in by_channel.items():
        _send_channel(channel, group, recorder)
    recorder.write()
    outcomes = recorder.outcomes
    _report_bounces(deliveries, outcomes)
    _report_dead(deliveries, outcomes)
    return outcomes


def _call_hook(setting: str, **kwargs) -> None:
    """Hand outcomes to whoever owns the recipients. notifications knows no other app, so each hook is a
    dotted path in settings; a failing hook is logged and never stops delivery."""
    hook_path = getattr(settings, setting, "")
    if not hook_path:
        return
    try:
        import_string(hook_path)(**kwargs)
    except Exception:
        logger.exception("%s hook %s failed", setting, hook_path)


def _report_bounces(deliveries: list[Delivery], outcomes: dict[int, Outcome]) -> None:
    """Hard bounces: the status page quarantines the subscriber."""
    bounces = [
        (d.recipient_ref, outcomes[d.pk].error)
        for d in deliveries
        if outcomes[d.pk].bounced and d.recipient_ref
    ]
    if bounces:
        _call_hook("NOTIFICATIONS_ON_HARD_BOUNCE", bounces=bounces)


def _report_dead(deliveries: list[Delivery], outcomes: dict[int, Outcome]) -> None:
    """Every row of the chunk that ended dead, for any reason (the status page disables a webhook that
    keeps failing). One call per chunk, so the receiver can look them up with one query."""
    failures = [
        (d.recipient_ref, d.channel, outcomes[d.pk].error)
        for d in deliveries
        if outcomes[d.pk].status == Status.DEAD and d.recipient_ref
    ]
    if failures:
        _call_hook("NOTIFICATIONS_ON_DELIVERY_DEAD", failures=failures)


def deliver_due_batches(*, chunk_size: int = CHUNK_SIZE, max_chunks: int = MAX_CHUNKS) -> int:
    """Deliver everything due, chunk by chunk; returns how many rows were attempted.

    Safe to run concurrently and twice: every row is claimed by one caller, and outcomes are written only
    to rows the caller still holds.
    """
    attempted = 0
    touched: set[int] = set()
    last_published = 0.0
    for _ in range(max_chunks):
        claim, deliveries = deliveries_claim_due(limit=chunk_size)
        if not deliveries:
            break
        deliver_claimed(claim, deliveries)
        attempted += len(deliveries)
        touched.update(delivery.message_id for delivery in deliveries)
        if time.monotonic() - last_published >= PROGRESS_EVERY_SECONDS:
            publish_progress(touched)
            last_published = time.monotonic()
    if touched:
        publish_progress(touched)  # the bars end on the final counts
    return attempted
