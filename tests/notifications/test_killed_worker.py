"""Worker processes killed with SIGKILL (tier 2): after claiming, mid-batch, and mid-expansion. Every row is
still delivered, once, with the idempotency key it had all along; what was sent before the kill is not sent
again; a restarted worker hands back its own claims at once instead of waiting for the lease."""

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
from opsportal.notifications.expansion import EXPANSION_LEASE
from opsportal.notifications.models import Delivery, Message
from opsportal.notifications.tasks import expand_pending
from opsportal.notifications.workers import worker_started

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


def _webhook_rows(sink, n: int, key: str = "killed-worker") -> list[Delivery]:
    message = Message.objects.create(
        kind="incident_update",
        dedupe_key=key,
        subject="s",
        text_body="t",
        payload={"webhook": {"meta": {}, "incident": {"name": "Checkout errors"}}},
    )
    return [
        Delivery.objects.create(
            message=message, channel="webhook", address=f"{sink.url}/hook/{i}", dedupe_key=f"{key}|{i}"
        )
        for i in range(n)
    ]


def _run_and_die(script: str, **extra_env: str) -> subprocess.CompletedProcess:
    """`script` in a fresh Python process on the test database; it must end by being SIGKILLed."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        **extra_env,
    }
    worker = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    return worker


def _received_once_each(sink, rows) -> None:
    keys = sorted(request.headers["idempotency-key"] for request in sink.requests)
    assert keys == sorted(str(row.idempotency_key) for row in rows)  # each once, with its original key


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


SEND_TWO_THEN_DIE = """
import os, signal, django
django.setup()
from opsportal.notifications import delivery
from opsportal.notifications.transports.webhook import WebhookTransport
sent = 0
real_send = WebhookTransport.send
def send(self, row):
    global sent
    if sent == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # mid-batch: two sent, three not yet
    real_send(self, row)
    sent += 1
WebhookTransport.send = send
delivery.deliver_due_batches()
"""


def test_a_worker_killed_mid_batch_does_not_send_again_what_it_had_sent(http_sink, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    sink = http_sink()
    rows = _webhook_rows(sink, 5)
    # Outcomes written one by one (the default groups up to 25 rows or a quarter second, which is then the
    # most a crash can resend).
    _run_and_die(SEND_TWO_THEN_DIE, NOTIFICATION_OUTCOME_BATCH="1")
    assert len(sink.requests) == 2
    # Each outcome was written as it happened, not at the end of the batch.
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["sending"] * 3 + ["sent"] * 2

    with time_machine.travel(timezone.now() + CLAIM_LEASE + timedelta(seconds=1)):
        assert deliver_due_batches() == 3
        assert deliver_due_batches() == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    _received_once_each(sink, rows)


CLAIM_AS_NODE_THEN_DIE = """
import os, signal, django
django.setup()
from opsportal.notifications.delivery import deliveries_claim_due
from opsportal.notifications.workers import worker_node_set
worker_node_set("celery@ops-test")
deliveries_claim_due()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_restarted_worker_hands_back_its_own_claims_at_once(http_sink, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    sink = http_sink()
    rows = _webhook_rows(sink, 3)
    _run_and_die(CLAIM_AS_NODE_THEN_DIE)
    assert set(Delivery.objects.values_list("claimed_by", flat=True)) != {""}

    worker_started(node="celery@ops-other")  # another worker's start leaves them alone
    assert deliver_due_batches() == 0
    worker_started(node="celery@ops-test")  # the same node, restarted: no waiting for the lease
    assert deliver_due_batches() == 3
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 2)}
    _received_once_each(sink, rows)


EXPAND_TWO_CHUNKS_THEN_DIE = """
import os, signal, django
django.setup()
from opsportal.notifications import expansion
from opsportal.notifications.models import Message
expansion.CHUNK = 4
real = expansion._expander
calls = 0
def expander(audience):
    def page(**kwargs):
        global calls
        if calls == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # two chunks committed, the third never will be
        calls += 1
        return real(audience)(**kwargs)
    return page
expansion._expander = expander
expansion.message_expand(message_id=Message.objects.get(kind="incident_update").pk)
"""


def test_an_expansion_killed_mid_way_is_resumed_by_the_sweep_with_nothing_lost_or_doubled(settings):
    from opsportal.core.services import SYSTEM
    from opsportal.incidents.services import incident_declare, incident_post_update
    from statuspage.models import Component, Subscriber

    settings.RUNNING_MODE = "embedded"  # no worker here: background work runs inline in this process
    checkout = Component.objects.create(name="Checkout")
    Subscriber.objects.bulk_create(
        Subscriber(
            channel="email", address=f"m{i}@shop.example", confirmed_at=timezone.now() - timedelta(days=1)
        )
        for i in range(11)
    )
    incident = incident_declare(actor=SYSTEM, title="Checkout errors", severity="P2")
    incident_post_update(
        actor=SYSTEM,
        incident=incident,
        status="investigating",
        body="Looking into it.",
        component_statuses=[(checkout, "major_outage")],
    )
    message = Message.objects.get(kind="incident_update")
    assert (message.expansion, message.deliveries.count()) == ("done", 11), "expanded after commit"
    # Again from scratch, in a process that dies after two chunks.
    message.deliveries.all().delete()
    Message.objects.filter(pk=message.pk).update(expansion="pending", expansion_cursor="", expanded=0)
    _run_and_die(EXPAND_TWO_CHUNKS_THEN_DIE)
    message.refresh_from_db()
    assert (message.expansion, message.expanded, message.deliveries.count()) == ("pending", 8, 8)

    assert expand_pending() == 0  # still within the dead process's claim
    with time_machine.travel(timezone.now() + EXPANSION_LEASE + timedelta(seconds=1)):
        assert expand_pending() == 1
    message.refresh_from_db()
    addresses = list(message.deliveries.values_list("address", flat=True))
    assert message.expansion == "done" and len(addresses) == len(set(addresses)) == 11
