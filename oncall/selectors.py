"""On-call reads, and the one place schedule rows become the pure engine's `rotation.Schedule`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import TypeVar

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from oncall import rotation
from oncall.lifecycle import PROPOSED
from oncall.models import (
    LayerParticipant,
    PersonalFeed,
    Region,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    ShiftSwap,
    Team,
    TeamMembership,
)
from opsportal.core.models import StaffProfile

logger = logging.getLogger(__name__)
T = TypeVar("T")

# What the engine raises for rows it cannot read: an unknown zone (a LookupError), an impossible turn or a broken
# restriction (ValueError), date sums past year 9999 (OverflowError, an ArithmeticError).
ENGINE_ERRORS = (ValueError, ArithmeticError, LookupError, TypeError)


@dataclass(frozen=True)
class BrokenSchedule:
    """A schedule the engine could not evaluate, and why (shown to staff, logged for whoever fixes it)."""

    slug: str
    name: str
    problem: str


def each_schedule(
    schedules: Iterable[Schedule], question: Callable[[Schedule, rotation.Schedule], T]
) -> tuple[list[T], list[BrokenSchedule]]:
    """`question` answered for every schedule on its own: one whose rows the engine cannot read is logged and
    reported, and every other schedule still gets its answer (a bad layer never blanks the whole board)."""
    answers: list[T] = []
    broken: list[BrokenSchedule] = []
    for schedule in schedules:
        try:
            answers.append(question(schedule, rotation_schedule(schedule)))
        except ENGINE_ERRORS as exc:
            logger.error("On-call schedule %s cannot be evaluated: %s", schedule.slug, exc, exc_info=True)
            broken.append(BrokenSchedule(schedule.slug, schedule.name, str(exc) or type(exc).__name__))
    return answers, broken


def regions() -> QuerySet[Region]:
    return Region.objects.all()


def teams_with_members() -> QuerySet[Team]:
    memberships = TeamMembership.objects.select_related("user", "region").order_by(
        "region__position", "user__username"
    )
    return Team.objects.prefetch_related(Prefetch("memberships", queryset=memberships))


# --- schedules ------------------------------------------------------------------------------------------------


def schedules_for_engine(*, overrides_ending_after: datetime | None = None) -> QuerySet[Schedule]:
    """Schedules with everything `rotation_schedule` needs: four queries however many schedules there are.
    `overrides_ending_after` leaves out overrides that are over by then (they cannot matter later)."""
    # The engine names people by username: loading whole user rows for every place would cost more than the
    # schedule maths on a board of hundreds of schedules.
    places = (
        LayerParticipant.objects.select_related("user")
        .only("layer_id", "position", "user__username")
        .order_by("position")
    )
    layers = ScheduleLayer.objects.order_by("position").prefetch_related(Prefetch("places", queryset=places))
    overrides = (
        ScheduleOverride.objects.select_related("user")
        .only("schedule_id", "start", "end", "user__username")
        .order_by("id")
    )
    if overrides_ending_after is not None:
        overrides = overrides.filter(end__gt=overrides_ending_after)
    return Schedule.objects.select_related("team").prefetch_related(
        Prefetch("layers", queryset=layers), Prefetch("overrides", queryset=overrides)
    )


def schedule_for_engine_or_404(slug: str, **kwargs) -> Schedule:
    return get_object_or_404(schedules_for_engine(**kwargs), slug=slug)


def schedule_or_404(slug: str) -> Schedule:
    return get_object_or_404(Schedule.objects.select_related("team"), slug=slug)


def schedule_by_feed_token(slug: str, token: str) -> Schedule | None:
    return schedules_for_engine().filter(slug=slug, ical_token=token).first()


def restriction_from_json(raw: list[dict]) -> rotation.Restriction:
    """[{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}] -> Restriction; ValueError on a bad window."""
    if not isinstance(raw, list):
        raise ValueError("restrictions are a list of windows")
    windows = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"days", "start", "end"}:
            raise ValueError('each window is {"days": [0..6], "start": "HH:MM", "end": "HH:MM"}')
        days = item["days"]
        if not isinstance(days, list) or not days or not all(isinstance(d, int) for d in days):
            raise ValueError("days is a non-empty list of weekday numbers, 0 (Monday) to 6 (Sunday)")
        try:
            start, end = time.fromisoformat(item["start"]), time.fromisoformat(item["end"])
        except (TypeError, ValueError):
            raise ValueError("start and end are local times as HH:MM") from None
        windows.append(rotation.Window(frozenset(days), start, end))
    return rotation.Restriction(tuple(windows))


def rotation_layer(layer: ScheduleLayer) -> rotation.Layer:
    """A prefetched layer row as an engine layer; people are named by username."""
    people = tuple(place.user.username for place in layer.places.all())
    return rotation.Layer(
        name=layer.name,
        rotation=rotation.Rotation(
            participants=people,
            turn=rotation.TurnLength(layer.turn_count, layer.turn_unit),
            handoff_time=layer.handoff_time,
            start=layer.start,
            time_zone=layer.time_zone,
        ),
        restrictions=restriction_from_json(layer.restrictions),
    )


def rotation_schedule(schedule: Schedule) -> rotation.Schedule:
    """A row from `schedules_for_engine` as the engine's Schedule (no queries): layers by position, so the
    highest position is last and wins; overrides by creation, so the newest wins."""
    layers = sorted(schedule.layers.all(), key=lambda layer: layer.position)
    return rotation.Schedule(
        layers=tuple(rotation_layer(layer) for layer in layers if layer.places.all()),
        overrides=tuple(
            rotation.Override(o.start, o.end, o.user.username)
            for o in sorted(schedule.overrides.all(), key=lambda o: o.pk)
        ),
    )


def schedules_filtered(
    *, schedule: str = "", team: str = "", region: str = "", user: str = "", **kwargs
) -> QuerySet[Schedule]:
    """For "who is on call": a region keeps the schedules of teams with members in it; a user keeps the
    schedules where that person takes turns or holds an override. Subqueries, not joins, so a schedule is listed
    once and a page's count needs no DISTINCT."""
    schedules = schedules_for_engine(**kwargs)
    if schedule:
        schedules = schedules.filter(slug=schedule)
    if team:
        schedules = schedules.filter(team__slug=team)
    if region:
        teams = TeamMembership.objects.filter(region__code__iexact=region).values("team_id")
        schedules = schedules.filter(team_id__in=teams)
    if user:
        takes_turns = LayerParticipant.objects.filter(user__username=user).values("layer__schedule_id")
        covers = ScheduleOverride.objects.filter(user__username=user)
        if kwargs.get("overrides_ending_after") is not None:
            covers = covers.filter(end__gt=kwargs["overrides_ending_after"])
        schedules = schedules.filter(Q(pk__in=takes_turns) | Q(pk__in=covers.values("schedule_id")))
    return schedules.order_by("name", "pk")


