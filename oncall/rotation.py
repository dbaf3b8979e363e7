"""The on-call schedule engine: rotations, restrictions, layers and overrides folded into a final UTC schedule.

Pure Python (no Django). Every handoff and restriction window is computed in wall-clock time in its layer's own
zone and converted to UTC last, so a 09:00 handoff stays 09:00 local on both sides of a DST change. Local times that
do not exist (spring-forward gaps) move forward by the length of the gap; ambiguous ones (fall-back) take the first
occurrence: both are what zoneinfo gives with fold=0.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

OVERRIDE = "override"
MON_FRI = frozenset(range(5))
WEEKEND = frozenset({5, 6})

_DAY = timedelta(days=1)
_UNITS = {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}
# A turn past a year is a typo (a million days overflows every date sum the engine does).
MAX_TURN = timedelta(days=366)
MAX_TURN_HOURS = MAX_TURN // timedelta(hours=1)
# How far UTC and wall-clock arithmetic can drift apart around a transition; used as a search margin.
_SLACK = timedelta(hours=3)

Unit = Literal["hours", "days", "weeks"]


@dataclass(frozen=True, slots=True)
class TurnLength:
    """How long each participant's turn lasts, counted in local wall-clock time (a week is 7 local days)."""

    count: int
    unit: Unit = "weeks"

    def __post_init__(self) -> None:
        if self.unit not in _UNITS:
            raise ValueError(f"unknown turn unit {self.unit!r}")
        if self.count < 1:
            raise ValueError("a turn lasts at least one unit")
        if self.count > MAX_TURN // _UNITS[self.unit]:
            raise ValueError(f"a turn lasts at most {MAX_TURN.days} days")

    @property
    def wall(self) -> timedelta:
        return self.count * _UNITS[self.unit]


@dataclass(frozen=True, slots=True)
class Rotation:
    """Participants take turns in order. The first turn begins at `start` (a local date at `handoff_time`, or a
    local naive datetime used as is); the rotation covers nothing before it."""

    participants: tuple[str, ...]
    turn: TurnLength
    handoff_time: time
    start: date | datetime
    time_zone: str

    def __post_init__(self) -> None:
        if not self.participants:
            raise ValueError("a rotation needs at least one participant")
        if self.handoff_time.tzinfo is not None:
            raise ValueError("handoff_time is local wall-clock time: give it without tzinfo")
        if isinstance(self.start, datetime) and self.start.tzinfo is not None:
            raise ValueError("start is local wall-clock time: give it without tzinfo")
        ZoneInfo(self.time_zone)  # raises ZoneInfoNotFoundError for an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # ZoneInfo caches instances by key

    @property
    def anchor(self) -> datetime:
        """Local naive start of the first turn."""
        if isinstance(self.start, datetime):
            return self.start.replace(fold=0)
        return datetime.combine(self.start, self.handoff_time)


@dataclass(frozen=True, slots=True)
class Window:
    """Local time of day on some weekdays (0 = Monday). An end at or before the start crosses midnight; an end
    equal to the start means the whole 24 hours from the start."""

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.days <= frozenset(range(7)):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")


@dataclass(frozen=True, slots=True)
class Restriction:
    """When a layer may be on call, in the layer's zone. No windows: always."""

    windows: tuple[Window, ...] = ()

    @classmethod
    def business_hours(cls, start: time, end: time, days: frozenset[int] = MON_FRI) -> Restriction:
        return cls((Window(frozenset(days), start, end),))


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    rotation: Rotation
    restrictions: Restriction = field(default_factory=Restriction)


@dataclass(frozen=True, slots=True)
class Override:
    """`person` covers [start, end) whatever the layers say. Aware datetimes."""

    start: datetime
    end: datetime
    person: str

    def __post_init__(self) -> None:
        _require_aware(self.start, self.end)
        if self.end <= self.start:
            raise ValueError("an override ends after it starts")


