"""Uptime maths at exact instants, DST days included. Pure: no database."""

from datetime import UTC, date, datetime, timedelta

import pytest

from statuspage.uptime import daily_uptime, status_intervals, uptime_percentage

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def t(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_intervals_run_from_each_change_to_the_next_and_stop_now():
    changes = [(t(28, 10), "major_outage"), (t(1, 0), "operational"), (t(28, 11), "operational")]
    assert status_intervals(changes, until=NOW) == [
        (t(1, 0), t(28, 10), "operational"),
        (t(28, 10), t(28, 11), "major_outage"),
        (t(28, 11), NOW, "operational"),
    ]


def test_an_hour_of_major_outage_costs_an_hour_and_partial_costs_thirty_percent():
    changes = [
        (t(1, 0), "operational"),
        (t(28, 10), "major_outage"),
        (t(28, 11), "partial_outage"),
        (t(28, 13), "degraded_performance"),
        (t(28, 14), "under_maintenance"),
        (t(28, 15), "operational"),
    ]
    bars = daily_uptime(changes, now=NOW, days=3)
    yesterday = bars[1]
    assert yesterday.day == date(2026, 11, 28)
    assert yesterday.downtime_minutes == pytest.approx(60 + 0.3 * 120)
    assert yesterday.uptime == pytest.approx(1 - 96 / 1440)
    assert yesterday.worst == "major_outage"
    assert bars[0].uptime == 1.0 and bars[0].worst == "operational"


def test_today_counts_only_the_hours_so_far():
    changes = [(t(1, 0), "operational"), (t(29, 6), "major_outage"), (t(29, 9), "operational")]
    today = daily_uptime(changes, now=NOW, days=1)[0]
    assert today.observed == timedelta(hours=12)
    assert today.uptime == pytest.approx(1 - 180 / 720)


def test_days_before_the_first_record_or_the_start_date_have_no_data():
    bars = daily_uptime([(t(28, 12), "operational")], now=NOW, days=3)
    assert bars[0].uptime is None and bars[0].worst is None
    assert bars[1].observed == timedelta(hours=12)
    bars = daily_uptime([(t(1, 0), "major_outage")], now=NOW, days=3, start_date=date(2026, 11, 29))
    assert [bar.uptime for bar in bars] == [None, None, 0.0]


def test_the_period_percentage_weights_days_by_observed_time():
    changes = [(t(1, 0), "operational"), (t(28, 0), "major_outage"), (t(28, 12), "operational")]
    bars = daily_uptime(changes, now=t(29, 0), days=3)  # 27th and 28th whole; the 29th not begun
    assert bars[2].observed == timedelta(0)
    assert uptime_percentage(bars) == pytest.approx(1 - 720 / 2880)
    assert uptime_percentage(daily_uptime([], now=NOW, days=90)) is None


def test_days_follow_the_page_time_zone_across_a_dst_change():
    # Europe/Dublin falls back on 2026-10-25: that day is 25 hours long.
    changes = [(t(1, 0, month=10), "operational")]
    bars = daily_uptime(changes, now=datetime(2026, 10, 27, 0, 0, tzinfo=UTC), days=3, tz="Europe/Dublin")
    assert [bar.day for bar in bars] == [date(2026, 10, 25), date(2026, 10, 26), date(2026, 10, 27)]
    assert bars[0].observed == timedelta(hours=25)
    assert bars[1].observed == timedelta(hours=24)


def test_ninety_bars_oldest_first():
    bars = daily_uptime([(t(1, 0, month=1), "operational")], now=NOW, days=90)
    assert len(bars) == 90 and bars[-1].day == date(2026, 11, 29) and bars[0].day == date(2026, 9, 1)
