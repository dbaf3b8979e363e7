"""On PostgreSQL: an acknowledgement that holds its group wins over the tick (the tick skips the locked group,
and once the ack commits the page is cancelled, never sent); several ticks at once send each page once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from oncall import paging
from oncall.models import AlertGroup, Page
from opsportal.notifications.models import Delivery
from tests.notifications.test_delivery_concurrency import _in_threads
from tests.oncall.paging.conftest import SMS, T0

pytestmark = [pytest.mark.tier2, pytest.mark.django_db(transaction=True)]


def test_an_ack_holding_the_group_wins_over_the_tick(rob, group, verified):
    verified(rob, SMS, "+14165550100", delay=0)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    locked, tick_done = threading.Event(), threading.Event()
    errors = []

    def acknowledge():
        try:
            with transaction.atomic():
                held = AlertGroup.objects.select_for_update().get(pk=group.pk)
                held.status = "acknowledged"
                held.save(update_fields=["status"])
                locked.set()
                tick_done.wait(timeout=30)
                paging.pages_cancel(group=held)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=acknowledge)
    thread.start()
    assert locked.wait(timeout=30)
    assert paging.pages_send_due(now=T0 + timedelta(seconds=1)) == 0  # skipped, not waited for
    assert Page.objects.get().status == Page.Status.SCHEDULED
    tick_done.set()
    thread.join(timeout=30)
    assert not errors, errors

    assert paging.pages_send_due(now=T0 + timedelta(seconds=2)) == 0
    assert Page.objects.get().status == Page.Status.CANCELLED
    assert not Delivery.objects.exists()


def test_concurrent_ticks_send_each_page_once(make_staff, make_group, verified, settings):
    settings.PAGE_RATE_LIMITS = {}
    people = [make_staff(f"responder{n}", None) for n in range(10)]
    for person in people:
        verified(person, SMS, f"+1416555{person.pk:04d}", delay=0)
    for n in range(6):
        paging.pages_schedule(group=make_group(f"alert {n}"), users=people, step=1, level=0, now=T0)

    handed = _in_threads(4, lambda: paging.pages_send_due(now=T0, limit=10))
    handed += _in_threads(4, lambda: paging.pages_send_due(now=T0, limit=100))

    assert sum(handed) == 60
    assert Page.objects.filter(status=Page.Status.SENT).count() == 60
    assert Delivery.objects.filter(channel="sms").count() == 60
