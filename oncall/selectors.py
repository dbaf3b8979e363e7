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
    schedules: Iterable[Schedule],
    question: Callable[[Schedule, rotation.Schedule], T],
    *,
    engine_of: Callable[[Schedule], rotation.Schedule] | None = None,
) -> tuple[list[T], list[BrokenSchedule]]:
    """`question` answered for every schedule on its own: one whose rows the engine cannot read is logged and
    reported, and every other schedule still gets its answer (a bad layer never blanks the whole board).
    `engine_of` builds each engine schedule (default: from a row of `schedules_for_engine`)."""
    engine_of = engine_of or rotation_schedule
    answers: list[T] = []
    broken: list[BrokenSchedule] = []
    for schedule in schedules:
        try:
            answers.append(question(schedule, engine_of(schedule)))
        except ENGINE_ERRORS as exc:
            logger.error("On-call schedule %s cannot be evaluated: %s", schedule.slug, exc, exc_info=True)
            broken.append(BrokenSchedule(schedule.slug, schedule.name, str(exc) or type(exc).__name__))
    return answers, broken


def each_listed_schedule(
    schedules: Iterable[Schedule],
    question: Callable[[Schedule, rotation.Schedule], T],
    *,
    overrides_ending_after: datetime | None = None,
) -> tuple[list[T], list[BrokenSchedule]]:
    """`each_schedule` for a page of a list (schedule rows without their layers and overrides): what the engine
    reads for all of them comes in three queries of plain rows. A page of 50 follow-the-sun schedules holds some
    1,500 layers, places, people and overrides; model instances for each cost more than the engine's answers."""
    schedules = list(schedules)
    engines = _engine_rows([schedule.pk for schedule in schedules], overrides_ending_after)
    return each_schedule(schedules, question, engine_of=lambda schedule: engines[schedule.pk]())


def regions() -> QuerySet[Region]:
    return Region.objects.all()


def teams_with_members() -> QuerySet[Team]:
    memberships = TeamMembership.objects.select_related("user", "region").order_by(
        "region__position", "user__username"
    )
    return Team.objects.prefetch_related(Prefetch("memberships", queryset=memberships))


def teams_filtered(*, region: str = "", member: str = "") -> QuerySet[Team]:
    """Teams by name for the API, without their members (see `members_of_teams`, for one page of them): `region`
    keeps teams with members there, `member` the teams that username belongs to. Subqueries, so a team is listed
    once and a page's count needs no DISTINCT."""
    teams = Team.objects.only("id", "name", "slug").order_by("name", "pk")
    if region:
        teams = teams.filter(
            pk__in=TeamMembership.objects.filter(region__code__iexact=region).values("team_id")
        )
    if member:
        teams = teams.filter(pk__in=TeamMembership.objects.filter(user__username=member).values("team_id"))
    return teams