@dataclass(frozen=True, slots=True)
class Schedule:
    """Layers in order: a later layer wins where layers overlap. Overrides beat every layer; among overlapping
    overrides the later one in the tuple wins."""

    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class Shift:
    start: datetime
    end: datetime
    person: str
    source: str  # layer name, or "override"

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Gap:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two or more layers cover [start, end); the last of `layers` wins there."""

    start: datetime
    end: datetime
    layers: tuple[str, ...]


class Handoff(NamedTuple):
    when: datetime
    from_person: str | None  # None: nobody was on call before (a gap)
    to_person: str | None  # None: nobody is on call after (a gap)


@dataclass(frozen=True, slots=True)
class PersonLoad:
    total_hours: float
    night_hours: float
    weekend_hours: float


@dataclass(frozen=True, slots=True)
class Fairness:
    people: dict[str, PersonLoad]
    regions: dict[str, float]  # hours on call per region; empty without a person -> region map


# --- conversions ----------------------------------------------------------------------------------------------


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("instants must be timezone-aware datetimes")


# Conversions by arithmetic from the epoch: what `naive.replace(tzinfo=zone).astimezone(UTC)` and
# `instant.astimezone(zone).replace(tzinfo=None)` give, without `replace`, which costs ten times the rest (these
# run a few hundred times for every schedule on a page).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)


def _utc(naive: datetime, zone: tzinfo) -> datetime:
    # fold=0: first occurrence of an ambiguous time; a nonexistent time lands after the gap by the gap's length.
    if naive.fold:
        naive = naive.replace(fold=0)
    return _EPOCH + (naive - zone.utcoffset(naive) - _EPOCH_NAIVE)


def _local(instant: datetime, zone: tzinfo) -> datetime:
    """Naive local wall-clock time (fold=0) of an aware instant."""
    return _EPOCH_NAIVE + (instant - _EPOCH) + instant.astimezone(zone).utcoffset()


def _interval(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    _require_aware(start, end)
    return start.astimezone(UTC), end.astimezone(UTC)


# --- one layer ------------------------------------------------------------------------------------------------


def _turns(rotation: Rotation, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """Turns clipped to [start, end), in UTC."""
    zone, length, anchor = rotation.zone, rotation.turn.wall, rotation.anchor
    people = rotation.participants
    k = max(0, (_local(start, zone) - anchor - _SLACK) // length)
    lo = _utc(anchor + k * length, zone)
    out = []
    while lo < end:
        # max(): keeps boundaries in order even if a turn shorter than a DST gap collapses to nothing.
        hi = max(_utc(anchor + (k + 1) * length, zone), lo)
        if hi > start and hi > lo:
            out.append((max(lo, start), min(hi, end), people[k % len(people)]))
        lo = hi
        k += 1
    return out


def _window_span(day: date, window: Window, zone: tzinfo) -> tuple[datetime, datetime]:
    end_day = day if window.end > window.start else day + _DAY
    return _utc(datetime.combine(day, window.start), zone), _utc(datetime.combine(end_day, window.end), zone)


def _windows(
    restriction: Restriction, zone: tzinfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The union of the restriction windows clipped to [start, end), sorted, in UTC."""
    spans = []
    day, last = start.astimezone(zone).date() - _DAY, end.astimezone(zone).date()
    while day <= last:
        weekday = day.weekday()
        for window in restriction.windows:
            if weekday in window.days:
                lo, hi = _window_span(day, window, zone)
                if hi > start and lo < end and hi > lo:
                    spans.append((max(lo, start), min(hi, end)))
        day += _DAY
    return _union(spans)