def schedule_list() -> QuerySet[Schedule]:
    return Schedule.objects.select_related("team").order_by("name", "pk")


def schedule_detail(slug: str) -> Schedule:
    return schedule_for_engine_or_404(slug)


def layer_with_participants(layer_id: int) -> ScheduleLayer:
    places = LayerParticipant.objects.select_related("user").order_by("position")
    return ScheduleLayer.objects.prefetch_related(Prefetch("places", queryset=places)).get(pk=layer_id)


def layer_of_schedule_or_404(slug: str, layer_id: int) -> ScheduleLayer:
    return get_object_or_404(
        ScheduleLayer.objects.select_related("schedule"), schedule__slug=slug, pk=layer_id
    )


def overrides_of(schedule: Schedule) -> QuerySet[ScheduleOverride]:
    return schedule.overrides.select_related("user", "created_by").order_by("-start", "-id")


def swap_or_404(swap_id: int) -> ShiftSwap:
    return get_object_or_404(
        ShiftSwap.objects.select_related("schedule", "requester", "counterpart"), pk=swap_id
    )


def swaps_of(schedule: Schedule) -> QuerySet[ShiftSwap]:
    return schedule.swaps.select_related("requester", "counterpart")


def personal_feed_by_token(username: str, token: str) -> PersonalFeed | None:
    return PersonalFeed.objects.select_related("user").filter(user__username=username, token=token).first()


def schedules_with_person(user) -> QuerySet[Schedule]:
    """Schedules where `user` takes turns or holds an override."""
    ids = Schedule.objects.filter(Q(layers__places__user=user) | Q(overrides__user=user)).values("pk")
    return schedules_for_engine().filter(pk__in=ids).order_by("name", "pk")


def board_schedules(*, search: str = "", team: str = "", **kwargs) -> QuerySet[Schedule]:
    """The now board's schedules, team by team: `search` finds a schedule by its name or its team's name, `team`
    keeps one team (by slug)."""
    schedules = schedules_for_engine(**kwargs)
    if search:
        schedules = schedules.filter(Q(name__icontains=search) | Q(team__name__icontains=search))
    if team:
        schedules = schedules.filter(team__slug=team)
    return schedules.order_by("team__name", "team_id", "name", "pk")


def regions_of_team_members(team_ids: Iterable[int] | None = None) -> dict[tuple[int, str], Region]:
    """Each member's region by (team id, username): the region that holds a team's schedule while that member
    is on call for it (the now board's "which region holds it"). `team_ids` reads only those teams."""
    memberships = TeamMembership.objects.select_related("user", "region")
    if team_ids is not None:
        memberships = memberships.filter(team_id__in=list(team_ids))
    return {(m.team_id, m.user.username): m.region for m in memberships}


def time_zones_of(usernames) -> dict[str, str]:
    """Each person's own time zone, for night and weekend hours."""
    return dict(
        StaffProfile.objects.filter(user__username__in=usernames).values_list("user__username", "time_zone")
    )


def pending_swaps_of(schedule):
    return swaps_of(schedule).filter(status=PROPOSED)
