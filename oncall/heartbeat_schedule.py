"""When a heartbeat is due and when its silence raises the alert: a period, or a cron expression read in a
time zone (cronsim, by healthchecks' author: DST gaps and repeats handled as cron does). Pure: no Django."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

PERIOD_MIN = timedelta(minutes=1)
PERIOD_MAX = timedelta(days=366)
GRACE_MIN = timedelta(minutes=1)
GRACE_MAX = timedelta(days=366)


def cron_errors(expression: str, time_zone: str) -> list[str]:
    """Why a cron expression (five fields, as crontab) or its time zone cannot be used; [] when fine."""
    errors = []
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(f"{time_zone!r} is not an IANA time zone name (e.g. Europe/Dublin).")
        zone = None
    if len(expression.split()) != 5:
        errors.append("Give a cron expression of five fields: minute hour day-of-month month day-of-week.")
        return errors
    try:
        CronSim(expression, datetime(2026, 1, 1, tzinfo=zone))
    except CronSimError as exc:
        errors.append(f"That cron expression is invalid: {exc}.")
    return errors


def next_due(*, after: datetime, period: timedelta | None, cron: str, time_zone: str) -> datetime:
    """The next instant a ping is expected, after the ping at `after` (aware)."""
    if cron:
        zone = ZoneInfo(time_zone)
        return next(CronSim(cron, after.astimezone(zone)))
    if period is None:
        raise ValueError("a heartbeat needs a period or a cron expression")
    return after + period


def alert_at(
    *, last_ping: datetime, period: timedelta | None, grace: timedelta, cron: str, time_zone: str
) -> datetime:
    """The instant the heartbeat counts as late: the next expected ping plus the grace."""
    return next_due(after=last_ping, period=period, cron=cron, time_zone=time_zone) + grace
