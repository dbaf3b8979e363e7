"""The delivery engine: one row per recipient, claiming, backoff, giving up, lost workers, query counts,
progress events, and the admin's cancel and retry."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opsportal.core.models import AuditEntry
from opsportal.notifications import backoff
from opsportal.notifications import delivery as delivery_module
from opsportal.notifications.delivery import (
    CLAIM_LEASE,
    deliver_claimed,
    deliver_due_batches,
    deliveries_claim_due,
)
from opsportal.notifications.models import Delivery
from opsportal.notifications.services import Recipient, delivery_retry, message_cancel
from opsportal.notifications.transports import PermanentError, Transport
from tests.notifications.conftest import delivery_of

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
Status = Delivery.Status


@pytest.fixture
def closed_port_url(settings):
    """A loopback URL nobody listens on: every attempt is a real connection refusal, a transient error."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_enqueue_twice_keeps_one_row_per_recipient(enqueue):
    recipients = [Recipient("websocket", "7"), Recipient("email", "ana@shop.example.com")]
    first = enqueue(*recipients, dedupe_key="incident-1-update-3")
    again = enqueue(*recipients, Recipient("websocket", "8"), dedupe_key="incident-1-update-3")

    assert again.pk == first.pk
    assert sorted(first.deliveries.values_list("address", flat=True)) == ["7", "8", "ana@shop.example.com"]


def test_deliver_sends_and_a_second_run_finds_nothing(enqueue):
    message = enqueue(Recipient("websocket", "7"), Recipient("websocket", "8"))

    assert deliver_due_batches() == 2
    assert deliver_due_batches() == 0
    rows = list(message.deliveries.all())
    assert {row.status for row in rows} == {Status.SENT}
    assert all(row.attempts == 1 and row.sent_at is not None and row.claimed_at is None for row in rows)


def test_transient_failure_is_retried_after_a_backoff(enqueue, closed_port_url):
    with time_machine.travel(NOW, tick=False) as clock:
        message = enqueue(Recipient("webhook", closed_port_url))
        deliver_due_batches()
        row = delivery_of(message)
        assert row.status == Status.PENDING
        assert row.attempts == 1
        assert "Network error" in row.last_error
        assert NOW + backoff.BASE / 2 <= row.next_attempt_at <= NOW + backoff.BASE

        assert deliver_due_batches() == 0, "not due yet"
        clock.move_to(row.next_attempt_at)
        assert deliver_due_batches() == 1
        row.refresh_from_db()
        assert row.attempts == 2
        assert row.next_attempt_at - timezone.now() <= backoff.BASE * 2


def test_delivery_goes_dead_after_the_last_attempt(enqueue, closed_port_url):
    with time_machine.travel(NOW, tick=False) as clock:
        message = enqueue(Recipient("webhook", closed_port_url))
        row = delivery_of(message)
        for _ in range(backoff.MAX_ATTEMPTS):
            clock.move_to(row.next_attempt_at)
            assert deliver_due_batches() == 1
            row.refresh_from_db()
        assert row.status == Status.DEAD
        assert row.attempts == backoff.MAX_ATTEMPTS
        assert row.last_error.startswith(f"Gave up after {backoff.MAX_ATTEMPTS} attempts")
        clock.shift(timedelta(days=1))
        assert deliver_due_batches() == 0


def test_row_of_a_dead_worker_is_redelivered_after_the_lease(enqueue):
    with time_machine.travel(NOW, tick=False) as clock:
        message = enqueue(Recipient("websocket", "7"))
        _, claimed = deliveries_claim_due()  # a worker claims, then dies before sending
        assert [row.pk for row in claimed] == [delivery_of(message).pk]

        clock.shift(CLAIM_LEASE - timedelta(seconds=1))
        assert deliver_due_batches() == 0, "still within the dead worker's lease"

        clock.shift(timedelta(seconds=2))
        assert deliver_due_batches() == 1
        row = delivery_of(message)
        assert (row.status, row.attempts) == (Status.SENT, 2)


def test_a_late_worker_does_not_overwrite_the_row_another_worker_reclaimed(enqueue):
    from opsportal.notifications.delivery import deliver_claimed

    with time_machine.travel(NOW, tick=False) as clock:
        message = enqueue(Recipient("websocket", "not-a-user-id"))
        slow_claimed_at, slow_rows = deliveries_claim_due()
        clock.shift(CLAIM_LEASE + timedelta(seconds=1))
        _, fresh_rows = deliveries_claim_due()
        assert [row.pk for row in fresh_rows] == [row.pk for row in slow_rows]

        deliver_claimed(slow_claimed_at, slow_rows)  # the slow worker wakes up and reports
        row = delivery_of(message)
        assert row.status == Status.SENDING, "the new claim still holds the row"


