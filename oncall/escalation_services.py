"""Escalation policy writes: policies, their ordered levels (delay, round robin, conditions) and each level's
targets. Each checks meaning, writes, and audits. A running escalation works from its own snapshot, so none
of these changes an alert that is already paging.

Who may edit: the responder role (RESPOND), the same as schedules and layers. The people who carry the pager
are the ones who tune who gets it next; every change is in the audit log, and an admin-only editor would leave
a team unable to fix its own policy at 3 a.m."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from oncall import alert_lifecycle
from oncall import escalation as maths
from oncall.models import (
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Region,
    Schedule,
    TargetKind,
    Team,
    TeamMembership,
)
from oncall.models.escalation import MAX_LEVEL_DELAY_MINUTES, MAX_REPEATS
from opsportal.core.exceptions import Conflict
from opsportal.core.roles import RESPOND
from opsportal.core.services import audit_record, require_permission
from opsportal.core.text import DESCRIPTION_MAX, NAME_MAX, validate_body, validate_line
from opsportal.core.time_zones import is_iana_time_zone
from opsportal.incidents.models import Severity

MAX_LEVELS = 50
MAX_TARGETS_PER_LEVEL = 50
LEVEL_KEYS = frozenset(
    {"delay_minutes", "round_robin", "severities", "urgencies", "time_condition", "targets"}
)
TARGET_KEYS = frozenset({"kind", "user", "schedule", "team"})


# --- checks ---------------------------------------------------------------------------------------------------


def _check_text(field: str, value: Any, *, max_length: int, required: bool = True, body: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError({field: "Give text."})
    value = value.strip() if not body else value
    if required and not value:
        raise ValidationError({field: "This field is required."})
    if len(value) > max_length:
        raise ValidationError({field: f"At most {max_length} characters."})
    try:
        (validate_body if body else validate_line)(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return value


def _check_int(field: str, value: Any, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: "Give a whole number."})
    if not low <= value <= high:
        raise ValidationError({field: f"Give a number from {low} to {high}."})
    return value


def _check_choices(field: str, values: Any, allowed: tuple[str, ...] | list[str]) -> list[str]:
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise ValidationError({field: "Give a list of names."})
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationError({field: f"Each is one of {', '.join(allowed)}."})
    return sorted(set(values), key=list(allowed).index)


def time_condition_problems(condition: Any) -> list[str]:
    """What is wrong with a level's local-time window (oncall.escalation's rules; regions looked up here)."""
    return maths.time_condition_errors(
        condition,
        is_zone=is_iana_time_zone,
        region_exists=lambda code: Region.objects.filter(code=code).exists(),
    )


def _check_time_condition(condition: Any) -> dict:
    problems = time_condition_problems(condition)
    if problems:
        raise ValidationError({"time_condition": problems})
    if not condition:
        return {}
    return {
        "zone": condition.get("zone", "target"),
        "days": sorted(condition.get("days", list(range(7)))),
        "start": condition["start"],
        "end": condition["end"],
        "when": condition.get("when", "inside"),
    }


def _level_count(policy: EscalationPolicy) -> int:
    return EscalationLevel.objects.filter(policy=policy).count()


def _check_repeat(policy: EscalationPolicy, repeat: Any, repeat_from: Any, *, levels: int) -> tuple[int, int]:
    repeat = _check_int("repeat", repeat, low=0, high=MAX_REPEATS)
    repeat_from = _check_int("repeat_from", repeat_from, low=1, high=max(levels, 1))
    return repeat, repeat_from


def _policy_snapshot(policy: EscalationPolicy) -> dict:
    return {
        "team": policy.team.slug,
        "name": policy.name,
        "description": policy.description,
        "repeat": policy.repeat,
        "repeat_from": policy.repeat_from,
    }


def _level_snapshot(level: EscalationLevel) -> dict:
    return {
        "policy": level.policy_id,
        "position": level.position,
        "delay_minutes": level.delay_minutes,
        "round_robin": level.round_robin,
        "severities": level.severities,
        "urgencies": level.urgencies,
        "time_condition": level.time_condition,
    }


def _target_snapshot(target: EscalationTarget) -> dict:
    return {
        "level": target.level_id,
        "kind": target.kind,
        "user": target.user.get_username() if target.user_id else None,
        "schedule": target.schedule.slug if target.schedule_id else None,
        "team": target.team.slug if target.team_id else None,
    }


def _locked_policy(policy: EscalationPolicy) -> EscalationPolicy:
    # Level positions and repeat_from are checked against the other levels: one editor at a time per policy.
    return EscalationPolicy.objects.select_for_update().select_related("team").get(pk=policy.pk)


# --- policies -------------------------------------------------------------------------------------------------


@transaction.atomic
def policy_create(
    *, actor, team: Team, name: str, description: str = "", repeat: int = 0, repeat_from: int = 1
) -> EscalationPolicy:
    require_permission(actor, RESPOND)
    name = _check_text("name", name, max_length=NAME_MAX)
    description = _check_text(
        "description", description, max_length=DESCRIPTION_MAX, required=False, body=True
    )
    repeat = _check_int("repeat", repeat, low=0, high=MAX_REPEATS)
    if repeat_from != 1:
        raise ValidationError({"repeat_from": "A new policy has no levels yet: repeat from level 1."})
    if EscalationPolicy.objects.filter(team=team, name=name).exists():
        raise ValidationError({"name": "This team already has a policy with that name."})
    policy = EscalationPolicy.objects.create(
        team=team, name=name, description=description, repeat=repeat, repeat_from=1
    )
    audit_record(actor=actor, action="oncall.policy_created", obj=policy, after=_policy_snapshot(policy))
    return policy


@transaction.atomic
def policy_update(
    *, actor, policy: EscalationPolicy, name: str, description: str, repeat: int, repeat_from: int
) -> EscalationPolicy:
    require_permission(actor, RESPOND)
    policy = _locked_policy(policy)
    before = _policy_snapshot(policy)
    name = _check_text("name", name, max_length=NAME_MAX)
    description = _check_text(
        "description", description, max_length=DESCRIPTION_MAX, required=False, body=True
    )
    repeat, repeat_from = _check_repeat(policy, repeat, repeat_from, levels=_level_count(policy))
    if EscalationPolicy.objects.filter(team=policy.team, name=name).exclude(pk=policy.pk).exists():
        raise ValidationError({"name": "This team already has a policy with that name."})
    policy.name, policy.description, policy.repeat, policy.repeat_from = (
        name,
        description,
        repeat,
        repeat_from,
    )
    policy.save(update_fields=["name", "description", "repeat", "repeat_from", "updated_at"])
    audit_record(
        actor=actor, action="oncall.policy_updated", obj=policy, before=before, after=_policy_snapshot(policy)
    )
    return policy


@transaction.atomic
def policy_delete(*, actor, policy: EscalationPolicy) -> None:
    """Integrations and routes that named it fall back to no policy (their rows keep working). Refused while an
    escalation runs on it: one that has not taken its first step (a low-urgency alert waiting for support
    hours) has no snapshot yet and would page nobody."""
    require_permission(actor, RESPOND)
    policy = _locked_policy(policy)
    if Escalation.objects.filter(policy=policy, status=Escalation.Status.ACTIVE).exists():
        raise Conflict(
            "An escalation is running on this policy; wait for it to end or acknowledge its alert."
        )
    before = _policy_snapshot(policy)
    audit_record(actor=actor, action="oncall.policy_deleted", obj=policy, before=before)
    policy.delete()


# --- levels ---------------------------------------------------------------------------------------------------


def _check_level_fields(
    *, delay_minutes: Any, round_robin: Any, severities: Any, urgencies: Any, time_condition: Any
) -> dict:
    if not isinstance(round_robin, bool):
        raise ValidationError({"round_robin": "Yes or no."})
    return {
        "delay_minutes": _check_int("delay_minutes", delay_minutes, low=1, high=MAX_LEVEL_DELAY_MINUTES),
        "round_robin": round_robin,
        "severities": _check_choices("severities", severities, Severity.values),
        "urgencies": _check_choices("urgencies", urgencies, alert_lifecycle.URGENCIES),
        "time_condition": _check_time_condition(time_condition),
    }


@transaction.atomic
def level_create(
    *,
    actor,
    policy: EscalationPolicy,
    delay_minutes: int = 5,
    round_robin: bool = False,
    severities: list[str] | None = None,
    urgencies: list[str] | None = None,
    time_condition: dict | None = None,
) -> EscalationLevel:
    require_permission(actor, RESPOND)
    policy = _locked_policy(policy)
    fields = _check_level_fields(
        delay_minutes=delay_minutes,
        round_robin=round_robin,
        severities=severities or [],
        urgencies=urgencies or [],
        time_condition=time_condition or {},
    )
    if _level_count(policy) >= MAX_LEVELS:
        raise ValidationError(f"A policy has at most {MAX_LEVELS} levels.")
    last = EscalationLevel.objects.filter(policy=policy).aggregate(top=Max("position"))["top"]
    level = EscalationLevel.objects.create(policy=policy, position=0 if last is None else last + 1, **fields)
    audit_record(actor=actor, action="oncall.level_created", obj=level, after=_level_snapshot(level))
    return level


@transaction.atomic
def level_update(
    *,
    actor,
    level: EscalationLevel,
    delay_minutes: int,
    round_robin: bool,
    severities: list[str],
    urgencies: list[str],
    time_condition: dict,
) -> EscalationLevel:
    require_permission(actor, RESPOND)
    _locked_policy(level.policy)
    level = EscalationLevel.objects.get(pk=level.pk)
    before = _level_snapshot(level)
    fields = _check_level_fields(
        delay_minutes=delay_minutes,
        round_robin=round_robin,
        severities=severities,
        urgencies=urgencies,
        time_condition=time_condition,
    )
    for name, value in fields.items():
        setattr(level, name, value)
    level.save(update_fields=list(fields))
    audit_record(
        actor=actor, action="oncall.level_updated", obj=level, before=before, after=_level_snapshot(level)
    )
    return level


@transaction.atomic
def level_delete(*, actor, level: EscalationLevel) -> None:
    """Removing a level keeps repeat_from within the levels that remain."""
    require_permission(actor, RESPOND)
    policy = _locked_policy(level.policy)
    level = EscalationLevel.objects.get(pk=level.pk)
    before = _level_snapshot(level)
    level.delete()
    remaining = _level_count(policy)
    if policy.repeat_from > max(remaining, 1):
        policy.repeat_from = max(remaining, 1)
        policy.save(update_fields=["repeat_from", "updated_at"])
    audit_record(actor=actor, action="oncall.level_deleted", obj=policy, before=before)


@transaction.atomic
def level_move(*, actor, level: EscalationLevel, direction: str) -> EscalationLevel:
    """Swap a level with its neighbour above ("up") or below ("down"); at either end nothing moves."""
    require_permission(actor, RESPOND)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Up or down."})
    policy = _locked_policy(level.policy)
    ordered = list(EscalationLevel.objects.filter(policy=policy).order_by("position", "id"))
    index = next(n for n, candidate in enumerate(ordered) if candidate.pk == level.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return ordered[index]
    ordered[index], ordered[other] = ordered[other], ordered[index]
    # Renumber densely: positions may have gaps after deletes, and two equal positions would not swap.
    for position, row in enumerate(ordered):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])
    moved = ordered[other]
    audit_record(
        actor=actor,
        action="oncall.level_moved",
        obj=moved,
        after={"policy": policy.pk, "direction": direction, "position": moved.position},
    )
    return moved


def _level_problem(number: int, exc: ValidationError) -> ValidationError:
    # One field, "levels", naming the level: the caller sent them as one list.
    if hasattr(exc, "error_dict"):
        words = [
            f"{field}: {message}" for field, messages in exc.message_dict.items() for message in messages
        ]
    else:
        words = exc.messages
    return ValidationError({"levels": [f"Level {number}: {word}" for word in words]})


def _checked_levels(policy: EscalationPolicy, levels: Any) -> list[tuple[dict, list[EscalationTarget]]]:
    """Each level's fields and unsaved targets, checked by the same helpers as level_create and target_create;
    a whole replacement also needs at least one target per level (a level that pages nobody is a mistake when
    written in one go, unlike a level the editor has just added and is about to fill)."""
    if not isinstance(levels, (list, tuple)):
        raise ValidationError({"levels": "Give a list of levels."})
    if len(levels) > MAX_LEVELS:
        raise ValidationError({"levels": f"A policy has at most {MAX_LEVELS} levels."})
    checked = []
    for number, level in enumerate(levels, start=1):
        try:
            if not isinstance(level, dict) or not set(level) <= LEVEL_KEYS:
                raise ValidationError(f"A level has only {', '.join(sorted(LEVEL_KEYS))}.")
            fields = _check_level_fields(
                delay_minutes=level.get("delay_minutes", 5),
                round_robin=level.get("round_robin", False),
                severities=level.get("severities") or [],
                urgencies=level.get("urgencies") or [],
                time_condition=level.get("time_condition") or {},
            )
            targets = level.get("targets") or []
            if not isinstance(targets, (list, tuple)) or not targets:
                raise ValidationError("A level needs at least one target.")
            if len(targets) > MAX_TARGETS_PER_LEVEL:
                raise ValidationError(f"A level has at most {MAX_TARGETS_PER_LEVEL} targets.")
            rows, seen = [], set()
            for target in targets:
                if not isinstance(target, dict) or not set(target) <= TARGET_KEYS or "kind" not in target:
                    raise ValidationError("A target is a kind and the user, schedule or team it names.")
                row = _checked_target(
                    policy,
                    kind=target["kind"],
                    user=target.get("user"),
                    schedule=target.get("schedule"),
                    team=target.get("team"),
                )
                if _target_key(row) in seen:
                    raise ValidationError("The level names the same target twice.")
                seen.add(_target_key(row))
                rows.append(row)
        except ValidationError as exc:
            raise _level_problem(number, exc) from None
        checked.append((fields, rows))
    return checked


def _levels_snapshot(policy: EscalationPolicy) -> list[dict]:
    levels = EscalationLevel.objects.filter(policy=policy).order_by("position", "id")
    return [
        {
            **_level_snapshot(level),
            "targets": [
                _target_snapshot(target)
                for target in level.targets.select_related("user", "schedule", "team").order_by(
                    "position", "id"
                )
            ],
        }
        for level in levels
    ]


@transaction.atomic
def policy_set_levels(
    *, actor, policy: EscalationPolicy, levels: list[dict], repeat_from: int | None = None
) -> EscalationPolicy:
    """Replace every level of the policy and their targets in one go (the API sends a policy whole). Each level
    is {"delay_minutes", "round_robin", "severities", "urgencies", "time_condition", "targets": [{"kind",
    "user" | "schedule" | "team"}]}, checked as level_create and target_create check them. `repeat_from`, when
    given, must name one of the new levels; when not, it is kept, or brought within the new levels as
    level_delete does. Running escalations keep their snapshot."""
    require_permission(actor, RESPOND)
    policy = _locked_policy(policy)
    checked = _checked_levels(policy, levels)
    if repeat_from is None:
        repeat_from = min(policy.repeat_from, max(len(checked), 1))
    else:
        repeat_from = _check_int("repeat_from", repeat_from, low=1, high=max(len(checked), 1))
    before = {"repeat_from": policy.repeat_from, "levels": _levels_snapshot(policy)}
    EscalationLevel.objects.filter(policy=policy).delete()  # their targets go with them
    for position, (fields, rows) in enumerate(checked):
        level = EscalationLevel.objects.create(policy=policy, position=position, **fields)
        for n, row in enumerate(rows):
            row.level, row.position = level, n
        EscalationTarget.objects.bulk_create(rows)
    policy.repeat_from = repeat_from
    policy.save(update_fields=["repeat_from", "updated_at"])
    audit_record(
        actor=actor,
        action="oncall.policy_levels_set",
        obj=policy,
        before=before,
        after={"repeat_from": repeat_from, "levels": _levels_snapshot(policy)},
    )
    return policy


# --- targets --------------------------------------------------------------------------------------------------


def _checked_target(
    policy: EscalationPolicy,
    *,
    kind: Any,
    user=None,
    schedule: Schedule | None = None,
    team: Team | None = None,
) -> EscalationTarget:
    """An unsaved target for a level of `policy`, its meaning checked: a user must belong to the policy's team
    (the person the team can vouch for); a schedule or a team may be any (the exec tier, the next region's
    on-call)."""
    if kind not in TargetKind.values:
        raise ValidationError({"kind": f"One of {', '.join(TargetKind.values)}."})
    row = EscalationTarget(kind=kind)
    if kind == TargetKind.USER:
        if user is None or not user.is_active:
            raise ValidationError({"user": "Choose an active member of the team."})
        if not TeamMembership.objects.filter(team=policy.team, user=user).exists():
            raise ValidationError({"user": f"{user.get_username()} is not in {policy.team.name}."})
        row.user = user
    elif kind in (TargetKind.SCHEDULE, TargetKind.SCHEDULE_SECONDARY):
        if schedule is None:
            raise ValidationError({"schedule": "Choose a schedule."})
        row.schedule = schedule
    else:
        if team is None:
            raise ValidationError({"team": "Choose a team."})
        row.team = team
    return row


def _target_key(row: EscalationTarget) -> tuple:
    return (row.kind, row.user_id, row.schedule_id, row.team_id)


@transaction.atomic
def target_create(
    *,
    actor,
    level: EscalationLevel,
    kind: str,
    user=None,
    schedule: Schedule | None = None,
    team: Team | None = None,
) -> EscalationTarget:
    require_permission(actor, RESPOND)
    policy = _locked_policy(level.policy)
    row = _checked_target(policy, kind=kind, user=user, schedule=schedule, team=team)
    row.level = level
    existing = EscalationTarget.objects.filter(level=level)
    if existing.count() >= MAX_TARGETS_PER_LEVEL:
        raise ValidationError(f"A level has at most {MAX_TARGETS_PER_LEVEL} targets.")
    if existing.filter(kind=kind, user=row.user, schedule=row.schedule, team=row.team).exists():
        raise ValidationError("This level already pages that target.")
    last = existing.aggregate(top=Max("position"))["top"]
    row.position = 0 if last is None else last + 1
    row.save()
    audit_record(actor=actor, action="oncall.target_created", obj=row, after=_target_snapshot(row))
    return row


@transaction.atomic
def target_delete(*, actor, target: EscalationTarget) -> None:
    require_permission(actor, RESPOND)
    _locked_policy(target.level.policy)
    before = _target_snapshot(target)
    audit_record(actor=actor, action="oncall.target_deleted", obj=target, before=before)
    target.delete()
