"""The rotation engine: properties of the final schedule, and fixed cases across DST changes (no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.rotation import (
    OVERRIDE,
    Gap,
    Handoff,
    Layer,
    Override,
    Restriction,
    Rotation,
    Schedule,
    TurnLength,
    Window,
    cover_at,
    fairness,
    final_schedule,
    gaps,
    layer_coverage,
    next_handoff,
    on_call_at,
    overlaps,
)

TORONTO, DUBLIN, SYDNEY = "America/Toronto", "Europe/Dublin", "Australia/Sydney"
ZONES = [TORONTO, DUBLIN, SYDNEY, "Asia/Kolkata", "Asia/Singapore", "UTC"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def daily(
    zone: str,
    people=("ana", "ben", "cai"),
    handoff=time(9),
    turn=None,
    start=date(2026, 1, 1),
):
    return Rotation(tuple(people), turn or TurnLength(1, "days"), handoff, start, zone)


def _union(spans):
    merged = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [tuple(span) for span in merged]


# No example database: a test run leaves no files in the checkout.
PROPERTY = settings(max_examples=150, deadline=None, database=None)

# --- properties -----------------------------------------------------------------------------------------------

names = st.sampled_from(["ana", "ben", "cai", "dev", "eli"])
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 30]))
windows = st.builds(Window, st.frozensets(st.integers(0, 6), min_size=1), times, times)
rotations = st.builds(
    Rotation,
    participants=st.lists(names, min_size=1, max_size=4).map(tuple),
    turn=st.builds(TurnLength, st.integers(1, 3), st.sampled_from(["hours", "days", "weeks"])),
    handoff_time=times,
    start=st.dates(min_value=date(2025, 12, 1), max_value=date(2026, 12, 31)),
    time_zone=st.sampled_from(ZONES),
)
layers = st.builds(
    Layer,
    name=st.sampled_from(["na", "eu", "apac", "backup"]),
    rotation=rotations,
    restrictions=st.builds(Restriction, st.lists(windows, max_size=2).map(tuple)),
)


@st.composite
def overrides(draw):
    start = draw(moments)
    return Override(start, start + timedelta(minutes=draw(st.integers(30, 3 * 24 * 60))), draw(names))


@st.composite
def cases(draw):
    schedule = Schedule(
        tuple(draw(st.lists(layers, min_size=1, max_size=3))), tuple(draw(st.lists(overrides(), max_size=4)))
    )
    start = draw(moments)
    return schedule, start, start + timedelta(hours=draw(st.integers(1, 24 * 21)))


@PROPERTY
@given(cases())
def test_final_schedule_never_overlaps_and_merges_neighbours(case):
    schedule, start, end = case
    shifts = final_schedule(schedule, start, end)
    for shift in shifts:
        assert start <= shift.start < shift.end <= end
    for before, after in itertools.pairwise(shifts):
        assert before.end <= after.start
        if before.end == after.start:
            assert (before.person, before.source) != (after.person, after.source)


@PROPERTY
@given(cases())
def test_final_schedule_covers_exactly_the_union_of_layers_and_overrides(case):
    schedule, start, end = case
    expected = [(s.start, s.end) for layer in schedule.layers for s in layer_coverage(layer, start, end)]
    expected += [
        (max(o.start, start), min(o.end, end)) for o in schedule.overrides if o.start < end and o.end > start
    ]
    assert _union((s.start, s.end) for s in final_schedule(schedule, start, end)) == _union(expected)


@PROPERTY
@given(cases())
def test_final_schedule_overrides_and_higher_layers_win(case):
    schedule, start, end = case
    shifts = final_schedule(schedule, start, end)
    override_spans = _union((o.start, o.end) for o in schedule.overrides)
    covered_by_overrides = _union((s.start, s.end) for s in shifts if s.source == OVERRIDE)
    assert covered_by_overrides == _union(
        (max(lo, start), min(hi, end)) for lo, hi in override_spans if lo < end and hi > start
    )
    names_in_order = [layer.name for layer in schedule.layers]
    for shift in shifts:
        if shift.source == OVERRIDE:
            continue
        assert all(hi <= shift.start or lo >= shift.end for lo, hi in override_spans)
        # No higher layer covers any part of a lower layer's shift.
        rank = max(i for i, name in enumerate(names_in_order) if name == shift.source)
        for higher in schedule.layers[rank + 1 :]:
            assert not layer_coverage(higher, shift.start, shift.end)


@PROPERTY
@given(cases())
def test_gaps_are_exactly_what_the_final_schedule_leaves_uncovered(case):
    schedule, start, end = case
    uncovered, cursor = [], start
    for shift in final_schedule(schedule, start, end):
        if shift.start > cursor:
            uncovered.append(Gap(cursor, shift.start))
        cursor = shift.end
    if cursor < end:
        uncovered.append(Gap(cursor, end))
    assert gaps(schedule, start, end) == uncovered


@PROPERTY
@given(cases(), st.lists(st.floats(0, 1), min_size=1, max_size=10))
def test_on_call_at_agrees_with_final_schedule(case, fractions):
    schedule, start, end = case
    shifts = final_schedule(schedule, start, end)
    instants = [start + (end - start) * f for f in fractions if start + (end - start) * f < end]
    instants += [s.start for s in shifts] + [s.end - timedelta(microseconds=1) for s in shifts]
    for instant in instants:
        expected = next((s.person for s in shifts if s.start <= instant < s.end), None)
        assert on_call_at(schedule, instant) == expected, instant


@settings(PROPERTY, max_examples=60)
@given(cases())
def test_next_handoff_is_the_first_change_of_person(case):
    schedule, start, _ = case
    handoff = next_handoff(schedule, start, within=timedelta(days=10))
    if handoff is None:
        return
    assert handoff.when > start
    assert on_call_at(schedule, handoff.when - timedelta(microseconds=1)) == handoff.from_person
    assert on_call_at(schedule, handoff.when) == handoff.to_person
    assert handoff.from_person != handoff.to_person


def _final_schedule_next_change(schedule, instant, within):
    """The oracle: the first change of person read off the final schedule over the whole window."""
    horizon = instant + within
    shifts = final_schedule(schedule, instant, horizon)
    who = shifts[0].person if shifts and shifts[0].start == instant else None
    cursor = instant
    for shift in shifts:
        if shift.start > cursor and who is not None:
            return Handoff(cursor, who, None)
        if shift.person != who:
            return Handoff(shift.start, who, shift.person)
        cursor = shift.end
    if cursor < horizon and who is not None:
        return Handoff(cursor, who, None)
    return None


# Instants within a few days of a DST change in one of the zones the layers use, and overrides around them.
DST_CHANGES = [
    *(date(2026, 3, 8), date(2026, 11, 1)),  # Toronto
    *(date(2026, 3, 29), date(2026, 10, 25)),  # Dublin
    *(date(2026, 4, 5), date(2026, 10, 4)),  # Sydney
]
near_dst = st.builds(
    lambda day, minutes: datetime.combine(day, time(), UTC) + timedelta(minutes=minutes),
    st.sampled_from(DST_CHANGES),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
)


@st.composite
def handoff_cases(draw):
    start = draw(st.one_of(moments, near_dst))
    covers = []
    for _ in range(draw(st.integers(0, 4))):
        begins = start + timedelta(minutes=draw(st.integers(-24 * 60, 4 * 24 * 60)))
        covers.append(
            Override(begins, begins + timedelta(minutes=draw(st.integers(30, 2 * 24 * 60))), draw(names))
        )
    schedule = Schedule(tuple(draw(st.lists(layers, min_size=1, max_size=3))), tuple(covers))
    within = timedelta(hours=draw(st.sampled_from([1, 6, 30, 24 * 8, 24 * 35])))
    return schedule, start, within


@settings(PROPERTY, max_examples=600)
@given(handoff_cases())
def test_next_handoff_agrees_with_the_final_schedules_next_change(case):
    schedule, start, within = case
    assert next_handoff(schedule, start, within=within) == _final_schedule_next_change(
        schedule, start, within
    )


def _brute_force_gaps(schedule, start, end):
    """The reference: every instant where coverage could change, found the slow way (each local day's windows
    converted one by one with zoneinfo, each rotation's first turn, each override's ends), and between two of them
    one `cover_at` lookup: nobody on call there is a gap."""
    edges = {start, end}
    for layer in schedule.layers:
        zone = ZoneInfo(layer.rotation.time_zone)
        edges.add(layer.rotation.anchor.replace(tzinfo=zone).astimezone(UTC))
        day = start.astimezone(zone).date() - timedelta(days=1)
        while day <= end.astimezone(zone).date():
            for window in layer.restrictions.windows:
                if day.weekday() in window.days:
                    end_day = day if window.end > window.start else day + timedelta(days=1)
                    edges.add(datetime.combine(day, window.start, zone).astimezone(UTC))
                    edges.add(datetime.combine(end_day, window.end, zone).astimezone(UTC))
            day += timedelta(days=1)
    for override in schedule.overrides:
        edges |= {override.start, override.end}
    points = sorted(edge for edge in edges if start <= edge <= end)
    out = []
    for lo, hi in itertools.pairwise(points):
        if cover_at(schedule, lo) is None:
            if out and out[-1].end == lo:
                out[-1] = Gap(out[-1].start, hi)
            else:
                out.append(Gap(lo, hi))
    return out


@st.composite
def gap_cases(draw):
    """30 days (what the board shows) from around a DST change, or from anywhere in the year."""
    start = draw(st.one_of(moments, near_dst))
    covers = []
    for _ in range(draw(st.integers(0, 6))):
        begins = start + timedelta(minutes=draw(st.integers(-2 * 24 * 60, 31 * 24 * 60)))
        covers.append(
            Override(begins, begins + timedelta(minutes=draw(st.integers(30, 3 * 24 * 60))), draw(names))
        )
    schedule = Schedule(tuple(draw(st.lists(layers, min_size=1, max_size=3))), tuple(covers))
    return schedule, start, start + timedelta(days=draw(st.sampled_from([1, 7, 30])))


@settings(PROPERTY, max_examples=400)
@given(gap_cases())
def test_gaps_agree_with_a_brute_force_reference_across_dst(case):
    schedule, start, end = case
    assert gaps(schedule, start, end) == _brute_force_gaps(schedule, start, end)


def test_gaps_of_a_window_ending_where_it_starts_cover_whole_days():
    # An end equal to the start is the whole 24 hours from the start, in local time across the change.
    allday = Restriction((Window(frozenset({5, 6}), time(9), time(9)),))
    schedule = Schedule((Layer("weekend", daily(DUBLIN), allday),))
    assert gaps(schedule, utc(2026, 3, 27), utc(2026, 3, 31)) == [
        Gap(utc(2026, 3, 27), utc(2026, 3, 28, 9)),
        Gap(utc(2026, 3, 30, 8), utc(2026, 3, 31)),
    ]


@PROPERTY
@given(cases(), st.lists(st.floats(0, 1), min_size=1, max_size=10))
def test_cover_at_names_the_final_schedules_person_and_source(case, fractions):
    schedule, start, end = case
    shifts = final_schedule(schedule, start, end)
    instants = [start + (end - start) * f for f in fractions if start + (end - start) * f < end]
    instants += [s.start for s in shifts]
    for instant in instants:
        expected = next(((s.person, s.source) for s in shifts if s.start <= instant < s.end), None)
        assert cover_at(schedule, instant) == expected, instant


@pytest.mark.parametrize(("zone", "day"), [(TORONTO, date(2026, 3, 8)), (DUBLIN, date(2026, 10, 25))])
def test_next_handoff_across_a_dst_change_is_nine_local(zone, day):
    schedule = Schedule((Layer("only", daily(zone, people=("ana", "ben"))),))
    before = datetime.combine(day - timedelta(days=1), time(10), ZoneInfo(zone))
    handoff = next_handoff(schedule, before)
    assert handoff.when == datetime.combine(day, time(9), ZoneInfo(zone))
    assert handoff == _final_schedule_next_change(schedule, before, timedelta(days=35))


def test_next_handoff_of_one_person_always_on_call_is_none():
    schedule = Schedule((Layer("only", daily(TORONTO, people=("ana",))),))
    assert next_handoff(schedule, utc(2026, 6, 1)) is None


# --- DST: a 09:00 handoff stays at 09:00 local ----------------------------------------------------------------

DST_DAYS = [
    (TORONTO, date(2026, 3, 8)),
    (TORONTO, date(2026, 11, 1)),
    (DUBLIN, date(2026, 3, 29)),
    (DUBLIN, date(2026, 10, 25)),
    (SYDNEY, date(2026, 4, 5)),
    (SYDNEY, date(2026, 10, 4)),
    ("Asia/Kolkata", date(2026, 3, 8)),
    ("Asia/Singapore", date(2026, 3, 8)),
]


@pytest.mark.parametrize(("zone", "change"), DST_DAYS)
@pytest.mark.parametrize("unit", ["days", "weeks"])
def test_final_schedule_handoff_stays_at_nine_local_across_dst(zone, change, unit):
    rotation = daily(zone, turn=TurnLength(1, unit), start=change - timedelta(days=14))
    schedule = Schedule((Layer("primary", rotation),))
    start = datetime.combine(change - timedelta(days=10), time(), ZoneInfo(zone))
    shifts = final_schedule(schedule, start, start + timedelta(days=21))
    handoffs = [shift.start for shift in shifts[1:]]
    assert len(handoffs) == (21 if unit == "days" else 3)
    for handoff in handoffs:
        assert handoff.astimezone(ZoneInfo(zone)).time() == time(9)
    # Each person keeps their turn: the rotation does not slip by a turn at the change.
    people = [shift.person for shift in shifts[1:]]
    assert all(a != b for a, b in itertools.pairwise(people))


def test_final_schedule_toronto_handoffs_in_utc_move_by_an_hour():
    schedule = Schedule((Layer("na", daily(TORONTO)),))
    shifts = final_schedule(schedule, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))
    assert [s.start for s in shifts] == [utc(2026, 3, 7, 12), utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)]
    shifts = final_schedule(schedule, utc(2026, 10, 31, 12), utc(2026, 11, 2, 12))
    assert [s.start for s in shifts] == [utc(2026, 10, 31, 12), utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)]


def test_final_schedule_sydney_and_dublin_handoffs_in_utc():
    sydney = Schedule((Layer("apac", daily(SYDNEY)),))
    # AEDT (+11) until 2026-04-05 03:00, AEST (+10) after: 09:00 local is 22:00Z, then 23:00Z.
    starts = [s.start for s in final_schedule(sydney, utc(2026, 4, 3, 12), utc(2026, 4, 6, 0))]
    assert starts == [utc(2026, 4, 3, 12), utc(2026, 4, 3, 22), utc(2026, 4, 4, 23), utc(2026, 4, 5, 23)]
    dublin = Schedule((Layer("eu", daily(DUBLIN)),))
    starts = [s.start for s in final_schedule(dublin, utc(2026, 3, 28, 0), utc(2026, 3, 30, 0))]
    assert starts == [utc(2026, 3, 28, 0), utc(2026, 3, 28, 9), utc(2026, 3, 29, 8)]


def test_final_schedule_half_hour_offset_and_no_dst():
    kolkata = Schedule((Layer("in", daily("Asia/Kolkata")),))
    assert [s.start for s in final_schedule(kolkata, utc(2026, 3, 8), utc(2026, 3, 9))][1] == utc(
        2026, 3, 8, 3, 30
    )
    singapore = Schedule((Layer("sg", daily("Asia/Singapore")),))
    assert [s.start for s in final_schedule(singapore, utc(2026, 3, 8, 2), utc(2026, 3, 10))][1] == utc(
        2026, 3, 9, 1
    )


def test_final_schedule_nonexistent_handoff_moves_forward_and_ambiguous_takes_first():
    # 02:30 does not exist in Toronto on 2026-03-08: it moves forward by the gap, to 03:30 EDT (07:30Z).
    spring = Schedule((Layer("na", daily(TORONTO, handoff=time(2, 30))),))
    starts = [s.start for s in final_schedule(spring, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))]
    assert starts == [utc(2026, 3, 7, 12), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]
    # 01:30 happens twice on 2026-11-01: the first one (EDT, 05:30Z) is the handoff.
    autumn = Schedule((Layer("na", daily(TORONTO, handoff=time(1, 30))),))
    starts = [s.start for s in final_schedule(autumn, utc(2026, 10, 31, 12), utc(2026, 11, 2, 12))]
    assert starts == [utc(2026, 10, 31, 12), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_final_schedule_hourly_turns_count_wall_clock_time():
    rotation = daily(TORONTO, turn=TurnLength(12, "hours"), handoff=time(9))
    schedule = Schedule((Layer("na", rotation),))
    shifts = final_schedule(schedule, local(TORONTO, 2026, 3, 7, 9), local(TORONTO, 2026, 3, 9, 9))
    assert [s.start.astimezone(ZoneInfo(TORONTO)).hour for s in shifts] == [9, 21, 9, 21]
    assert [s.hours for s in shifts] == [12, 11, 12, 12]


# --- follow the sun -------------------------------------------------------------------------------------------

BUSINESS = Restriction.business_hours(time(9), time(17))


def follow_the_sun(overrides=()) -> Schedule:
    start = date(2026, 1, 5)  # a Monday
    weekly = TurnLength(1, "weeks")
    return Schedule(
        (
            Layer("apac", Rotation(("aiko", "arjun"), weekly, time(9), start, SYDNEY), BUSINESS),
            Layer("eu", Rotation(("eoin", "elena"), weekly, time(9), start, DUBLIN), BUSINESS),
            Layer("na", Rotation(("nadia", "noah"), weekly, time(9), start, TORONTO), BUSINESS),
        ),
        tuple(overrides),
    )


@pytest.mark.parametrize(
    ("instant", "person"),
    [
        (utc(2026, 6, 10, 2), "aiko"),  # Wed 12:00 AEST, week 22 (even)
        (utc(2026, 6, 10, 7, 30), None),  # 17:30 Sydney, 08:30 Dublin: nobody
        (utc(2026, 6, 10, 9), "eoin"),  # 10:00 IST
        (utc(2026, 6, 10, 14), "nadia"),  # NA and EU both on: the later layer (NA) wins
        (utc(2026, 6, 10, 16), "nadia"),  # 12:00 EDT, EU just closed
        (utc(2026, 6, 10, 22), None),  # 18:00 Toronto, 08:00 Sydney
        (utc(2026, 6, 17, 9), "elena"),  # a week later: week 23
        (utc(2026, 6, 13, 12), None),  # Saturday
        (utc(2026, 6, 15, 8, 30), "elena"),  # Monday 09:30 IST: the week-23 turn has begun
        (utc(2026, 6, 14, 23, 30), "arjun"),  # Monday 09:30 AEST in Sydney: week 23 there too
    ],
)
def test_on_call_at_follow_the_sun(instant, person):
    schedule = follow_the_sun()
    assert on_call_at(schedule, instant) == person
    shifts = final_schedule(schedule, instant - timedelta(days=1), instant + timedelta(days=1))
    assert next((s.person for s in shifts if s.start <= instant < s.end), None) == person


def test_gaps_and_overlaps_follow_the_sun_in_june():
    schedule = follow_the_sun()
    day = (utc(2026, 6, 10), utc(2026, 6, 11))
    assert gaps(schedule, *day) == [
        Gap(utc(2026, 6, 10, 7), utc(2026, 6, 10, 8)),
        Gap(utc(2026, 6, 10, 21), utc(2026, 6, 10, 23)),
    ]
    [overlap] = overlaps(schedule, *day)
    assert (overlap.start, overlap.end, overlap.layers) == (
        utc(2026, 6, 10, 13),
        utc(2026, 6, 10, 16),
        ("eu", "na"),
    )


def test_gaps_follow_the_sun_in_january_move_with_dst():
    # January: Sydney is +11, Dublin +0, Toronto -5. APAC 22:00-06:00Z, EU 09:00-17:00Z, NA 14:00-22:00Z.
    schedule = follow_the_sun()
    assert gaps(schedule, utc(2026, 1, 14), utc(2026, 1, 15)) == [
        Gap(utc(2026, 1, 14, 6), utc(2026, 1, 14, 9))
    ]


def test_override_beats_every_layer_and_next_handoff_reports_it():
    cover = Override(utc(2026, 6, 10, 14), utc(2026, 6, 10, 18), "ana")
    schedule = follow_the_sun([cover])
    assert on_call_at(schedule, utc(2026, 6, 10, 15)) == "ana"
    assert next_handoff(schedule, utc(2026, 6, 10, 12)) == Handoff(utc(2026, 6, 10, 13), "eoin", "nadia")
    assert next_handoff(schedule, utc(2026, 6, 10, 13, 30)) == Handoff(utc(2026, 6, 10, 14), "nadia", "ana")
    assert next_handoff(schedule, utc(2026, 6, 10, 15)) == Handoff(utc(2026, 6, 10, 18), "ana", "nadia")
    assert next_handoff(schedule, utc(2026, 6, 10, 20)) == Handoff(utc(2026, 6, 10, 21), "nadia", None)
    sources = {s.source for s in final_schedule(schedule, utc(2026, 6, 10, 14), utc(2026, 6, 10, 18))}
    assert sources == {OVERRIDE}


def test_fairness_counts_night_and_weekend_hours_in_each_persons_zone():
    # One layer, always on, daily turns at 09:00 Singapore: each turn is 24 h, 9 of them at night in Singapore.
    rotation = daily("Asia/Singapore", people=("sam", "tia"))
    schedule = Schedule((Layer("sg", rotation),))
    start, end = local("Asia/Singapore", 2026, 6, 8, 9), local("Asia/Singapore", 2026, 6, 15, 9)  # Mon to Mon
    report = fairness(
        schedule,
        start,
        end,
        zone_of_person={"sam": "Asia/Singapore", "tia": "America/Toronto"},
        region_of_person={"sam": "APAC", "tia": "NA"},
    )
    assert report.people["sam"].total_hours + report.people["tia"].total_hours == 168
    assert report.people["sam"].night_hours == 4 * 9  # four turns, Singapore nights
    assert report.people["sam"].weekend_hours == 24  # Sat 09:00 to Sun 09:00, all weekend in Singapore
    # tia's turns start 21:00 Toronto; a 24 h turn still holds 9 h of Toronto night.
    assert report.people["tia"].night_hours == 3 * 9
    assert report.regions == {"APAC": 96.0, "NA": 72.0}


def test_final_schedule_rejects_naive_instants():
    with pytest.raises(ValueError, match="timezone-aware"):
        final_schedule(follow_the_sun(), datetime(2026, 1, 1), utc(2026, 1, 2))
