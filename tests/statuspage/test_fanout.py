"""A public update writes one message; its subscribers are expanded into outbox rows after commit, in
chunks that survive a process dying mid-way: nothing lost, nothing written twice."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opsportal.core.services import SYSTEM
from opsportal.incidents.services import incident_declare, incident_post_update
from opsportal.notifications import expansion
from opsportal.notifications.models import Delivery, Message
from opsportal.notifications.services import message_cancel
from opsportal.notifications.tasks import expand_pending
from opsportal.notifications.workers import claims_release_own, worker_node_set
from statuspage.models import Component, Subscriber
from statuspage.subscriptions import subscriber_unsubscribe

pytestmark = pytest.mark.django_db

CONFIRMED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def checkout():
    return Component.objects.create(name="Checkout")


def _subscribers(n: int, start: int = 0) -> list[Subscriber]:
    return Subscriber.objects.bulk_create(
        Subscriber(channel="email", address=f"m{i}@shop.example", confirmed_at=CONFIRMED)
        for i in range(start, start + n)
    )


def _post(incident, checkout, body="We are looking into it."):
    return incident_post_update(
        actor=SYSTEM,
        incident=incident,
        status="investigating",
        body=body,
        component_statuses=[(checkout, "major_outage")],
    )


@pytest.fixture
def incident():
    return incident_declare(actor=SYSTEM, title="Checkout errors", severity="P2")


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(expansion, "CHUNK", 3)


@pytest.fixture(autouse=True)
def _background_inline(settings):
    # Tier 2 runs in production mode, where background work goes to a broker nobody reads in tests.
    settings.RUNNING_MODE = "embedded"


def _update_queries(incident, checkout) -> int:
    with CaptureQueriesContext(connection) as queries:
        _post(incident, checkout, body=f"update {Message.objects.count()}")
    return len(queries)


def test_the_update_writes_one_message_whatever_the_audience(incident, checkout):
    _subscribers(5)
    _post(incident, checkout)  # the first update moves the component; the next two change only text
    few = _update_queries(incident, checkout)
    _subscribers(200, start=5)
    many = _update_queries(incident, checkout)
    assert many == few  # the update's transaction does not grow with the audience
    assert Delivery.objects.count() == 0  # no outbox row until it commits
    assert set(Message.objects.values_list("expansion", flat=True)) == {"pending"}


def test_after_commit_every_subscriber_gets_one_row(incident, checkout, django_capture_on_commit_callbacks):
    _subscribers(10)
    with django_capture_on_commit_callbacks(execute=True):
        _post(incident, checkout)
    message = Message.objects.get(kind="incident_update")
    assert message.expansion == "done" and message.expanded == 10
    assert sorted(message.deliveries.values_list("address", flat=True)) == sorted(
        f"m{i}@shop.example" for i in range(10)
    )


def test_an_expansion_cut_short_resumes_at_its_cursor_without_duplicates(incident, checkout, small_chunks):
    _subscribers(10)
    with time_machine.travel("2026-11-27 14:00:00+00:00", tick=False) as clock:
        _post(incident, checkout)
        message = Message.objects.get(kind="incident_update")
        # A worker writes two chunks and dies holding the expansion.
        assert expansion.message_expand(message_id=message.pk, max_chunks=2) == 6
        Message.objects.filter(pk=message.pk).update(
            expansion_claimed_by="dead@host/1/x", expansion_claimed_at=timezone.now()
        )
        assert expand_pending() == 0  # inside the lease it is still the dead worker's
        clock.shift(expansion.EXPANSION_LEASE + timedelta(seconds=1))
        assert expand_pending() == 1  # the sweep resumes it
    message.refresh_from_db()
    assert message.expansion == "done" and message.expanded == 10
    addresses = list(message.deliveries.values_list("address", flat=True))
    assert len(addresses) == len(set(addresses)) == 10


def test_a_restarted_worker_resumes_its_own_expansion_at_once(incident, checkout, small_chunks):
    _subscribers(7)
    _post(incident, checkout)
    message = Message.objects.get(kind="incident_update")
    worker_node_set("celery@ops-1")
    expansion.message_expand(message_id=message.pk, max_chunks=1)
    Message.objects.filter(pk=message.pk).update(
        expansion_claimed_by="celery@ops-1/4242/abc", expansion_claimed_at=timezone.now()
    )
    assert claims_release_own(node="celery@ops-2") == 0  # another node's claims are not ours to release
    assert claims_release_own(node="celery@ops-1") == 1
    assert expand_pending() == 1
    message.refresh_from_db()
    assert message.expansion == "done" and message.deliveries.count() == 7


def test_the_audience_is_who_was_subscribed_when_the_update_was_posted(incident, checkout, small_chunks):
    with time_machine.travel("2026-11-27 14:00:00+00:00", tick=False) as clock:
        early = _subscribers(4)
        _post(incident, checkout)
        message = Message.objects.get(kind="incident_update")
        clock.shift(timedelta(seconds=1))
        late = _subscribers(1, start=100)
        Subscriber.objects.filter(pk=late[0].pk).update(confirmed_at=timezone.now())  # confirmed after it
        subscriber_unsubscribe(subscriber=early[-1])  # left before the expansion reached them
        expansion.message_expand(message_id=message.pk)
    addresses = set(message.deliveries.values_list("address", flat=True))
    assert addresses == {"m0@shop.example", "m1@shop.example", "m2@shop.example"}


def test_cancelling_a_message_stops_its_expansion(incident, checkout, small_chunks, alice):
    _subscribers(9)
    _post(incident, checkout)
    message = Message.objects.get(kind="incident_update")
    expansion.message_expand(message_id=message.pk, max_chunks=1)
    message_cancel(actor=alice, message=message)
    assert expansion.message_expand(message_id=message.pk) == 0
    message.refresh_from_db()
    assert message.expansion == "cancelled"
    assert set(message.deliveries.values_list("status", flat=True)) == {"cancelled"}
    assert message.deliveries.count() == 3
