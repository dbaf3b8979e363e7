"""A worker process killed with SIGKILL after claiming rows, before sending: the rows are still delivered,
once, by the next worker after the lease, with the idempotency keys they had all along (tier 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from opsportal.notifications.delivery import CLAIM_LEASE, deliver_due_batches
from opsportal.notifications.models import Delivery, Message

pytestmark = [pytest.mark.tier2, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CLAIM_THEN_DIE = """
import os, signal, django
django.setup()
from opsportal.notifications.delivery import deliveries_claim_due
claimed_at, rows = deliveries_claim_due()
print(len(rows), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the claim has committed; nothing was sent
"""


def test_rows_claimed_by_a_killed_worker_are_delivered_once_after_the_lease(http_sink, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    sink = http_sink()
    message = Message.objects.create(
        kind="incident_update",
        dedupe_key="killed-worker",
        subject="s",
        text_body="t",
        payload={"webhook": {"meta": {}, "incident": {"name": "Checkout errors"}}},
    )
    rows = [
        Delivery.objects.create(
            message=message,
            channel="webhook",
            address=f"{sink.url}/hook/{n}",
            dedupe_key=f"killed-worker|{n}",
        )
        for n in range(3)
    ]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
    }
    worker = subprocess.run(
        [sys.executable, "-c", CLAIM_THEN_DIE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    assert worker.stdout.strip() == "3"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sending"}
    assert sink.requests == []

    assert deliver_due_batches() == 0  # inside the lease the rows still belong to the dead worker
    with time_machine.travel(timezone.now() + CLAIM_LEASE + timedelta(seconds=1)):
        deliver_due_batches()
        assert deliver_due_batches() == 0  # and running again sends nothing twice

    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    keys = sorted(request.headers["idempotency-key"] for request in sink.requests)
    assert keys == sorted(str(row.idempotency_key) for row in rows)  # each once, with its original key
