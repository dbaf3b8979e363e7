"""The engine under real concurrency (tier 2, PostgreSQL): a worker SIGKILLed mid-step loses no step and
pages nobody twice; tickers racing each other page each person once; an acknowledgement in flight wins."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from oncall.alerting import alert_events_ingest, alert_group_acknowledge
from oncall.engine import escalations_run_due
from oncall.models import AlertGroup, Escalation, Page

pytestmark = [pytest.mark.tier2, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
DIE_MID_STEP = """
import os, signal, django
django.setup()
from oncall import engine, paging
original = paging.pages_schedule_many
def schedule_then_die(requests, **kwargs):
    original(requests, **kwargs)
    print("pages written, dying before commit", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
paging.pages_schedule_many = schedule_then_die
engine.escalations_run_due()
"""
DIE_MID_SEND = """
import os, signal, django
django.setup()
from oncall import engine, paging
from opsportal.notifications import services
original = services.notifications_enqueue_many
def enqueue_then_die(batch):
    original(batch)
    os.kill(os.getpid(), signal.SIGKILL)
paging.notifications_enqueue_many = enqueue_then_die
engine.escalations_run_due()
"""


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (tier 2)")


def _run_and_die(script: str) -> None:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
    }
    worker = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr


def test_worker_killed_mid_step_loses_no_step_and_pages_once(integration, trigger):
    alert_events_ingest(
        integration=integration, events=[trigger()], now=timezone.now() - timedelta(seconds=1)
    )
    group = AlertGroup.objects.get()
    Page.objects.all().delete()
    Escalation.objects.filter(group=group).update(
        status="active", level_index=0, steps_taken=0, next_step_at=timezone.now() - timedelta(seconds=1)
    )
    _run_and_die(DIE_MID_STEP)
    assert not Page.objects.exists()  # the step rolled back whole
    escalation = Escalation.objects.get(group=group)
    assert (escalation.level_index, escalation.steps_taken) == (0, 0)
    escalations_run_due()
    escalations_run_due()
    assert Page.objects.filter(group=group, contact_method__kind="push").count() == 1
    assert Escalation.objects.get(group=group).steps_taken == 1


def test_worker_killed_while_handing_a_page_to_the_outbox_sends_it_once(integration, trigger):
    alert_events_ingest(
        integration=integration, events=[trigger()], now=timezone.now() - timedelta(seconds=1)
    )
    group = AlertGroup.objects.get()
    Page.objects.all().delete()
    Escalation.objects.filter(group=group).update(
        status="active", level_index=0, steps_taken=0, next_step_at=timezone.now() - timedelta(seconds=1)
    )
    _run_and_die(DIE_MID_SEND)
    escalations_run_due()
    page = Page.objects.get(group=group, contact_method__kind="push")
    assert page.status == "sent" and page.delivery is not None
    from opsportal.notifications.models import Delivery

    assert Delivery.objects.filter(recipient_ref=f"page:{page.pk}").count() == 1


def test_tickers_racing_each_other_page_each_group_once(integration, trigger):
    now = timezone.now()
    alert_events_ingest(integration=integration, events=[trigger(f"k{i}") for i in range(120)], now=now)
    Page.objects.all().delete()
    Escalation.objects.update(status="active", level_index=0, steps_taken=0, next_step_at=now)
    errors: list[BaseException] = []

    def tick():
        try:
            escalations_run_due(now=now + timedelta(seconds=1))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    # Each group pages rob once by the default plan: a push now and an email a minute later.
    assert Page.objects.count() == 240
    assert Page.objects.filter(contact_method__kind="push").values("group").distinct().count() == 120


def test_acknowledgement_in_flight_wins_over_a_due_step(integration, trigger, rob):
    now = timezone.now()
    alert_events_ingest(integration=integration, events=[trigger()], now=now)
    group = AlertGroup.objects.get()
    Page.objects.all().delete()
    Escalation.objects.update(status="active", level_index=0, steps_taken=0, next_step_at=now)
    locked, release = threading.Event(), threading.Event()

    def acknowledge_slowly():
        try:
            with transaction.atomic():
                AlertGroup.objects.select_for_update().get(pk=group.pk)
                locked.set()
                release.wait(timeout=30)
                alert_group_acknowledge(actor=rob, group=group)
        finally:
            connections.close_all()

    worker = threading.Thread(target=acknowledge_slowly)
    worker.start()
    assert locked.wait(timeout=30)
    escalations_run_due(now=now + timedelta(seconds=1))  # skips the locked group instead of waiting
    release.set()
    worker.join(timeout=30)
    escalations_run_due(now=now + timedelta(seconds=2))
    assert not Page.objects.filter(group=group).exists()
    assert Escalation.objects.get(group=group).status == "stopped"