def members_of_teams(team_ids: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """Each team's members as {username, name, region}, by region then username, in one query of plain rows
    (a page of 50 teams holds hundreds of members: model instances for each would cost more than the query)."""
    team_ids = list(team_ids)
    members: dict[int, list[dict[str, str]]] = {team_id: [] for team_id in team_ids}
    rows = (
        TeamMembership.objects.filter(team_id__in=team_ids)
        .order_by("region__position", "region__code", "user__username")
        .values_list("team_id", "user__username", "user__first_name", "user__last_name", "region__code")
    )
    for team_id, username, first_name, last_name, region in rows:
        # The name as User.get_full_name() gives it.
        members[team_id].append(
            {"username": username, "name": f"{first_name} {last_name}".strip(), "region": region}
        )
    return members


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
    return _engine_layer(
        layer.name,
        people,
        layer.turn_count,
        layer.turn_unit,
        layer.handoff_time,
        layer.start,
        layer.time_zone,
        layer.restrictions,
    )


def _engine_layer(name, people, turn_count, turn_unit, handoff_time, start, time_zone, restrictions):
    return rotation.Layer(
        name=name,
        rotation=rotation.Rotation(
            participants=people,
            turn=rotation.TurnLength(turn_count, turn_unit),
            handoff_time=handoff_time,
            start=start,
            time_zone=time_zone,
        ),
        restrictions=restriction_from_json(restrictions),
    )


_LAYER_COLUMNS = ("name", "turn_count", "turn_unit", "handoff_time", "start", "time_zone", "restrictions")


def _engine_rows(
    schedule_ids: list[int], overrides_ending_after: datetime | None
) -> dict[int, Callable[[], rotation.Schedule]]:
    """For each schedule id, how to build its engine schedule from plain rows read here (three queries): layers by
    position, so the highest is last and wins; people by place; overrides by creation, so the newest wins. Built
    when called, so a schedule the engine cannot read fails on its own in `each_schedule`."""
    if not schedule_ids:
        return {}
    layers: dict[int, list[tuple]] = {pk: [] for pk in schedule_ids}
    people: dict[int, list[str]] = {}
    layer_rows = (
        ScheduleLayer.objects.filter(schedule_id__in=schedule_ids)
        .order_by("schedule_id", "position")
        .values_list("id", "schedule_id", *_LAYER_COLUMNS)
    )
    for layer_id, schedule_id, *columns in layer_rows:
        layers[schedule_id].append((layer_id, columns))
        people[layer_id] = []
    places = (
        LayerParticipant.objects.filter(layer_id__in=list(people))
        .order_by("layer_id", "position")
        .values_list("layer_id", "user__username")
    )
    for layer_id, username in places:
        people[layer_id].append(username)
    overrides: dict[int, list[tuple]] = {pk: [] for pk in schedule_ids}
    rows = ScheduleOverride.objects.filter(schedule_id__in=schedule_ids)
    if overrides_ending_after is not None:
        rows = rows.filter(end__gt=overrides_ending_after)
    override_rows = rows.order_by("schedule_id", "id").values_list(
        "schedule_id", "start", "end", "user__username"
    )
    for schedule_id, start, end, username in override_rows:
        overrides[schedule_id].append((start, end, username))

    def engine(schedule_id: int) -> rotation.Schedule:
        return rotation.Schedule(
            layers=tuple(
                _engine_layer(columns[0], tuple(people[layer_id]), *columns[1:])
                for layer_id, columns in layers[schedule_id]
                if people[layer_id]
            ),
            overrides=tuple(rotation.Override(*row) for row in overrides[schedule_id]),
        )

    return {pk: (lambda pk=pk: engine(pk)) for pk in schedule_ids}


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
    *,
    schedule: str = "",
    team: str = "",
    region: str = "",
    user: str = "",
    overrides_ending_after: datetime | None = None,
) -> QuerySet[Schedule]:
    """For "who is on call" (schedule rows with their team; `each_listed_schedule` reads what the engine needs for
    a page of them): a region keeps the schedules of teams with members in it; a user keeps the schedules where
    that person takes turns or holds an override that is not over by `overrides_ending_after`. Subqueries, not
    joins, so a schedule is listed once and a page's count needs no DISTINCT."""
    schedules = Schedule.objects.select_related("team")
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
        if overrides_ending_after is not None:
            covers = covers.filter(end__gt=overrides_ending_after)
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


def board_schedules(*, search: str = "", team: str = "") -> QuerySet[Schedule]:
    """The now board's schedules with their teams, team by team (`each_listed_schedule` reads what the engine needs
    for a page of them): `search` finds a schedule by its name or its team's name, `team` keeps one team (by
    slug)."""
    schedules = Schedule.objects.select_related("team")
    if search:
        schedules = schedules.filter(Q(name__icontains=search) | Q(team__name__icontains=search))
    if team:
        schedules = schedules.filter(team__slug=team)
    return schedules.order_by("team__name", "team_id", "name", "pk")


def team_choices() -> list[tuple[str, str]]:
    """(slug, name) of every team by name, for a filter's list."""
    return list(Team.objects.order_by("name").values_list("slug", "name"))


def regions_of_team_members(
    team_ids: Iterable[int] | None = None, *, regions: Iterable[Region] | None = None
) -> dict[tuple[int, str], Region]:
    """Each member's region by (team id, username): the region that holds a team's schedule while that member
    is on call for it (the now board's "which region holds it"). `team_ids` reads only those teams; `regions`, when
    the caller has them all already, saves reading them again."""
    regions_by_id = {region.pk: region for region in (Region.objects.all() if regions is None else regions)}
    memberships = TeamMembership.objects.all()
    if team_ids is not None:
        memberships = memberships.filter(team_id__in=list(team_ids))
    rows = memberships.values_list("team_id", "user__username", "region_id")
    return {(team_id, username): regions_by_id[region_id] for team_id, username, region_id in rows}


def time_zones_of(usernames) -> dict[str, str]:
    """Each person's own time zone, for night and weekend hours."""
    return dict(
        StaffProfile.objects.filter(user__username__in=usernames).values_list("user__username", "time_zone")
    )


def pending_swaps_of(schedule):
    return swaps_of(schedule).filter(status=PROPOSED)
