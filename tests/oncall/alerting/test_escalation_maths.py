"""Escalation maths, pure: level order and repeats, windows across midnight and DST, support hours."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from oncall.escalation import (
    in_window,
    level_applies,
    next_position,
    next_support_instant,
    time_condition_errors,
)

SNAPSHOT = {"repeat": 2, "repeat_from": 1, "levels": [{}, {}, {}]}
DUBLIN = ZoneInfo("Europe/Dublin")


def test_next_position_walks_levels_then_repeats_from_the_chosen_level():
    walk, position = [], (0, 0)
    while position is not None:
        walk.append(position)
        position = next_position(SNAPSHOT, *position)
    assert walk == [(0, 0), (1, 0), (2, 0), (1, 1), (2, 1), (1, 2), (2, 2)]


def test_level_applies_to_its_severities_and_urgencies():
    level = {"severities": ["P0", "P1"], "urgencies": ["high"]}
    assert level_applies(level, severity="P0", urgency="high")
    assert not level_applies(level, severity="P2", urgency="high")
    assert not level_applies(level, severity="P0", urgency="low")
    assert level_applies({}, severity="P3", urgency="low")


def test_window_crossing_midnight_belongs_to_the_day_it_started():
    night = {"days": [4], "start": "22:00", "end": "07:00"}  # Friday night
    assert in_window(night, datetime(2026, 11, 27, 23, 0, tzinfo=UTC), UTC)  # Friday 23:00
    assert in_window(night, datetime(2026, 11, 28, 6, 59, tzinfo=UTC), UTC)  # Saturday 06:59
    assert not in_window(night, datetime(2026, 11, 28, 23, 0, tzinfo=UTC), UTC)  # Saturday night


def test_window_follows_local_clocks_across_dst():
    day = {"start": "09:00", "end": "17:00"}
    assert in_window(day, datetime(2026, 10, 23, 8, 0, tzinfo=UTC), DUBLIN)  # 09:00 IST (UTC+1)
    assert not in_window(day, datetime(2026, 10, 26, 8, 59, tzinfo=UTC), DUBLIN)  # 08:59 GMT after the change
    assert in_window(day, datetime(2026, 10, 26, 9, 0, tzinfo=UTC), DUBLIN)  # 09:00 GMT


def test_next_support_instant_skips_nights_and_weekends():
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    assert next_support_instant(friday_evening, DUBLIN, time(9), time(17)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=DUBLIN
    )
    tuesday_noon = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert next_support_instant(tuesday_noon, DUBLIN, time(9), time(17)) == tuesday_noon


def test_time_condition_errors():
    def is_zone(name):
        return name in {"Europe/Dublin"}

    assert time_condition_errors({}, is_zone=is_zone) == []
    assert (
        time_condition_errors({"zone": "Europe/Dublin", "start": "22:00", "end": "07:00"}, is_zone=is_zone)
        == []
    )
    assert (
        len(
            time_condition_errors(
                {"zone": "Mars/Base", "days": [9], "start": "25:00", "when": "x"}, is_zone=is_zone
            )
        )
        == 5  # the zone, the days, a start past 23:59, no end, and "when"
    )
    assert time_condition_errors(
        {"zone": "region:MARS", "start": "09:00", "end": "17:00"},
        is_zone=is_zone,
        region_exists={"NA"}.__contains__,
    ) == ["There is no region 'MARS'."]
    assert time_condition_errors({"colour": "red"}, is_zone=is_zone)
