"""Uptime maths at exact instants, DST days included. Pure: no database."""

from datetime import UTC, date, datetime, timedelta

import pytest

from statuspage.uptime import STATUS_RANK, daily_uptime, status_intervals, uptime_percentage

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


def _reference_daily_uptime(changes, *, now, days, start_date=None):
    """The definition, the slow way: every interval against every UTC day (what the page computed before)."""
    first_day = now.date() - timedelta(days=days - 1)
    counted_from = datetime.combine(start_date, datetime.min.time(), tzinfo=UTC) if start_date else None
    result = []
    for n in range(days):
        day_start = datetime.combine(first_day + timedelta(days=n), datetime.min.time(), tzinfo=UTC)
        day_end = day_start + timedelta(days=1)
        observed, minutes = timedelta(0), {}
        for start, end, status in status_intervals(changes, until=now):
            if counted_from is not None:
                start = max(start, counted_from)
            span = min(end, day_end) - max(start, day_start)
            if span > timedelta(0):
                observed += span
                minutes[status] = minutes.get(status, 0.0) + span.total_seconds() / 60
        result.append((first_day + timedelta(days=n), observed, minutes))
    return result


def test_an_outage_spanning_three_days_is_split_at_utc_midnights():
    changes = [(t(1, 0), "operational"), (t(26, 22), "major_outage"), (t(28, 3), "operational")]
    bars = daily_uptime(changes, now=NOW, days=4)
    assert [bar.day.day for bar in bars] == [26, 27, 28, 29]
    assert [bar.minutes.get("major_outage", 0) for bar in bars] == [120, 1440, 180, 0]
    assert [bar.worst for bar in bars] == ["major_outage", "major_outage", "major_outage", "operational"]
    assert bars[1].uptime == 0.0 and bars[0].observed == bars[1].observed == timedelta(days=1)


def test_a_status_still_open_now_counts_up_to_now_only():
    changes = [(t(1, 0), "operational"), (t(28, 20), "partial_outage")]  # never recovered
    bars = daily_uptime(changes, now=NOW, days=2)
    assert bars[0].minutes == {"operational": 20 * 60, "partial_outage": 4 * 60}
    assert bars[1].minutes == {"partial_outage": 12 * 60} and bars[1].observed == timedelta(hours=12)


def test_a_component_created_mid_range_has_no_data_before_its_first_status():
    changes = [(t(27, 18), "operational"), (t(28, 1), "degraded_performance"), (t(28, 2), "operational")]
    bars = daily_uptime(changes, now=NOW, days=90)
    assert all(bar.uptime is None and bar.worst is None for bar in bars[:-3])
    assert bars[-3].observed == timedelta(hours=6) and bars[-3].uptime == 1.0
    assert bars[-2].minutes == {"operational": 23 * 60, "degraded_performance": 60}
    assert bars[-2].worst == "degraded_performance" and bars[-2].uptime == 1.0
    assert uptime_percentage(bars) == 1.0


def test_utc_days_are_always_24_hours_even_on_european_dst_days():
    # 2026-03-29 and 2026-10-25 change the clocks in Europe; UTC days do not move.
    for day in (datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 10, 25, tzinfo=UTC)):
        bars = daily_uptime([(day - timedelta(days=5), "operational")], now=day + timedelta(days=1), days=3)
        assert [bar.observed for bar in bars[:2]] == [timedelta(hours=24)] * 2


def test_one_pass_matches_the_definition_on_random_histories():
    import random

    rng = random.Random(7)
    statuses = ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"]
    for _ in range(40):
        changes = [
            (NOW - timedelta(minutes=rng.randint(0, 120 * 24 * 60)), rng.choice(statuses))
            for _ in range(rng.randint(0, 60))
        ]
        start_date = rng.choice([None, date(2026, 10, 1), date(2026, 11, 28), date(2025, 1, 1)])
        bars = daily_uptime(changes, now=NOW, days=90, start_date=start_date)
        expected = _reference_daily_uptime(changes, now=NOW, days=90, start_date=start_date)
        assert [bar.day for bar in bars] == [day for day, _, _ in expected]
        assert [bar.observed for bar in bars] == [observed for _, observed, _ in expected]
        for bar, (_, _, minutes) in zip(bars, expected, strict=True):
            assert bar.minutes == pytest.approx(minutes)
            assert bar.worst == (max(minutes, key=STATUS_RANK.__getitem__) if minutes else None)


def test_instants_given_as_epoch_microseconds_count_like_datetimes():
    # What the PostgreSQL selector hands over instead of building thousands of datetimes.
    changes = [(t(1, 0), "operational"), (t(27, 22, 30), "major_outage"), (t(28, 1, 15), "operational")]
    as_microseconds = [(int(at.timestamp()) * 1_000_000, status) for at, status in changes]
    assert daily_uptime(as_microseconds, now=NOW, days=5) == daily_uptime(changes, now=NOW, days=5)


def test_finished_days_and_today_are_exactly_the_ninety_days_and_their_percentage():
    # The page keeps the days before today between renders and recomputes today alone: the same numbers,
    # to the last bit, as the whole computation, whatever the history and wherever "now" falls in its day.
    import random

    from statuspage.uptime import days_before_today, today_uptime, uptime_with_today

    rng = random.Random(11)
    statuses = list(STATUS_RANK)
    for _ in range(60):
        now = NOW + timedelta(minutes=rng.randint(-24 * 60, 24 * 60))
        tz = rng.choice(["UTC", "Europe/Paris", "America/New_York"])
        start_date = rng.choice([None, date(2026, 10, 1), now.date(), date(2025, 1, 1)])
        changes = sorted(
            (now - timedelta(minutes=rng.randint(0, 100 * 24 * 60)), rng.choice(statuses))
            for _ in range(rng.randint(0, 60))
        )
        whole = daily_uptime(changes, now=now, days=90, tz=tz, start_date=start_date)
        finished = days_before_today(changes, now=now, days=90, tz=tz, start_date=start_date)
        today = today_uptime(changes, now=now, tz=tz, start_date=start_date)
        assert [*finished.bars, today] == whole
        assert uptime_with_today(finished, today) == uptime_percentage(whole)


def test_today_needs_only_the_last_change_before_it():
    from statuspage.uptime import today_uptime

    changes = [(t(20, 3), "major_outage"), (t(28, 23), "partial_outage"), (t(29, 9), "operational")]
    assert (
        today_uptime(changes, now=NOW)
        == today_uptime(changes[1:], now=NOW)
        == daily_uptime(changes, now=NOW)[-1]
    )
