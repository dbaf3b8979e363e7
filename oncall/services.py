"""On-call writes: schedules, layers, overrides and shift swaps. Each checks meaning, writes, and audits."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from oncall.lifecycle import ACCEPTED, CANCELLED, DECLINED, swap_can_move
from oncall.models import (
    LayerParticipant,
    PersonalFeed,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    ShiftSwap,
    Team,
    TurnUnit,
)
from oncall.rotation import TurnLength
from oncall.selectors import restriction_from_json
from opsportal.core.bounds import DATE_RANGE_TEXT, date_in_range, instant_in_range
from opsportal.core.exceptions import Conflict
from opsportal.core.roles import RESPOND
from opsportal.core.services import audit_record, require_permission, user_or_none
from opsportal.core.time_zones import is_iana_time_zone

# An override or swap longer than a year is a typo, not a plan.
MAX_COVER = timedelta(days=366)
LAYER_FIELDS = (
    "name",
    "position",
    "turn_count",
    "turn_unit",
    "handoff_time",
    "start",
    "time_zone",
    "restrictions",
)


def _check_zone(field: str, value: str) -> None:
    if not is_iana_time_zone(value):
        raise ValidationError(
            {field: f"{value!r} is not an IANA time zone name (e.g. Europe/Dublin)."}
        ) from None


def _check_span(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError({"start": "Times need a UTC offset."})
    if end <= start:
        raise ValidationError({"end": "It must end after it starts."})
    if not (instant_in_range(start) and instant_in_range(end)):
        raise ValidationError({"start": f"Give times {DATE_RANGE_TEXT}."})
    if end - start > MAX_COVER:
        raise ValidationError({"end": f"Cover at most {MAX_COVER.days} days at once."})


def _layer_snapshot(layer: ScheduleLayer) -> dict:
    return {
        "name": layer.name,
        "position": layer.position,
        "participants": list(layer.places.order_by("position").values_list("user__username", flat=True)),
        "turn_count": layer.turn_count,
        "turn_unit": layer.turn_unit,
        "handoff_time": layer.handoff_time.isoformat(),
        "start": layer.start.isoformat(),
        "time_zone": layer.time_zone,
        "restrictions": layer.restrictions,
    }


def _check_layer(layer: ScheduleLayer, participants: list) -> None:
    if not participants:
        raise ValidationError({"participants": "A rotation needs at least one participant."})
    _check_zone("time_zone", layer.time_zone)
    if layer.turn_unit not in TurnUnit.values:
        raise ValidationError({"turn_unit": f"One of {', '.join(TurnUnit.values)}."})
    if layer.turn_count < 1:
        raise ValidationError({"turn_count": "A turn lasts at least one unit."})
    try:
        TurnLength(layer.turn_count, layer.turn_unit)
    except ValueError as error:
        raise ValidationError({"turn_count": f"{str(error).capitalize()}."}) from None
    if not date_in_range(layer.start):
        raise ValidationError({"start": f"Start the rotation on a date {DATE_RANGE_TEXT}."})
    try:
        restriction_from_json(layer.restrictions)
    except ValueError as error:
        raise ValidationError({"restrictions": str(error)}) from None
    clash = ScheduleLayer.objects.filter(schedule=layer.schedule).exclude(pk=layer.pk)
    if clash.filter(position=layer.position).exists():
        raise ValidationError({"position": "Another layer of this schedule has that position."})
    if clash.filter(name=layer.name).exists():
        raise ValidationError({"name": "Another layer of this schedule has that name."})


def _set_participants(layer: ScheduleLayer, participants: list) -> None:
    layer.places.all().delete()
    LayerParticipant.objects.bulk_create(
        LayerParticipant(layer=layer, user=user, position=n) for n, user in enumerate(participants)
    )


def _on_rota(schedule: Schedule, user) -> bool:
    """A person may be put on a schedule if they take turns in it or belong to its team."""
    return (
        LayerParticipant.objects.filter(layer__schedule=schedule, user=user).exists()
        or schedule.team.memberships.filter(user=user).exists()
    )


@transaction.atomic
def schedule_create(*, actor, name: str, slug: str, team: Team, time_zone: str = "UTC") -> Schedule:
    require_permission(actor, RESPOND)
    _check_zone("time_zone", time_zone)
    if Schedule.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": "A schedule with this slug exists."})
    schedule = Schedule.objects.create(name=name, slug=slug, team=team, time_zone=time_zone)
    audit_record(
        actor=actor,
        action="oncall.schedule_created",
        obj=schedule,
        after={"name": name, "slug": slug, "team": team.slug, "time_zone": time_zone},
    )
    return schedule


@transaction.atomic
def layer_create(
    *,
    actor,
    schedule: Schedule,
    name: str,
    participants: list,
    start: date,
    time_zone: str,
    position: int | None = None,
    turn_count: int = 1,
    turn_unit: str = TurnUnit.WEEKS,
    handoff_time: time = time(9, 0),
    restrictions: list | None = None,
) -> ScheduleLayer:
    """Add a rotation to a schedule; without a position it goes on top (it wins where it overlaps)."""
    require_permission(actor, RESPOND)
    if position is None:
        top = schedule.layers.order_by("-position").values_list("position", flat=True).first()
        position = 0 if top is None else top + 1
    layer = ScheduleLayer(
        schedule=schedule,
        name=name,
        position=position,
        turn_count=turn_count,
        turn_unit=turn_unit,
        handoff_time=handoff_time,
        start=start,
        time_zone=time_zone,
        restrictions=restrictions or [],
    )
    _check_layer(layer, participants)
    layer.save()
    _set_participants(layer, participants)
    audit_record(actor=actor, action="oncall.layer_created", obj=layer, after=_layer_snapshot(layer))
    return layer


@transaction.atomic
def layer_update(
    *, actor, layer: ScheduleLayer, participants: list | None = None, **changes
) -> ScheduleLayer:
    """Change some of a layer's fields (see LAYER_FIELDS) and/or its participants, in their new order."""
    require_permission(actor, RESPOND)
    unknown = set(changes) - set(LAYER_FIELDS)
    if unknown:
        raise ValueError(f"layer_update cannot change {', '.join(sorted(unknown))}")
    layer = ScheduleLayer.objects.select_for_update().get(pk=layer.pk)
    before = _layer_snapshot(layer)
    for field, value in changes.items():
        setattr(layer, field, value)
    people = (
        participants if participants is not None else [p.user for p in layer.places.select_related("user")]
    )
    _check_layer(layer, people)
    if changes:
        layer.save(update_fields=list(changes))
    if participants is not None:
        _set_participants(layer, participants)
    audit_record(
        actor=actor, action="oncall.layer_updated", obj=layer, before=before, after=_layer_snapshot(layer)
    )
    return layer


