"""Uptime maths for the status page: daily bars and percentages from status changes. Pure: no ORM.

downtime = major-outage minutes + 0.3 × partial-outage minutes; degraded performance and maintenance
do not count as downtime. Time before a component's first recorded status has no data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARTIAL_WEIGHT = 0.3
STATUS_RANK = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
FORMULA = "downtime = major-outage minutes + 0.3 × partial-outage minutes; degraded performance and maintenance are not downtime"


@dataclass
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


def daily_uptime(
    changes: Iterable[tuple[datetime, str]],
    *,
    now: datetime,
    days: int = 90,
    tz: str = "UTC",
    start_date: date | None = None,
) -> list[DayUptime]:
    """One entry per calendar day (in `tz`) for the last `days` days, oldest first, today last."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    bars = [DayUptime(day=first_day + timedelta(days=n)) for n in range(days)]

    # Day bounds are midnights in the zone, converted to UTC: arithmetic between datetimes sharing a
    # tzinfo ignores offsets, which would make a DST day 24 hours instead of 23 or 25.
    def midnight(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)

    bounds = [(midnight(bar.day), midnight(bar.day + timedelta(days=1))) for bar in bars]
    counted_from = midnight(start_date) if start_date else None
    for start, end, status in status_intervals(changes, until=now):
        if counted_from is not None:
            start = max(start, counted_from)
            if start >= end:
                continue
        for bar, (day_start, day_end) in zip(bars, bounds, strict=True):
            overlap_start, overlap_end = max(start, day_start), min(end, day_end)
            if overlap_end <= overlap_start:
                continue
            span = overlap_end - overlap_start
            bar.observed += span
            bar.minutes[status] = bar.minutes.get(status, 0.0) + span.total_seconds() / 60
            if bar.worst is None or STATUS_RANK[status] > STATUS_RANK[bar.worst]:
                bar.worst = status
    return bars


def uptime_percentage(bars: list[DayUptime]) -> float | None:
    """The whole period's uptime, weighted by how long each day was observed."""
    observed = sum((bar.observed for bar in bars), timedelta(0)).total_seconds() / 60
    if observed <= 0:
        return None
    downtime = sum(bar.downtime_minutes for bar in bars)
    return max(0.0, 1 - downtime / observed)