def test_a_poison_row_that_keeps_killing_workers_goes_dead(enqueue):
    with time_machine.travel(NOW, tick=False) as clock:
        message = enqueue(Recipient("websocket", "7"))
        for _ in range(backoff.MAX_ATTEMPTS):
            deliveries_claim_due()
            clock.shift(CLAIM_LEASE + timedelta(seconds=1))
        deliver_due_batches()
        row = delivery_of(message)
        assert row.status == Status.DEAD
        assert "worker was lost" in row.last_error


@pytest.fixture
def grouped_outcomes(settings, monkeypatch):
    """Outcomes written once per chunk (the time bound out of reach), to count the engine's own queries."""
    settings.NOTIFICATION_OUTCOME_BATCH = 100_000
    monkeypatch.setattr(delivery_module, "OUTCOME_SECONDS", 3600.0)
    monkeypatch.setattr(delivery_module, "HEARTBEAT", timedelta(hours=1))  # a slow machine would renew claims


def _queries_to_deliver(enqueue, count: int) -> int:
    enqueue(*(Recipient("websocket", str(n)) for n in range(count)))
    with CaptureQueriesContext(connection) as queries:
        assert deliver_due_batches(chunk_size=500) == count
    return len(queries)


def test_queries_per_chunk_do_not_grow_with_recipients(
    enqueue, grouped_outcomes, django_assert_max_num_queries
):
    small = _queries_to_deliver(enqueue, 50)
    large = _queries_to_deliver(enqueue, 500)
    assert large == small

    enqueue(*(Recipient("websocket", str(1000 + n)) for n in range(500)))
    with django_assert_max_num_queries(small):
        deliver_due_batches(chunk_size=500)


def test_queries_per_chunk_are_constant_with_mixed_outcomes(enqueue, grouped_outcomes):
    # A bad user id goes dead, the rest are sent: one UPDATE per outcome, not per row.
    enqueue(*(Recipient("websocket", str(n)) for n in range(40)), Recipient("websocket", "x"))
    with CaptureQueriesContext(connection) as few:
        deliver_due_batches(chunk_size=1000)
    enqueue(
        *(Recipient("websocket", str(n)) for n in range(400)),
        *(Recipient("websocket", f"x{n}") for n in range(40)),
    )
    with CaptureQueriesContext(connection) as many:
        deliver_due_batches(chunk_size=1000)
    assert len(many) == len(few)


class _Witness(Transport):
    """Records, at each send, what the database already says about the rows of the same batch."""

    seen: list[dict] = []

    def send(self, delivery) -> None:
        _Witness.seen.append(
            dict(Delivery.objects.filter(message=delivery.message).values_list("address", "status"))
        )
        if delivery.address == "bad":
            raise PermanentError("refused")


def test_each_outcome_is_written_as_it_happens_not_at_the_end_of_the_batch(enqueue, monkeypatch, settings):
    settings.NOTIFICATION_OUTCOME_BATCH = 1  # the strictest setting; the default groups up to 25 or 0.25 s
    _Witness.seen = []
    monkeypatch.setattr(delivery_module, "transport_for", lambda channel: _Witness())
    enqueue(Recipient("websocket", "a"), Recipient("websocket", "bad"), Recipient("websocket", "c"))
    deliver_due_batches()
    assert _Witness.seen == [
        {"a": "sending", "bad": "sending", "c": "sending"},
        {"a": "sent", "bad": "sending", "c": "sending"},
        {"a": "sent", "bad": "dead", "c": "sending"},
    ]


class _Slow(Transport):
    """Each send takes 4 s of (frozen) time: a batch outlives the lease unless the claim is renewed."""

    clock = None

    def send(self, delivery) -> None:
        _Slow.clock.shift(timedelta(seconds=4))


def test_a_claim_is_renewed_while_its_worker_is_sending(enqueue, monkeypatch):
    monkeypatch.setattr(delivery_module, "transport_for", lambda channel: _Slow())
    sends = int(CLAIM_LEASE / timedelta(seconds=4)) + 5  # longer than a lease in all
    with time_machine.travel(NOW, tick=False) as clock:
        _Slow.clock = clock
        message = enqueue(*(Recipient("websocket", str(n)) for n in range(sends)))
        claim, rows = deliveries_claim_due()
        original = {"send": _Slow.send}

        def send_and_race(self, delivery):
            original["send"](self, delivery)
            # Another worker looks for abandoned rows after every send: it must never get ours.
            assert deliveries_claim_due()[1] == []

        monkeypatch.setattr(_Slow, "send", send_and_race)
        deliver_claimed(claim, rows)
    assert set(message.deliveries.values_list("status", "attempts")) == {(Status.SENT, 1)}


