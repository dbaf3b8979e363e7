"""On-call calendar feeds, parsed back with a real iCalendar parser and compared with the engine event by event,
across the America/Toronto DST change of 2026-11-01."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from django.utils import timezone

from oncall import ical, rotation, selectors, services
from opsportal.core.services import SYSTEM

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 20, 15, 30, tzinfo=UTC)


@pytest.fixture
def overridden(schedule, ana):
    services.override_create(
        actor=SYSTEM,
        schedule=schedule,
        user=ana,
        start=datetime(2026, 11, 1, 5, tzinfo=UTC),
        end=datetime(2026, 11, 1, 9, tzinfo=UTC),
    )
    return schedule


def engine(schedule):
    return selectors.rotation_schedule(selectors.schedules_for_engine().get(pk=schedule.pk))


def parsed(body: str | bytes) -> list[tuple[datetime, datetime, str, str]]:
    calendar = icalendar.Calendar.from_ical(body)
    events = []
    for event in calendar.walk("VEVENT"):
        events.append(
            (event.decoded("DTSTART"), event.decoded("DTEND"), str(event["SUMMARY"]), str(event["UID"]))
        )
    return events


def expected(schedule, shifts, person=None, host="localhost"):
    return [
        (
            s.start,
            s.end,
            f"On call: {s.person} ({schedule.name})",
            ical.shift_uid(schedule.slug, s, host=host),
        )
        for s in shifts
        if person is None or s.person == person
    ]


def test_feed_range_is_30_days_back_90_ahead_from_today():
    assert ical.feed_range(NOW) == (datetime(2026, 9, 20, tzinfo=UTC), datetime(2027, 1, 18, tzinfo=UTC))


def test_schedule_feed_matches_engine_across_dst(overridden):
    schedule = selectors.schedules_for_engine().get(pk=overridden.pk)
    events = parsed(ical.schedule_feed(schedule, now=NOW, host="localhost"))
    shifts = rotation.final_schedule(engine(overridden), *ical.feed_range(NOW))
    assert events == expected(schedule, shifts)
    assert all(start.tzinfo is not None and start.utcoffset() == timedelta(0) for start, *_ in events)
    # Across the change a 09:00 Toronto handoff moves from 13:00Z to 14:00Z.
    starts = {start for start, *_ in events}
    assert datetime(2026, 10, 31, 13, tzinfo=UTC) in starts
    assert datetime(2026, 11, 2, 14, tzinfo=UTC) in starts
    assert (datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 1, 9, tzinfo=UTC)) in {
        (start, end) for start, end, *_ in events
    }
    assert len({uid for *_, uid in events}) == len(events)


def test_feed_agrees_with_on_call_at_at_many_instants(overridden):
    schedule = selectors.schedules_for_engine().get(pk=overridden.pk)
    events = parsed(ical.schedule_feed(schedule, now=NOW, host="localhost"))
    built = engine(overridden)
    moment = datetime(2026, 10, 28, tzinfo=UTC)
    while moment < datetime(2026, 11, 6, tzinfo=UTC):
        covering = [summary for start, end, summary, _ in events if start <= moment < end]
        person = rotation.on_call_at(built, moment)
        assert covering == ([f"On call: {person} ({schedule.name})"] if person else []), moment
        moment += timedelta(minutes=30)


def test_uids_are_stable_when_the_feed_moves_on(schedule):
    row = selectors.schedules_for_engine().get(pk=schedule.pk)
    today = {uid for *_, uid in parsed(ical.schedule_feed(row, now=NOW, host="localhost"))}
    tomorrow = {
        uid for *_, uid in parsed(ical.schedule_feed(row, now=NOW + timedelta(days=1), host="localhost"))
    }
    # All but the events clipped at either end of the span keep their UID.
    assert len(today & tomorrow) >= len(today) - 3


def test_schedule_feed_url_with_token(client, schedule):
    response = client.get(f"/oncall/{schedule.slug}/{schedule.ical_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    row = selectors.schedules_for_engine().get(pk=schedule.pk)
    shifts = rotation.final_schedule(engine(schedule), *ical.feed_range(timezone.now()))
    assert parsed(response.content) == expected(row, shifts, host=ical._host())
    assert b"\r\n" in response.content


def test_feed_urls_refuse_wrong_tokens(client, schedule, rob):
    assert client.get(f"/oncall/{schedule.slug}/not-the-token.ics").status_code == 404
    assert client.get(f"/oncall/other/{schedule.ical_token}.ics").status_code == 404
    feed = services.personal_feed(user=rob)
    assert client.get(f"/oncall/people/rob/{schedule.ical_token}.ics").status_code == 404
    assert client.get(f"/oncall/people/ana/{feed.token}.ics").status_code == 404


def test_person_feed_lists_only_their_shifts_across_schedules(client, overridden, team, rob, ana):
    second = services.schedule_create(
        actor=SYSTEM, name="Payments secondary", slug="payments-secondary", team=team
    )
    services.layer_create(
        actor=SYSTEM,
        schedule=second,
        name="Dublin",
        participants=[ana, rob],
        turn_unit="weeks",
        start=date(2026, 10, 5),
        time_zone="Europe/Dublin",
        restrictions=[{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
    )
    token = services.personal_feed(user=ana).token
    assert services.personal_feed(user=ana).token == token  # made once
    response = client.get(f"/oncall/people/ana/{token}.ics")
    assert response.status_code == 200
    span = ical.feed_range(timezone.now())
    want = []
    for row in selectors.schedules_for_engine().order_by("name"):
        want += expected(
            row,
            rotation.final_schedule(selectors.rotation_schedule(row), *span),
            person="ana",
            host=ical._host(),
        )
    want.sort(key=lambda event: event[0])
    got = parsed(response.content)
    assert sorted(got) == sorted(want) and got
    assert all("ana" in summary for _, _, summary, _ in got)


def test_a_calendar_library_reads_the_feed_the_way_the_engine_schedules(overridden):
    """recurring-ical-events is what calendar apps' logic looks like: ask it who is on at an instant."""
    import recurring_ical_events

    schedule = selectors.schedules_for_engine().get(pk=overridden.pk)
    calendar = icalendar.Calendar.from_ical(ical.schedule_feed(schedule, now=NOW, host="localhost"))
    built = engine(overridden)
    moment = datetime(2026, 10, 30, tzinfo=UTC)  # across the America/Toronto change of 2026-11-01
    while moment < datetime(2026, 11, 4, tzinfo=UTC):
        on = recurring_ical_events.of(calendar).at(moment)
        at_moment = [e for e in on if e.decoded("DTSTART") <= moment < e.decoded("DTEND")]
        person = rotation.on_call_at(built, moment)
        expected_summary = [f"On call: {person} ({schedule.name})"] if person else []
        assert [str(e["SUMMARY"]) for e in at_moment] == expected_summary, moment
        moment += timedelta(minutes=20)