def _union(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[list[datetime]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _coverage(layer: Layer, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    turns = _turns(layer.rotation, start, end)
    if not layer.restrictions.windows:
        return turns
    windows = _windows(layer.restrictions, layer.rotation.zone, start, end)
    out, i, j = [], 0, 0
    while i < len(turns) and j < len(windows):
        t_lo, t_hi, person = turns[i]
        w_lo, w_hi = windows[j]
        lo, hi = max(t_lo, w_lo), min(t_hi, w_hi)
        if lo < hi:
            out.append((lo, hi, person))
        if t_hi <= w_hi:
            i += 1
        else:
            j += 1
    return out


def layer_coverage(layer: Layer, start: datetime, end: datetime) -> list[Shift]:
    """What one layer alone says for [start, end): its turns cut to its restrictions, in UTC."""
    start, end = _interval(start, end)
    if end <= start:
        return []
    return [Shift(lo, hi, person, layer.name) for lo, hi, person in _coverage(layer, start, end)]


def _layer_person_at(layer: Layer, instant: datetime) -> str | None:
    rotation = layer.rotation
    zone, length, anchor = rotation.zone, rotation.turn.wall, rotation.anchor
    if instant < _utc(anchor, zone):
        return None
    if layer.restrictions.windows and not _in_windows(layer.restrictions, zone, instant):
        return None
    # Only the turn containing the instant: estimate from wall-clock time, then correct across a DST change.
    k = max(0, (_local(instant, zone) - anchor) // length)
    while k > 0 and _utc(anchor + k * length, zone) > instant:
        k -= 1
    while _utc(anchor + (k + 1) * length, zone) <= instant:
        k += 1
    return rotation.participants[k % len(rotation.participants)]


def _in_windows(restriction: Restriction, zone: tzinfo, instant: datetime) -> bool:
    today = instant.astimezone(zone).date()
    for day in (today - _DAY, today):  # a window is at most a day long, so it began yesterday or today
        weekday = day.weekday()
        for window in restriction.windows:
            if weekday in window.days:
                lo, hi = _window_span(day, window, zone)
                if lo <= instant < hi:
                    return True
    return False


# --- the whole schedule ---------------------------------------------------------------------------------------


def final_schedule(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call over [start, end): UTC shifts in order, never overlapping, adjacent shifts of the same
    person and source merged. Time nobody covers is simply absent (see `gaps`)."""
    start, end = _interval(start, end)
    if end <= start:
        return []
    segments = []  # (start, end, priority, person, source)
    for priority, layer in enumerate(schedule.layers):
        segments.extend(
            (lo, hi, priority, person, layer.name) for lo, hi, person in _coverage(layer, start, end)
        )
    base = len(schedule.layers)
    for i, override in enumerate(schedule.overrides):
        lo, hi = max(override.start.astimezone(UTC), start), min(override.end.astimezone(UTC), end)
        if lo < hi:
            segments.append((lo, hi, base + i, override.person, OVERRIDE))
    return _flatten(segments)


def _flatten(segments: list[tuple[datetime, datetime, int, str, str]]) -> list[Shift]:
    """Sweep the boundaries; at each one the highest-priority segment still open wins."""
    if not segments:
        return []
    segments.sort(key=lambda segment: segment[0])
    points = sorted({moment for segment in segments for moment in segment[:2]})
    heap: list[tuple[int, datetime, str, str]] = []
    out: list[list] = []
    i = 0
    for here, following in itertools.pairwise(points):
        while i < len(segments) and segments[i][0] <= here:
            _, hi, priority, person, source = segments[i]
            heapq.heappush(heap, (-priority, hi, person, source))
            i += 1
        while heap and heap[0][1] <= here:  # expired entries leave lazily, once they reach the top
            heapq.heappop(heap)
        if not heap:
            continue
        _, _, person, source = heap[0]
        last = out[-1] if out else None
        if last and last[1] == here and last[2] == person and last[3] == source:
            last[1] = following
        else:
            out.append([here, following, person, source])
    return [Shift(lo, hi, person, source) for lo, hi, person, source in out]


def cover_at(schedule: Schedule, instant: datetime) -> tuple[str, str] | None:
    """(person, source) on call at `instant`, the source a layer's name or "override"; None in a gap. Computes
    only the turn that contains the instant in each layer."""
    _require_aware(instant)
    instant = instant.astimezone(UTC)
    for override in reversed(schedule.overrides):
        if override.start <= instant < override.end:
            return override.person, OVERRIDE
    for layer in reversed(schedule.layers):
        person = _layer_person_at(layer, instant)
        if person is not None:
            return person, layer.name
    return None


def on_call_at(schedule: Schedule, instant: datetime) -> str | None:
    """Who is on call at `instant`, computing only the turn that contains it in each layer."""
    cover = cover_at(schedule, instant)
    return cover[0] if cover else None


def _layer_boundaries(layer: Layer, lo: datetime, hi: datetime) -> set[datetime]:
    """Every instant in (lo, hi] at which what `layer` says may change: its turn changes and the edges of its
    restriction windows (a superset is fine: the caller asks who is on call at each)."""
    rotation = layer.rotation
    zone, length, anchor = rotation.zone, rotation.turn.wall, rotation.anchor
    out = set()
    k = max(0, (_local(lo, zone) - anchor - _SLACK) // length)
    while (moment := _utc(anchor + k * length, zone)) <= hi:
        if moment > lo:
            out.add(moment)
        k += 1
    if layer.restrictions.windows:
        day, last = lo.astimezone(zone).date() - _DAY, hi.astimezone(zone).date()
        while day <= last:
            for window in layer.restrictions.windows:
                if day.weekday() in window.days:
                    out.update(edge for edge in _window_span(day, window, zone) if lo < edge <= hi)
            day += _DAY
    return out


def next_handoff(
    schedule: Schedule, instant: datetime, *, within: timedelta = timedelta(days=35)
) -> Handoff | None:
    """The first moment after `instant` (and within `within`) at which the person on call changes; a change to or
    from nobody (a coverage gap) counts. None if nothing changes in that time.

    Read from the layers and overrides directly, without building the final schedule: only the instants where
    some layer or override may change are visited, in order, a day's worth first and then doubling, so a
    schedule that hands off within hours costs a handful of `on_call_at` lookups however long `within` is."""
    _require_aware(instant)
    instant = instant.astimezone(UTC)
    horizon = instant + within
    who = on_call_at(schedule, instant)
    lo, step = instant, _DAY
    while lo < horizon:
        hi = min(lo + step, horizon)
        candidates = set()
        for layer in schedule.layers:
            candidates |= _layer_boundaries(layer, lo, hi)
        for override in schedule.overrides:
            candidates.update(edge for edge in (override.start, override.end) if lo < edge <= hi)
        for moment in sorted(candidates):
            if moment >= horizon:  # the horizon itself is outside [instant, instant + within)
                break
            person = on_call_at(schedule, moment)
            if person != who:
                return Handoff(moment, who, person)
        lo, step = hi, step * 2
    return None


# Gaps are worked out in naive UTC: `naive - zone.utcoffset(naive)` is what `_utc` computes (fold=0 included) at a
# fraction of the cost of building aware datetimes, and the board asks for 30 days of gaps on every row.


def _naive_utc(instant: datetime) -> datetime:
    return _EPOCH_NAIVE + (instant - _EPOCH)


def _aware_utc(naive: datetime) -> datetime:
    return _EPOCH + (naive - _EPOCH_NAIVE)


def _window_edges(restriction: Restriction) -> list[tuple[frozenset[int], timedelta, timedelta]]:
    """Each window as (weekdays, start, end) measured from its day's local midnight; an end at or before the start
    falls on the next day, so an end equal to the start makes the whole 24 hours."""
    out = []
    for window in restriction.windows:
        lo = timedelta(hours=window.start.hour, minutes=window.start.minute, seconds=window.start.second)
        lo += timedelta(microseconds=window.start.microsecond)
        hi = timedelta(hours=window.end.hour, minutes=window.end.minute, seconds=window.end.second)
        hi += timedelta(microseconds=window.end.microsecond)
        out.append((window.days, lo, hi if window.end > window.start else hi + _DAY))
    return out


def _covered_naive(layer: Layer, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The stretches of [start, end) (naive UTC) that `layer` covers, whoever holds them: turns follow one another
    without a break from the rotation's first turn, so only that beginning and the restriction windows matter.
    Not merged: the caller takes the union of every layer at once."""
    zone, anchor = layer.rotation.zone, layer.rotation.anchor
    begins = max(start, anchor - zone.utcoffset(anchor))
    if begins >= end:
        return []
    if not layer.restrictions.windows:
        return [(begins, end)]
    edges = _window_edges(layer.restrictions)
    spans = []
    # From the day before (a window may run past midnight) to the day `end` falls on, in the layer's zone.
    midnight = datetime.combine(_aware_utc(begins).astimezone(zone).date() - _DAY, time())
    last = datetime.combine(_aware_utc(end).astimezone(zone).date(), time())
    while midnight <= last:
        weekday = midnight.weekday()
        for days, since, until in edges:
            if weekday in days:
                lo, hi = midnight + since, midnight + until
                lo, hi = lo - zone.utcoffset(lo), hi - zone.utcoffset(hi)
                if hi > begins and lo < end and hi > lo:
                    spans.append((max(lo, begins), min(hi, end)))
        midnight += _DAY
    return spans


def gaps(schedule: Schedule, start: datetime, end: datetime) -> list[Gap]:
    """Stretches of [start, end) that no layer and no override covers: the complement of what they cover
    together, which needs neither the turns nor who wins where they overlap. Walks only the edges of each layer's
    first turn and restriction windows and of the overrides."""
    start, end = _interval(start, end)
    lo_bound, hi_bound = _naive_utc(start), _naive_utc(end)
    spans = [span for layer in schedule.layers for span in _covered_naive(layer, lo_bound, hi_bound)]
    for override in schedule.overrides:
        lo, hi = max(_naive_utc(override.start), lo_bound), min(_naive_utc(override.end), hi_bound)
        if lo < hi:
            spans.append((lo, hi))
    out, cursor = [], lo_bound
    for lo, hi in sorted(spans):
        if lo > cursor:
            out.append((cursor, lo))
        if hi > cursor:
            cursor = hi
    if cursor < hi_bound:
        out.append((cursor, hi_bound))
    return [Gap(_aware_utc(lo), _aware_utc(hi)) for lo, hi in out]


def overlaps(schedule: Schedule, start: datetime, end: datetime) -> list[Overlap]:
    """Where two or more layers cover the same time (informative: the later layer wins there)."""
    start, end = _interval(start, end)
    if end <= start:
        return []
    events = []  # (moment, +1/-1, layer index); ends sort before starts at the same moment
    for index, layer in enumerate(schedule.layers):
        for lo, hi in _union((lo, hi) for lo, hi, _ in _coverage(layer, start, end)):
            events.append((lo, 1, index))
            events.append((hi, -1, index))
    events.sort()
    active: set[int] = set()
    out: list[list] = []
    for n, (moment, step, index) in enumerate(events):
        if step > 0:
            active.add(index)
        else:
            active.discard(index)
        following = events[n + 1][0] if n + 1 < len(events) else moment
        if len(active) < 2 or following <= moment:
            continue
        names = tuple(schedule.layers[i].name for i in sorted(active))
        if out and out[-1][1] == moment and out[-1][2] == names:
            out[-1][1] = following
        else:
            out.append([moment, following, names])
    return [Overlap(lo, hi, names) for lo, hi, names in out]


def fairness(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    *,
    night_hours: tuple[int, int] = (22, 7),
    zone_of_person: dict[str, str] | None = None,
    region_of_person: dict[str, str] | None = None,
) -> Fairness:
    """Load over [start, end) per person: hours on call, hours at night and at the weekend, both in the person's
    own zone (UTC if unknown); and hours per region when a person -> region map is given."""
    zone_of_person = zone_of_person or {}
    totals: dict[str, list[float]] = {}
    regions: dict[str, float] = {}
    night = Window(frozenset(range(7)), time(night_hours[0]), time(night_hours[1]))
    for shift in final_schedule(schedule, start, end):
        zone = ZoneInfo(zone_of_person[shift.person]) if shift.person in zone_of_person else UTC
        row = totals.setdefault(shift.person, [0.0, 0.0, 0.0])
        row[0] += shift.hours
        day, last = shift.start.astimezone(zone).date() - _DAY, shift.end.astimezone(zone).date()
        while day <= last:
            if night.start != night.end:
                row[1] += _hours_within(shift, *_window_span(day, night, zone))
            if day.weekday() in WEEKEND:
                row[2] += _hours_within(
                    shift,
                    _utc(datetime.combine(day, time()), zone),
                    _utc(datetime.combine(day + _DAY, time()), zone),
                )
            day += _DAY
        if region_of_person and shift.person in region_of_person:
            region = region_of_person[shift.person]
            regions[region] = regions.get(region, 0.0) + shift.hours
    people = {person: PersonLoad(*row) for person, row in sorted(totals.items())}
    return Fairness(people, dict(sorted(regions.items())))


def _hours_within(shift: Shift, lo: datetime, hi: datetime) -> float:
    seconds = (min(shift.end, hi) - max(shift.start, lo)).total_seconds()
    return seconds / 3600 if seconds > 0 else 0.0


def secondary_at(schedule: Schedule, instant: datetime) -> str | None:
    """The secondary at `instant`: the person the next layer down says, skipping layers that name the
    primary (an override's person is primary; every layer then counts, top first)."""
    _require_aware(instant)
    instant = instant.astimezone(UTC)
    primary = on_call_at(schedule, instant)
    for layer in reversed(schedule.layers):
        person = _layer_person_at(layer, instant)
        if person is not None and person != primary:
            return person
    return None
