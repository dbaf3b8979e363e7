"""Handoff reminders: the incoming person hears an hour before their shift, once, through the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from oncall import reminders, rotation, services, tasks
from opsportal.core.services import SYSTEM
from opsportal.notifications.models import Delivery, Message

# The fixture's Toronto daily layer hands over from ana to rob at 09:00 local on 21 October (13:00Z, EDT).
HANDOFF = datetime(2026, 10, 21, 13, tzinfo=UTC)
KEY = f"handoff:payments-primary:rob:{HANDOFF.isoformat()}"


def _run_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return tasks.send_handoff_reminders()


@pytest.mark.django_db
def test_reminder_not_sent_more_than_an_hour_ahead(schedule):
    _run_at(HANDOFF - timedelta(minutes=61))
    assert not Message.objects.filter(dedupe_key=KEY).exists()


@pytest.mark.django_db
def test_reminder_sent_an_hour_ahead_to_the_incoming_person_only(schedule, rob, ana):
    _run_at(HANDOFF - timedelta(minutes=60))
    message = Message.objects.get()
    assert message.dedupe_key == KEY and message.kind == "oncall_handoff_reminder"
    assert "Payments primary" in message.subject and "taking over from ana" in message.text_body
    assert "Wed 21 Oct 13:00 (UTC)" in message.subject  # in rob's own time zone
    sent_to = sorted(Delivery.objects.values_list("channel", "address"))
    assert sent_to == [("email", rob.email), ("websocket", str(rob.pk))]


@pytest.mark.django_db
def test_reminder_once_when_the_task_runs_twice_or_late(schedule):
    _run_at(HANDOFF - timedelta(minutes=60))
    _run_at(HANDOFF - timedelta(minutes=60))
    _run_at(HANDOFF - timedelta(minutes=12))  # a late or overlapping run still finds it, and adds nobody
    assert Message.objects.filter(dedupe_key=KEY).count() == 1
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
def test_reminder_late_run_still_tells_the_person(schedule):
    _run_at(HANDOFF - timedelta(minutes=20))
    assert Message.objects.filter(dedupe_key=KEY).exists()


@pytest.mark.django_db
def test_reminder_in_app_only_without_an_email(schedule, rob):
    rob.email = ""
    rob.save(update_fields=["email"])
    _run_at(HANDOFF - timedelta(minutes=30))
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["websocket"]


@pytest.mark.django_db
def test_reminder_for_an_override_taking_over(schedule, rob):
    # rob covers 15:00–16:00Z on 20 October, in the middle of ana's turn
    start = datetime(2026, 10, 20, 15, tzinfo=UTC)
    services.override_create(
        actor=SYSTEM, schedule=schedule, user=rob, start=start, end=start + timedelta(hours=1)
    )
    _run_at(start - timedelta(minutes=59))
    (message,) = Message.objects.all()
    assert message.dedupe_key == f"handoff:payments-primary:rob:{start.isoformat()}"


# The pure part, without a database.

DAILY = rotation.Layer(
    name="Daily",
    rotation=rotation.Rotation(
        participants=("rob", "ana"),
        turn=rotation.TurnLength(1, "days"),
        handoff_time=time(9),
        start=date(2026, 1, 1),
        time_zone="UTC",
    ),
    restrictions=rotation.Restriction(()),
)


def test_handovers_between_skips_the_running_shift_and_same_person_joins():
    day = datetime(2026, 1, 2, 9, tzinfo=UTC)  # ana takes over from rob
    # ana's own override right after her turn starts is no new handoff
    engine = rotation.Schedule(
        layers=(DAILY,),
        overrides=(rotation.Override(day + timedelta(hours=1), day + timedelta(hours=2), "ana"),),
    )
    assert reminders.handovers_between(engine, day - timedelta(hours=1), day) == [("rob", "ana", day)]
    assert reminders.handovers_between(engine, day, day + timedelta(hours=1)) == []
    assert reminders.handovers_between(engine, day - timedelta(hours=2), day - timedelta(hours=1)) == []


def test_handovers_between_after_a_gap_has_no_outgoing_person():
    weekdays = rotation.Layer(
        name="Office",
        rotation=DAILY.rotation,
        restrictions=rotation.Restriction((rotation.Window(frozenset({0, 1, 2, 3, 4}), time(9), time(17)),)),
    )
    monday = datetime(2026, 1, 5, 9, tzinfo=UTC)
    engine = rotation.Schedule(layers=(weekdays,), overrides=())
    ((outgoing, _, start),) = reminders.handovers_between(engine, monday - timedelta(hours=1), monday)
    assert (outgoing, start) == (None, monday)


@pytest.mark.django_db
def test_reminder_for_a_handover_moved_earlier_is_sent_for_the_new_instant(schedule, rob):
    _run_at(HANDOFF - timedelta(minutes=60))
    earlier = HANDOFF - timedelta(minutes=30)
    # rob now takes over half an hour early: a handover at a new instant, not a duplicate of the first
    services.override_create(actor=SYSTEM, schedule=schedule, user=rob, start=earlier, end=HANDOFF)
    _run_at(earlier - timedelta(minutes=50))
    keys = set(Message.objects.values_list("dedupe_key", flat=True))
    assert keys == {KEY, f"handoff:payments-primary:rob:{earlier.isoformat()}"}
