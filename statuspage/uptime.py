"""Uptime maths for the status page: daily bars and percentages from status changes. Pure: no ORM.

downtime = major-outage minutes + 0.3 × partial-outage minutes; degraded performance and maintenance
do not count as downtime. Time before a component's first recorded status has no data.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PARTIAL_WEIGHT = 0.3
ZERO = timedelta(0)
STATUS_RANK = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
FORMULA = "downtime = major-outage minutes + 0.3 × partial-outage minutes; degraded performance and maintenance are not downtime"


@dataclass(slots=True)
class DayUptime:
    day: date
    observed: timedelta = timedelta(0)  # how much of the day has data (0 before the start, partial today)
    minutes: dict[str, float] = field(default_factory=dict)  # status -> minutes spent in it
    worst: str | None = None

    @property
    def downtime_minutes(self) -> float:
        return self.minutes.get("major_outage", 0.0) + PARTIAL_WEIGHT * self.minutes.get(
            "partial_outage", 0.0
        )

    @property
    def uptime(self) -> float | None:
        observed = self.observed.total_seconds() / 60
        if observed <= 0:
            return None
        return max(0.0, 1 - self.downtime_minutes / observed)


def status_intervals(
    changes: Iterable[tuple[datetime, str]], *, until: datetime
) -> list[tuple[datetime, datetime, str]]:
    """Turn (at, new status) changes into (start, end, status) intervals ending at `until`."""
    ordered = sorted(((at.astimezone(UTC), status) for at, status in changes), key=lambda change: change[0])
    until = until.astimezone(UTC)
    intervals: list[tuple[datetime, datetime, str]] = []
    if not ordered:
        return intervals
    for (start, status), following in zip(ordered, [*ordered[1:], (until, None)], strict=True):
        end = min(following[0], until)
        if end > start:
            intervals.append((start, end, status))
    return intervals


@lru_cache(maxsize=64)
def day_bounds(first_day: date, days: int, tz: str) -> tuple[datetime, ...]:
    """The UTC instants of `days` + 1 consecutive midnights in `tz`, from `first_day` on.

    Day bounds are midnights in the zone, converted to UTC: arithmetic between datetimes sharing a
    tzinfo ignores offsets, which would make a DST day 24 hours instead of 23 or 25. Every component of a
    page shares them, so they are computed once per day and zone."""
    zone = ZoneInfo(tz)
    return tuple(
        datetime.combine(first_day + timedelta(days=n), time.min, tzinfo=zone).astimezone(UTC)
        for n in range(days + 1)
    )


def daily_uptime(
    changes: Iterable[tuple[datetime | int, str]],
    *,
    now: datetime,
    days: int = 90,
    tz: str = "UTC",
    start_date: date | None = None,
) -> list[DayUptime]:
    """One entry per calendar day (in `tz`) for the last `days` days, oldest first, today last.

    A change's instant is a datetime or whole microseconds since the Unix epoch (what a database can hand
    over without building thousands of datetimes)."""
    today = now.astimezone(ZoneInfo(tz)).date()
    return _days(
        changes,
        first_day=today - timedelta(days=days - 1),
        days=days,
        tz=tz,
        until=_microseconds(now),
        start_date=start_date,
    )


@dataclass(frozen=True, slots=True)
class FinishedDays:
    """The days before today of `daily_uptime`, with the sums the period's percentage needs. They depend only
    on the changes before today, so a page keeps them between renders and recomputes today alone."""

    bars: tuple[DayUptime, ...]
    observed: timedelta
    downtimes: tuple[float, ...]  # each day's downtime minutes, in order (summed as `uptime_percentage` does)


def days_before_today(
    changes: Iterable[tuple[datetime | int, str]],
    *,
    now: datetime,
    days: int = 90,
    tz: str = "UTC",
    start_date: date | None = None,
) -> FinishedDays:
    """The first `days` - 1 entries of `daily_uptime(changes, now=now, …)`: every day but today."""
    today = now.astimezone(ZoneInfo(tz)).date()
    bars = _days(
        changes,
        first_day=today - timedelta(days=days - 1),
        days=days - 1,
        tz=tz,
        until=_microseconds_bounds(today, 1, tz)[0],
        start_date=start_date,
    )
    return FinishedDays(
        bars=tuple(bars),
        observed=sum((bar.observed for bar in bars), ZERO),
        downtimes=tuple(bar.downtime_minutes for bar in bars),
    )


def today_uptime(
    changes: Iterable[tuple[datetime | int, str]],
    *,
    now: datetime,
    tz: str = "UTC",
    start_date: date | None = None,
) -> DayUptime:
    """The last entry of `daily_uptime`: today so far. Of the changes before today only the last one counts."""
    return _days(
        changes,
        first_day=now.astimezone(ZoneInfo(tz)).date(),
        days=1,
        tz=tz,
        until=_microseconds(now),
        start_date=start_date,
    )[0]


def _days(
    changes: Iterable[tuple[datetime | int, str]],
    *,
    first_day: date,
    days: int,
    tz: str,
    until: int,
    start_date: date | None,
) -> list[DayUptime]:
    """`days` days from `first_day`, counting the statuses up to `until` (epoch microseconds).

    One pass over the sorted intervals: a day cursor only moves forward, so the cost is O(intervals + days),
    not O(intervals × days)."""
    if days <= 0:
        return []
    # Whole microseconds since the epoch: integer arithmetic is exact and far cheaper than datetimes.
    bounds = _microseconds_bounds(first_day, days, tz)
    counted_from = _microseconds(day_bounds(start_date, 1, tz)[0]) if start_date else bounds[0]
    counted_from = max(counted_from, bounds[0])
    observed = [0] * days
    spent: list[dict[str, int]] = [{} for _ in range(days)]
    worst: list[str | None] = [None] * days
    day = 0
    for start, end, status in _intervals_in_microseconds(changes, until=until):
        if end <= counted_from:
            continue
        start = max(start, counted_from)
        if start >= bounds[day + 1]:
            day = bisect_right(bounds, start, lo=day) - 1  # intervals are sorted: never moves back
        rank = STATUS_RANK[status]
        cursor = day
        while cursor < days and bounds[cursor] < end:
            span = min(end, bounds[cursor + 1]) - max(start, bounds[cursor])
            if span > 0:
                observed[cursor] += span
                minutes = spent[cursor]
                minutes[status] = minutes.get(status, 0) + span
                if worst[cursor] is None or rank > STATUS_RANK[worst[cursor]]:
                    worst[cursor] = status
            cursor += 1
        # The next interval starts where this one ended: in the last day this one touched.
        day = max(day, min(cursor, days) - 1)
    return [
        DayUptime(
            day=first_day + timedelta(days=n),
            observed=timedelta(microseconds=observed[n]),
            minutes={status: us / 60_000_000 for status, us in spent[n].items()} if spent[n] else {},
            worst=worst[n],
        )
        for n in range(days)
    ]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _intervals_in_microseconds(
    changes: Iterable[tuple[datetime | int, str]], *, until: int
) -> list[tuple[int, int, str]]:
    """`status_intervals`, in whole microseconds since the epoch."""
    ordered = sorted(
        ((at if type(at) is int else _microseconds(at), status) for at, status in changes),
        key=lambda change: change[0],
    )
    intervals: list[tuple[int, int, str]] = []
    if not ordered:
        return intervals
    for (start, status), (following, _) in zip(ordered, [*ordered[1:], (until, None)], strict=True):
        end = min(following, until)
        if end > start:
            intervals.append((start, end, status))
    return intervals


@lru_cache(maxsize=64)
def _microseconds_bounds(first_day: date, days: int, tz: str) -> tuple[int, ...]:
    return tuple(_microseconds(bound) for bound in day_bounds(first_day, days, tz))


def uptime_percentage(bars: list[DayUptime]) -> float | None:
    """The whole period's uptime, weighted by how long each day was observed."""
    observed = sum((bar.observed for bar in bars), timedelta(0)).total_seconds() / 60
    if observed <= 0:
        return None
    downtime = sum(bar.downtime_minutes for bar in bars)
    return max(0.0, 1 - downtime / observed)


def uptime_with_today(finished: FinishedDays, today: DayUptime) -> float | None:
    """`uptime_percentage` of the finished days followed by today, from the finished days' sums: the same
    sums, in the same order, so the same number."""
    observed = (finished.observed + today.observed).total_seconds() / 60
    if observed <= 0:
        return None
    downtime = sum((*finished.downtimes, today.downtime_minutes))
    return max(0.0, 1 - downtime / observed)