def _override_snapshot(override: ScheduleOverride) -> dict:
    return {
        "user": override.user.username,
        "start": override.start.isoformat(),
        "end": override.end.isoformat(),
        "reason": override.reason,
    }


@transaction.atomic
def override_create(
    *, actor, schedule: Schedule, user, start: datetime, end: datetime, reason: str = ""
) -> ScheduleOverride:
    """`user` covers [start, end) on `schedule`, beating every layer (and every earlier override)."""
    require_permission(actor, RESPOND)
    _check_span(start, end)
    if not _on_rota(schedule, user):
        raise ValidationError(
            {"user": f"{user.username} neither takes turns in this schedule nor is in its team."}
        )
    override = ScheduleOverride.objects.create(
        schedule=schedule, user=user, start=start, end=end, reason=reason, created_by=user_or_none(actor)
    )
    audit_record(
        actor=actor, action="oncall.override_created", obj=override, after=_override_snapshot(override)
    )
    return override


@transaction.atomic
def swap_propose(
    *, actor, schedule: Schedule, counterpart, start: datetime, end: datetime, reason: str = ""
) -> ShiftSwap:
    """The actor asks `counterpart` to cover [start, end) for them."""
    require_permission(actor, RESPOND)
    _check_span(start, end)
    if counterpart.pk == actor.pk:
        raise ValidationError({"counterpart": "Ask someone else to take the shift."})
    for field, person in (("requester", actor), ("counterpart", counterpart)):
        if not _on_rota(schedule, person):
            raise ValidationError(
                {field: f"{person.username} neither takes turns in this schedule nor is in its team."}
            )
    swap = ShiftSwap.objects.create(
        schedule=schedule, requester=actor, counterpart=counterpart, start=start, end=end, reason=reason
    )
    audit_record(
        actor=actor,
        action="oncall.swap_proposed",
        obj=swap,
        after={"counterpart": counterpart.username, "start": start.isoformat(), "end": end.isoformat()},
    )
    return swap


def _swap_decide(*, actor, swap: ShiftSwap, to: str, decider: str) -> ShiftSwap:
    require_permission(actor, RESPOND)
    swap = ShiftSwap.objects.select_for_update().select_related("schedule", "counterpart").get(pk=swap.pk)
    if getattr(swap, f"{decider}_id") != actor.pk:
        raise PermissionDenied(f"Only the {decider} can mark this swap {to}.")
    if not swap_can_move(swap.status, to):
        raise Conflict(f"This swap is already {swap.status}.")
    before = swap.status
    swap.status, swap.decided_at = to, timezone.now()
    fields = ["status", "decided_at"]
    if to == ACCEPTED:
        swap.override = ScheduleOverride.objects.create(
            schedule=swap.schedule,
            user=swap.counterpart,
            start=swap.start,
            end=swap.end,
            reason=f"Swap #{swap.pk}" + (f": {swap.reason}" if swap.reason else ""),
            created_by=user_or_none(actor),
        )
        fields.append("override")
    swap.save(update_fields=fields)
    audit_record(
        actor=actor, action=f"oncall.swap_{to}", obj=swap, before={"status": before}, after={"status": to}
    )
    return swap


@transaction.atomic
def swap_accept(*, actor, swap: ShiftSwap) -> ShiftSwap:
    """The counterpart takes the shift: an override for them over the swap's span."""
    return _swap_decide(actor=actor, swap=swap, to=ACCEPTED, decider="counterpart")


@transaction.atomic
def swap_decline(*, actor, swap: ShiftSwap) -> ShiftSwap:
    return _swap_decide(actor=actor, swap=swap, to=DECLINED, decider="counterpart")


@transaction.atomic
def swap_cancel(*, actor, swap: ShiftSwap) -> ShiftSwap:
    return _swap_decide(actor=actor, swap=swap, to=CANCELLED, decider="requester")


def personal_feed(*, user) -> PersonalFeed:
    """The person's calendar feed secret, made on first use."""
    feed, _ = PersonalFeed.objects.get_or_create(user=user)
    return feed
