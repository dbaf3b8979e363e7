"""Several workers at once on PostgreSQL: SKIP LOCKED hands every row to exactly one of them, and a row
whose worker died is delivered once by the next."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from opsportal.notifications.delivery import CLAIM_LEASE, deliver_due_batches, deliveries_claim_due
from opsportal.notifications.models import Delivery, Message

pytestmark = [pytest.mark.tier2, pytest.mark.django_db(transaction=True)]


def _enqueue(count: int) -> Message:
    # Rows written directly: notification_enqueue would also start delivery on commit, and here the
    # test's own workers must be the only ones.
    message = Message.objects.create(
        kind="incident_update", dedupe_key="incident-1", subject="Checkout", text_body="x"
    )
    Delivery.objects.bulk_create(
        Delivery(message=message, channel="websocket", address=str(n), dedupe_key=f"incident-1|{n}")
        for n in range(count)
    )
    return message


def _in_threads(workers: int, work) -> list:
    barrier = threading.Barrier(workers)
    results: list = [None] * workers
    errors: list = []

    def run(index: int):
        try:
            barrier.wait(timeout=10)
            results[index] = work()
        except Exception as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_claims_never_hand_out_a_row_twice():
    message = _enqueue(600)

    def claim_until_empty() -> list[int]:
        claimed = []
        while True:
            _, rows = deliveries_claim_due(limit=25)
            if not rows:
                return claimed
            claimed.extend(row.pk for row in rows)

    per_worker = _in_threads(4, claim_until_empty)

    everything = [pk for claimed in per_worker for pk in claimed]
    assert len(everything) == len(set(everything)) == 600
    assert sum(1 for claimed in per_worker if claimed) >= 2, "the workers really ran side by side"
    assert set(message.deliveries.values_list("attempts", flat=True)) == {1}


def test_concurrent_workers_deliver_each_row_once():
    message = _enqueue(400)

    attempted = _in_threads(3, lambda: deliver_due_batches(chunk_size=20))

    assert sum(attempted) == 400
    rows = message.deliveries.all()
    assert set(rows.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert set(rows.values_list("attempts", flat=True)) == {1}


def test_row_held_by_a_killed_worker_is_delivered_by_the_next():
    with time_machine.travel(datetime(2026, 11, 27, 14, 0, tzinfo=UTC), tick=False) as clock:
        message = _enqueue(30)
        _in_threads(1, lambda: deliveries_claim_due(limit=10))  # claims 10, then its process is killed

        clock.shift(CLAIM_LEASE + timedelta(seconds=1))
        attempted = _in_threads(2, lambda: deliver_due_batches(chunk_size=7))

    assert sum(attempted) == 30
    rows = message.deliveries.all()
    assert set(rows.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert sorted(rows.values_list("attempts", flat=True)) == [1] * 20 + [2] * 10
