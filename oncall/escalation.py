"""Escalation maths: which level comes next, whether a level applies to an alert, local-time conditions,
support hours. Pure: no ORM, no framework. The engine (oncall.engine) and its dry run both use it.

A policy snapshot is plain JSON, taken when an escalation starts:
{"policy_id", "name", "repeat", "repeat_from" (0-based level index),
 "levels": [{"id", "delay_minutes", "round_robin", "severities", "urgencies", "time_condition",
             "targets": [{"kind", "user_id", "schedule_id", "team_id", "label"}]}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

MON_FRI = frozenset(range(5))
MAX_STEPS_PER_TICK_WALK = 64  # levels skipped in one go before the engine gives up for this tick


def level_applies(level: Mapping[str, Any], *, severity: str, urgency: str) -> bool:
    """A level limited to some severities or urgencies pages only for those."""
    severities, urgencies = level.get("severities") or [], level.get("urgencies") or []
    return (not severities or severity in severities) and (not urgencies or urgency in urgencies)


def next_position(snapshot: Mapping[str, Any], level_index: int, pass_number: int) -> tuple[int, int] | None:
    """After the step at (level, pass): the next (level, pass), or None when every level and repeat ran."""
    levels = snapshot.get("levels") or []
    if level_index + 1 < len(levels):
        return level_index + 1, pass_number
    if pass_number < int(snapshot.get("repeat") or 0):
        start = min(max(int(snapshot.get("repeat_from") or 0), 0), max(len(levels) - 1, 0))
        return start, pass_number + 1
    return None


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def in_window(condition: Mapping[str, Any], instant: datetime, zone: tzinfo) -> bool:
    """Whether `instant`, read in `zone`, falls in the condition's days and hours. A window may cross
    midnight (22:00–07:00): its early-morning part belongs to the day it started."""
    local = instant.astimezone(zone)
    days = frozenset(condition.get("days") or range(7))
    start, end = _clock(condition.get("start") or "00:00"), _clock(condition.get("end") or "00:00")
    clock = local.time().replace(tzinfo=None)
    if start < end:
        return local.weekday() in days and start <= clock < end
    if start == end:  # the whole day
        return local.weekday() in days
    if clock >= start:
        return local.weekday() in days
    if clock < end:
        return (local.weekday() - 1) % 7 in days
    return False


def time_condition_holds(condition: Mapping[str, Any] | None, instant: datetime, zone: tzinfo) -> bool:
    """No condition: always. "when": "inside" (default) pages inside the window, "outside" outside it."""
    if not condition:
        return True
    inside = in_window(condition, instant, zone)
    return inside if condition.get("when", "inside") == "inside" else not inside


HH_MM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
TIME_CONDITION_KEYS = frozenset({"zone", "days", "start", "end", "when"})
REGION_PREFIX = "region:"


def time_condition_errors(condition: Any, *, is_zone, region_exists=lambda code: True) -> list[str]:
    """What is wrong with a level's local-time window, in words for the person who wrote it; [] when fine.
    {"zone": "target" | "region:<code>" | "<IANA zone>", "days": [0..6], "start": "HH:MM", "end": "HH:MM",
     "when": "inside" | "outside"}; an empty dict is no condition. `is_zone` says whether a name is an IANA
    zone, `region_exists` whether a region code is known (the services look both up)."""
    if condition in (None, {}):
        return []
    if not isinstance(condition, dict) or not set(condition) <= TIME_CONDITION_KEYS:
        return ['A time condition has only "zone", "days", "start", "end" and "when".']
    errors = []
    zone = condition.get("zone", "target")
    if not isinstance(zone, str) or len(zone) > 64:
        errors.append("The zone is 'target', 'region:<code>' or an IANA time zone name.")
    elif zone.startswith(REGION_PREFIX):
        code = zone[len(REGION_PREFIX) :]
        if not code or len(code) > 8 or not region_exists(code):
            errors.append(f"There is no region {code!r}.")
    elif zone != "target" and not is_zone(zone):
        errors.append(f"{zone!r} is not an IANA time zone name (e.g. Europe/Dublin).")
    days = condition.get("days", list(range(7)))
    if (
        not isinstance(days, list)
        or not days
        or len(days) > 7
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days)
        or len(set(days)) != len(days)
    ):
        errors.append("The days are distinct numbers from 0 (Monday) to 6 (Sunday), at least one.")
    for key in ("start", "end"):
        value = condition.get(key)
        if not isinstance(value, str) or not HH_MM.fullmatch(value):
            errors.append(f"The {key} is a time written HH:MM (00:00 to 23:59).")
    if condition.get("when", "inside") not in ("inside", "outside"):
        errors.append("'when' is inside or outside.")
    return errors


def next_support_instant(instant: datetime, zone: tzinfo, start: time, end: time) -> datetime:
    """The first instant at or after `instant` inside business hours (Monday–Friday, start–end local)."""
    local = instant.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in MON_FRI:
            continue
        opens = datetime.combine(day, start, tzinfo=zone)
        closes = datetime.combine(day, end, tzinfo=zone)
        if instant < opens:
            return opens
        if instant < closes:
            return instant
    return instant  # unreachable with a sane window; never hold a page forever
