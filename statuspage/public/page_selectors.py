"""Reads for the public HTML pages: components with uptime, maintenance, recent and monthly history.

Everything here reads public fields only; incident content comes from public updates.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, F, Func, OuterRef, Prefetch, Subquery
from django.utils import timezone

from opsportal.changes.lifecycle import ACTIVE as MAINTENANCE_ACTIVE
from opsportal.changes.lifecycle import FINISHED as MAINTENANCE_FINISHED
from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from opsportal.incidents.selectors import public_active_incidents, public_incidents
from statuspage.indicator import incident_impact, overall_indicator
from statuspage.models import Component, ComponentStatus, ComponentStatusChange
from statuspage.uptime import (
    STATUS_RANK,
    DayUptime,
    FinishedDays,
    day_bounds,
    days_before_today,
    today_uptime,
    uptime_with_today,
)

UPTIME_DAYS = 90


def epoch_microseconds(expression) -> Func:
    """A timestamptz as whole microseconds since the Unix epoch (PostgreSQL)."""
    return Func(
        expression,
        template="(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint",
        output_field=BigIntegerField(),
    )


RECENT_DAYS = 14


@dataclass
class ComponentRow:
    component: Component
    finished: FinishedDays  # the days before today, kept between renders
    today: DayUptime
    uptime: float | None

    @property
    def bars(self) -> list[DayUptime]:
        """The 90 days, oldest first, today last."""
        return [*self.finished.bars, self.today]


@dataclass
class GroupRow:
    name: str
    description: str
    rows: list[ComponentRow] = field(default_factory=list)

    @property
    def worst_status(self) -> str:
        return max(
            (r.component.status for r in self.rows), key=STATUS_RANK.__getitem__, default="operational"
        )


def page_time_zone() -> str:
    return getattr(settings, "STATUSPAGE_TIME_ZONE", "Etc/UTC")


def components_with_uptime(*, now: datetime | None = None) -> list[GroupRow]:
    """Showcase components by group, each with 90 daily uptime bars. Two queries, whatever the count."""
    now = now or timezone.now()
    window_start = now - timedelta(days=UPTIME_DAYS + 1)
    before = ComponentStatusChange.objects.filter(component=OuterRef("pk"), at__lt=window_start).order_by(
        "-at", "-id"
    )
    components = list(
        Component.objects.filter(showcase=True)
        .select_related("group")
        .annotate(initial_status=Subquery(before.values("status")[:1]))
        .order_by("group__position", "group__name", "position", "name")
    )
    changes: dict[int, list[tuple[datetime | int, str]]] = defaultdict(list)
    in_window = ComponentStatusChange.objects.filter(component__in=components, at__gte=window_start)
    tz = page_time_zone()
    today_start: datetime | int = day_bounds(now.astimezone(ZoneInfo(tz)).date(), 1, tz)[0]
    if connection.vendor == "postgresql":
        # Thousands of rows at 200 components: psycopg builds each timestamptz in Python (~20 µs each),
        # so the database hands over whole microseconds since the epoch instead, which uptime maths takes.
        in_window = in_window.annotate(at_us=epoch_microseconds(F("at"))).values_list(
            "component_id", "at_us", "status"
        )
        today_start = (today_start - _EPOCH) // _MICROSECOND
    else:
        in_window = in_window.values_list("component_id", "at", "status")
    for component_id, at, status in in_window.order_by("component_id", "at", "id"):
        changes[component_id].append((at, status))
    _forget_finished_days_of_other_days((now.astimezone(ZoneInfo(tz)).date(), tz))
    groups: dict[int | None, GroupRow] = {}
    for component in components:
        history = changes[component.pk]
        # Only today changes from one render to the next: the days before it come from what this process
        # computed already, found again by the very changes they were computed from (so an edit of past
        # history, or a change that leaves the window, is a different key and is computed afresh).
        split = bisect_left(history, today_start, key=_instant)
        past = (component.initial_status, component.start_date, tuple(history[:split]))
        finished = _finished_days.get((component.pk, past))
        if finished is None:
            start = [(window_start, component.initial_status)] if component.initial_status else []
            finished = days_before_today(
                [*start, *history[:split]],
                now=now,
                days=UPTIME_DAYS,
                tz=tz,
                start_date=component.start_date,
            )
            if len(_finished_days) >= FINISHED_DAYS_REMEMBERED:
                _finished_days.clear()
            _finished_days[(component.pk, past)] = finished
        # Today starts in the status the last change before it set.
        if split:
            so_far = history[split - 1 :]
        elif component.initial_status:
            so_far = [(window_start, component.initial_status), *history]
        else:
            so_far = history
        today = today_uptime(so_far, now=now, tz=tz, start_date=component.start_date)
        row = ComponentRow(
            component=component, finished=finished, today=today, uptime=uptime_with_today(finished, today)
        )
        key = component.group_id
        if key not in groups:
            group = component.group
            groups[key] = GroupRow(
                name=group.name if group else "", description=group.description if group else ""
            )
        groups[key].rows.append(row)
    return [g for g in groups.values() if any(_visible(r.component) for r in g.rows)]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Per process: each showcase component's finished days for the current day and zone (bounded; cleared when
# the day turns or when full, as many as a few pages of components' edits).
_finished_days: dict[tuple, FinishedDays] = {}
_finished_days_for: list[tuple[date, str]] = []
FINISHED_DAYS_REMEMBERED = 2_000


def _forget_finished_days_of_other_days(day_and_zone: tuple[date, str]) -> None:
    if _finished_days_for != [day_and_zone]:
        _finished_days.clear()
        _finished_days_for[:] = [day_and_zone]


def _instant(change: tuple[datetime | int, str]) -> datetime | int:
    return change[0]


def _visible(component: Component) -> bool:
    return not component.only_show_if_degraded or component.status != ComponentStatus.OPERATIONAL


def maintenance_with_updates():
    return MaintenanceWindow.objects.prefetch_related(
        "components", Prefetch("updates", queryset=MaintenanceUpdate.objects.order_by("-created_at", "-id"))
    )


def active_maintenance():
    return maintenance_with_updates().filter(status__in=[s.value for s in MAINTENANCE_ACTIVE])


def upcoming_maintenance():
    return maintenance_with_updates().filter(status=MaintenanceStatus.SCHEDULED).order_by("scheduled_for")


def page_indicator(components: list[Component] | None = None) -> tuple[str, str]:
    statuses = [
        c.status for c in (components if components is not None else Component.objects.filter(showcase=True))
    ]
    impacts = [
        incident_impact(severity) for severity in public_active_incidents().values_list("severity", flat=True)
    ]
    return overall_indicator(
        component_statuses=statuses,
        incident_impacts=impacts,
        maintenance_in_progress=active_maintenance().exists(),
    )


def _day_start(day: date) -> datetime:
    """Midnight of `day` in the current time zone: `started_at >= _day_start(d)` is `started_at__date >= d`."""
    return timezone.make_aware(datetime.combine(day, time.min))


def recent_days(*, now: datetime | None = None, days: int = RECENT_DAYS) -> list[tuple[date, list]]:
    """The past `days` days, newest first, each with the headlines (id, public title, status) of the public
    incidents that started that day."""
    now = now or timezone.now()
    first = (now - timedelta(days=days - 1)).date()
    by_day: dict[date, list] = defaultdict(list)
    # The list shows a link, a title and a status only: no updates or components to prefetch (with two
    # years of history that is hundreds of incidents, and loading their updates was half the page's time).
    headlines = (
        public_incidents()
        .filter(started_at__gte=_day_start(first))
        .prefetch_related(None)
        .only("id", "public_title", "status", "started_at")
    )
    for incident in headlines:
        by_day[incident.started_at.date()].append(incident)
    return [
        (first + timedelta(days=n), by_day.get(first + timedelta(days=n), [])) for n in reversed(range(days))
    ]


def history_months(*, months: int = 3, before: date | None = None) -> list[tuple[date, list, list]]:
    """Month by month (newest first): public incidents and completed or cancelled maintenance."""
    anchor = (before or timezone.now().date()).replace(day=1)
    starts = []
    for _ in range(months):
        starts.append(anchor)
        anchor = (anchor - timedelta(days=1)).replace(day=1)
    oldest = starts[-1]
    # Ranges on the indexed columns (not __date, which no index serves), closed above at the end of the
    # newest month shown: the rows are bucketed below by their UTC date, so nothing later is ever listed.
    since = _day_start(oldest)
    until = datetime.combine((starts[0] + timedelta(days=32)).replace(day=1), time.min, tzinfo=UTC)
    # The history lists a line per incident (title, status, start): its updates and components, a few
    # thousand rows over three months, are not fetched.
    incidents = list(
        public_incidents()
        .filter(started_at__gte=since, started_at__lt=until)
        .prefetch_related(None)
        .only("id", "public_title", "status", "started_at")
    )
    windows = list(
        maintenance_with_updates().filter(
            scheduled_for__gte=since, scheduled_for__lt=until, status__in=MAINTENANCE_FINISHED
        )
    )
    result = []
    for month in starts:
        next_month = (month + timedelta(days=32)).replace(day=1)
        result.append(
            (
                month,
                [i for i in incidents if month <= i.started_at.date() < next_month],
                [w for w in windows if month <= w.scheduled_for.date() < next_month],
            )
        )
    return result