def test_progress_is_published_to_the_message_and_staff_groups(enqueue):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    message = enqueue(Recipient("websocket", "7"), Recipient("websocket", "bad"))
    async_to_sync(layer.group_add)(f"message-{message.pk}", channel)
    async_to_sync(layer.group_add)("staff", channel)
    try:
        deliver_due_batches()
        events = [async_to_sync(layer.receive)(channel)["event"] for _ in range(2)]
    finally:
        async_to_sync(layer.group_discard)(f"message-{message.pk}", channel)
        async_to_sync(layer.group_discard)("staff", channel)
    expected = {"kind": "delivery.progress", "message": message.pk, "counts": {"sent": 1, "dead": 1}}
    assert events == [expected, expected]


def test_admin_cancels_what_is_still_waiting(enqueue, alice):
    message = enqueue(Recipient("websocket", "7"), Recipient("websocket", "8"))
    assert message_cancel(actor=alice, message=message) == 2
    assert deliver_due_batches() == 0
    assert set(message.deliveries.values_list("status", flat=True)) == {Status.CANCELLED}
    entry = AuditEntry.objects.get(action="notification.cancelled")
    assert (entry.actor, entry.object_id, entry.after) == (alice, str(message.pk), {"cancelled": 2})


def test_admin_retries_a_dead_delivery_with_the_same_idempotency_key(
    enqueue, alice, django_capture_on_commit_callbacks
):
    message = enqueue(Recipient("websocket", "7"))
    row = delivery_of(message)
    Delivery.objects.filter(pk=row.pk).update(status=Status.DEAD, attempts=8, last_error="boom")
    row.refresh_from_db()
    key = row.idempotency_key

    with django_capture_on_commit_callbacks() as callbacks:
        assert delivery_retry(actor=alice, delivery=row) is True
    assert callbacks, "delivery is started once the retry commits"
    assert (row.status, row.attempts) == (Status.PENDING, 0)

    deliver_due_batches()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 1)
    assert row.idempotency_key == key
    assert AuditEntry.objects.filter(action="notification.delivery_retried", object_id=str(row.pk)).exists()
    assert delivery_retry(actor=alice, delivery=row) is False, "a sent delivery is not sent again"


@pytest.mark.parametrize("persona", ["incident_commander", "responder", "viewer", "none"])
def test_only_admins_cancel_or_retry(enqueue, personas, persona):
    message = enqueue(Recipient("websocket", "7"))
    with pytest.raises(PermissionDenied):
        message_cancel(actor=personas[persona], message=message)
    with pytest.raises(PermissionDenied):
        delivery_retry(actor=personas[persona], delivery=delivery_of(message))
    assert delivery_of(message).status == Status.PENDING
    assert not AuditEntry.objects.filter(action__startswith="notification.").exists()


def test_send_context_is_looked_up_by_each_refs_own_hook(enqueue, send_context, settings):
    settings.NOTIFICATIONS_RECIPIENT_CONTEXT = {
        "subscriber": "tests.notifications.conftest.send_context_lookup",
        "page": "tests.notifications.conftest.send_context_broken",
    }
    send_context["subscriber:1"] = {"short_url": "https://st.example/s/1"}
    enqueue(
        Recipient("sms", "+14165550100", ref="subscriber:1"),
        Recipient("sms", "+14165550101", ref="page:7"),
        Recipient("sms", "+14165550102", ref="other:3"),
        Recipient("sms", "+14165550103"),
    )

    _, claimed = deliveries_claim_due()

    found = {d.recipient_ref: d.send_context for d in claimed}
    # A failing hook holds back only its own refs (retried later); the others are sent now.
    assert found == {
        "subscriber:1": {"short_url": "https://st.example/s/1"},
        "page:7": None,
        "other:3": {},
        "": {},
    }


def test_a_single_dotted_path_still_serves_every_ref(enqueue, send_context, settings):
    settings.NOTIFICATIONS_RECIPIENT_CONTEXT = "tests.notifications.conftest.send_context_lookup"
    send_context["page:7"] = {"short_url": "https://ops.example/a/x"}
    enqueue(Recipient("sms", "+14165550101", ref="page:7"))

    _, [claimed] = deliveries_claim_due()

    assert claimed.send_context == {"short_url": "https://ops.example/a/x"}


@pytest.mark.django_db
def test_enqueue_many_writes_each_message_and_row_once(django_assert_max_num_queries):
    from opsportal.notifications.services import Notification, Recipient, notifications_enqueue_many

    batch = [
        Notification(
            kind="alert_page",
            dedupe_key=f"page-{i}",
            subject=f"Alert {i}",
            text="Disk full",
            recipients=(Recipient(channel="email", address=f"p{i}@ops.example.com", ref=f"page:{i}"),),
        )
        for i in range(30)
    ]
    with django_assert_max_num_queries(8):
        written = notifications_enqueue_many(batch)
    assert len(written) == 30 and all(len(rows) == 1 for rows in written.values())
    notifications_enqueue_many(batch)  # again: nothing doubles
    from opsportal.notifications.models import Delivery, Message

    assert Message.objects.filter(kind="alert_page").count() == 30
    assert Delivery.objects.filter(message__kind="alert_page").count() == 30
