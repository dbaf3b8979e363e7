"""On-call pages: the "now" board across regions, one schedule's week/month timeline with its fairness table,
and the forms for overrides, swaps and layers. Thin: the pure engine (oncall.rotation) answers every schedule
question, forms check shape, the on-call services decide, selectors read. The board shows times in the viewer's
own zone and each region's clock in that region's zone; a schedule's timeline is drawn in UTC days."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from oncall import rotation, selectors, services
from oncall.models import Region, Schedule
from opsportal.core.bounds import date_param
from opsportal.core.forms import form_apply
from opsportal.core.roles import RESPOND
from opsportal.portal import oncall_forms as f
from opsportal.portal.access import staff_required

GAP_HORIZON = timedelta(days=30)
# Schedules per page of the now board: each row answers who, the next handoff and 30 days of gaps.
BOARD_PAGE_SIZE = 40
DAY = timedelta(days=1)


# --- the now board --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleNow:
    """One schedule as the board shows it: who holds it now and from which region, and who takes it next."""

    schedule: Schedule
    on_call: str | None
    region: Region | None  # the on-call person's region in the schedule's team
    override: bool  # on call through an override rather than the rotation
    handoff: rotation.Handoff | None
    handoff_region: Region | None
    gaps: list[rotation.Gap]


@dataclass(frozen=True)
class RegionNow:
    region: Region
    local_now: datetime
    business_hours: bool
    holds: list[ScheduleNow]  # schedules whose on-call person is in this region now


def _schedule_now(
    schedule: Schedule, engine: rotation.Schedule, now: datetime, region_of: dict[tuple[int, str], Region]
) -> ScheduleNow:
    # Who holds it, who takes it next and the gaps all come from the layers and overrides directly (their edges),
    # never from a stretch of final schedule.
    cover = rotation.cover_at(engine, now)
    on_call = cover[0] if cover else None
    handoff = rotation.next_handoff(engine, now)
    return ScheduleNow(
        schedule=schedule,
        on_call=on_call,
        region=region_of.get((schedule.team_id, on_call)) if on_call else None,
        override=cover is not None and cover[1] == rotation.OVERRIDE,
        handoff=handoff,
        handoff_region=region_of.get((schedule.team_id, handoff.to_person))
        if handoff and handoff.to_person
        else None,
        gaps=rotation.gaps(engine, now, now + GAP_HORIZON),
    )


def _in_business_hours(region: Region, local_now: datetime) -> bool:
    return local_now.weekday() < 5 and region.business_day_start <= local_now.time() < region.business_day_end


@staff_required()
def oncall_board(request):
    """Who is on call now, a page of schedules at a time grouped by team (filter by team or name); which region
    holds each schedule; the next handoff. Times in the viewer's own zone (their staff profile), each region's
    clock in its own zone. The filter and the pager swap in the results alone with htmx."""
    now = timezone.now()
    form = f.BoardFilterForm(request.GET or None)
    schedules = selectors.board_schedules(**form.filters())
    page = Paginator(schedules, BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    all_regions = list(selectors.regions())
    region_of = selectors.regions_of_team_members(
        {schedule.team_id for schedule in page}, regions=all_regions
    )
    rows, broken = selectors.each_listed_schedule(
        page,
        lambda schedule, engine: _schedule_now(schedule, engine, now, region_of),
        overrides_ending_after=now,
    )
    teams: dict[int, dict] = {}
    for row in rows:  # already in team order
        teams.setdefault(row.schedule.team_id, {"team": row.schedule.team, "rows": []})["rows"].append(row)
    regions = []
    for region in all_regions:
        local_now = now.astimezone(ZoneInfo(region.time_zone))
        holds = [row for row in rows if row.region is not None and row.region.pk == region.pk]
        regions.append(RegionNow(region, local_now, _in_business_hours(region, local_now), holds))
    viewer_zone = selectors.time_zones_of([request.user.get_username()]).get(
        request.user.get_username(), "UTC"
    )
    query = request.GET.copy()
    query.pop("page", None)
    partial = request.htmx and not request.htmx.boosted
    # The filter's team list, for the whole page only (the htmx results leave the form in place).
    team_choices = [] if partial else selectors.team_choices()
    return render(
        request,
        "portal/oncall/_board_results.html" if partial else "portal/oncall/board.html",
        {
            "now": now,
            "viewer_zone": viewer_zone,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "regions": regions,
            "teams": list(teams.values()),
            "horizon_days": GAP_HORIZON.days,
            "broken": broken,
            "team_choices": team_choices,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# --- one schedule: timeline, fairness, forms --------------------------------------------------------------


def _period(request) -> tuple[str, date, date]:
    """(view, first day, day after the last) from ?view=week|month&start=YYYY-MM-DD, in UTC days."""
    view = "month" if request.GET.get("view") == "month" else "week"
    try:
        anchor = date_param(request.GET.get("start"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    anchor = anchor or timezone.now().astimezone(UTC).date()
    if view == "month":
        first = anchor.replace(day=1)
        return view, first, first + timedelta(days=calendar.monthrange(first.year, first.month)[1])
    first = anchor - timedelta(days=anchor.weekday())
    return view, first, first + timedelta(days=7)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _bars(spans: list[rotation.Shift], day: date) -> list[dict]:
    """The parts of `spans` within one UTC day, as percentages of the day for the SVG bars."""
    lo, hi = _midnight(day), _midnight(day + DAY)
    out = []
    for span in spans:
        start, end = max(span.start, lo), min(span.end, hi)
        if end <= start:
            continue
        out.append(
            {
                "left": round((start - lo) / DAY * 100, 3),
                "width": round((end - start) / DAY * 100, 3),
                "person": span.person,
                "start": start,
                "end": end,
                "source": span.source,
            }
        )
    return out


def _timeline(schedule: Schedule, engine: rotation.Schedule, first: date, last: date) -> list[dict]:
    lo, hi = _midnight(first), _midnight(last)
    tracks = [
        (f"Layer: {layer.name}", rotation.layer_coverage(layer, lo, hi), "layer") for layer in engine.layers
    ]
    overrides = [
        rotation.Shift(o.start, o.end, o.user.username, "override")
        for o in schedule.overrides.all()
        if o.end > lo and o.start < hi
    ]
    tracks.append(("Overrides", overrides, "override"))
    tracks.append(("Final", rotation.final_schedule(engine, lo, hi), "final"))
    days = []
    day = first
    while day < last:
        rows = [{"label": label, "kind": kind, "bars": _bars(spans, day)} for label, spans, kind in tracks]
        days.append({"day": day, "rows": rows})
        day += DAY
    return days


def _fairness(engine: rotation.Schedule, first: date, last: date) -> rotation.Fairness:
    people = {name for layer in engine.layers for name in layer.rotation.participants}
    people |= {override.person for override in engine.overrides}
    # Night and weekend hours count in each person's own zone.
    zones = selectors.time_zones_of(people)
    return rotation.fairness(engine, _midnight(first), _midnight(last), zone_of_person=zones)


def _detail_context(request, slug: str, **forms) -> dict:
    schedule = selectors.schedule_detail(slug)
    view, first, last = _period(request)
    # A schedule whose rows the engine cannot read still shows its layers and forms (to fix it), with the problem.
    answers, broken = selectors.each_schedule(
        [schedule],
        lambda _, engine: (_timeline(schedule, engine, first, last), _fairness(engine, first, last)),
    )
    days, fairness = answers[0] if answers else ([], None)
    previous = first - timedelta(days=7) if view == "week" else (first - DAY).replace(day=1)
    swaps = list(selectors.pending_swaps_of(schedule))
    context = {
        "schedule": schedule,
        "layers": sorted(schedule.layers.all(), key=lambda layer: layer.position),
        "view": view,
        "first": first,
        "last": last - DAY,
        "previous": previous,
        "following": last,
        "days": days,
        "fairness": fairness,
        "broken": broken,
        "ical_url": request.build_absolute_uri(
            reverse("oncall_schedule_ics", kwargs={"slug": schedule.slug, "token": schedule.ical_token})
        ),
        "swaps": swaps,
        "may_act": request.user.has_perm(RESPOND),
        "override_form": f.OverrideForm(),
        "swap_form": f.SwapForm(),
        "layer_form": f.LayerForm(),
    }
    context.update(forms)
    return context


@staff_required()
def schedule_detail(request, slug: str):
    return render(request, "portal/oncall/detail.html", _detail_context(request, slug))


def _act(request, slug: str, *, form_name: str, form, apply: Callable[[Schedule, dict], str]):
    """Run one action: 400 with form errors for bad shape or meaning, 409 for a conflict (PermissionDenied goes
    on to the 403 page); on success back to the schedule's page."""
    schedule = selectors.schedule_or_404(slug)
    done, status = form_apply(form, lambda data: apply(schedule, data))
    if status == 200:
        messages.success(request, done)
        return redirect("portal:oncall_schedule", slug=slug)
    return render(
        request,
        "portal/oncall/detail.html",
        _detail_context(request, slug, **{form_name: form}),
        status=status,
    )


