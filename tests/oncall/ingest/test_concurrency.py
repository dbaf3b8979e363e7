"""Tier 2: a storm of triggers with one dedup key, sent at once from many threads through the PagerDuty door
while three intake runs apply the queue at the same time (as several workers would), makes one alert group on
PostgreSQL, and every event is stored, answered 202 and applied to it."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from oncall.intake import alert_events_apply_queued
from oncall.models import AlertEvent, AlertGroup
from tests.oncall.ingest.payloads import pagerduty_example

TRIGGERS = 1000
THREADS = 20


@pytest.mark.tier2
@pytest.mark.django_db(transaction=True)
def test_enqueue_1000_concurrent_triggers_with_one_dedup_key_make_one_group(pagerduty_integration, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    settings.INGEST_RATE_PER_MINUTE = 0  # the storm is the point here, not the limit
    body = json.dumps(pagerduty_example("trigger", pagerduty_integration.key))
    start = threading.Barrier(THREADS)
    statuses: list[int] = []
    lock = threading.Lock()

    def send(count: int) -> None:
        client = Client()
        mine = []
        try:
            start.wait()
            for _ in range(count):
                mine.append(client.post("/v2/enqueue", body, content_type="application/json").status_code)
        finally:
            connections.close_all()
            with lock:
                statuses.extend(mine)

    sending = threading.Event()
    sending.set()
    applied: list[int] = []

    def intake() -> None:
        try:
            while sending.is_set():
                count = alert_events_apply_queued(limit=50)
                with lock:
                    applied.append(count)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(TRIGGERS // THREADS,)) for _ in range(THREADS)]
    workers = [threading.Thread(target=intake) for _ in range(3)]
    for thread in threads + workers:
        thread.start()
    for thread in threads:
        thread.join()
    sending.clear()
    for worker in workers:
        worker.join()
    applied.append(alert_events_apply_queued())  # what arrived after the workers' last look

    assert statuses == [202] * TRIGGERS
    group = AlertGroup.objects.get()
    assert group.occurrences == TRIGGERS
    assert AlertEvent.objects.count() == TRIGGERS
    assert set(AlertEvent.objects.values_list("group_id", flat=True)) == {group.pk}
    assert sum(applied) == TRIGGERS
    assert not AlertEvent.objects.filter(pending__isnull=False).exists()
    assert AlertEvent.objects.filter(outcome="new group").count() == 1