@require_POST
@staff_required(RESPOND)
def override_new(request, slug: str):
    def apply(schedule, data):
        services.override_create(
            actor=request.user,
            schedule=schedule,
            user=data["user"],
            start=data["start"],
            end=data["end"],
            reason=data["reason"],
        )
        return f"{data['user'].username} covers the schedule then."

    form = f.OverrideForm(request.POST)
    return _act(request, slug, form_name="override_form", form=form, apply=apply)


@require_POST
@staff_required(RESPOND)
def swap_new(request, slug: str):
    def apply(schedule, data):
        services.swap_propose(
            actor=request.user,
            schedule=schedule,
            counterpart=data["counterpart"],
            start=data["start"],
            end=data["end"],
            reason=data["reason"],
        )
        return f"Swap proposed to {data['counterpart'].username}."

    form = f.SwapForm(request.POST)
    return _act(request, slug, form_name="swap_form", form=form, apply=apply)


SWAP_DECISIONS = {
    "accept": (services.swap_accept, "Swap accepted: you cover that shift."),
    "decline": (services.swap_decline, "Swap declined."),
    "cancel": (services.swap_cancel, "Swap cancelled."),
}


@require_POST
@staff_required(RESPOND)
def swap_decide(request, slug: str, swap_id: int):
    swap = selectors.swap_or_404(swap_id)
    form = f.SwapDecisionForm(request.POST)

    def apply(schedule, data):
        if swap.schedule_id != schedule.pk:
            raise ValidationError("That swap belongs to another schedule.")
        decide, done = SWAP_DECISIONS[data["decision"]]
        decide(actor=request.user, swap=swap)
        return done

    # A refused decision (a 409: already decided) shows above the swaps list.
    return _act(request, slug, form_name="decision_form", form=form, apply=apply)


@require_POST
@staff_required(RESPOND)
def layer_new(request, slug: str):
    def apply(schedule, data):
        layer = services.layer_create(
            actor=request.user,
            schedule=schedule,
            name=data["name"],
            position=data["position"],
            participants=data["participants"],
            turn_count=data["turn_count"],
            turn_unit=data["turn_unit"],
            handoff_time=data["handoff_time"],
            start=data["start"],
            time_zone=data["time_zone"],
            restrictions=data["restrictions"],
        )
        return f"Layer {layer.name} added."

    form = f.LayerForm(request.POST)
    return _act(request, slug, form_name="layer_form", form=form, apply=apply)
