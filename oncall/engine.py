"""The escalation engine: the tick that runs due escalation steps exactly once, and the dry run that shows
what a policy would do, computed by the same code.

One step, in one transaction: claim the due escalation row and its alert group (SKIP LOCKED on PostgreSQL, so
several tickers can run and an acknowledgement in flight is never waited for), check the group is still
triggered, resolve who the level pages *now* from the rotation engine, write their pages, and advance
`next_step_at`. A worker killed mid-step rolls the whole step back; the next tick runs it again, once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from oncall import alert_lifecycle as lifecycle
from oncall import escalation as maths
from oncall import paging, rotation
from oncall.alerting import INCIDENT_KINDS, alert_groups_retrigger_due
from oncall.models import (
    AlertGroup,
    AlertLogEntry,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    NotificationRule,
    Region,
    TargetKind,
    TeamMembership,
)
from oncall.selectors import rotation_schedule, schedules_for_engine
from opsportal.core.models import StaffProfile
from opsportal.incidents.services import incident_record_alert_activity

logger = logging.getLogger(__name__)

BATCH = 100  # escalation steps per transaction
SEND_BATCH = 500  # pages handed to the outbox per transaction
MAX_SEND_BATCHES = 40
RETRY_BROKEN_STEP = timedelta(seconds=30)
UTC = ZoneInfo("UTC")


@dataclass
class PlannedPerson:
    user_id: int
    username: str
    how: list[str] = field(default_factory=list)  # "push now", "sms after 1 min", …


@dataclass
class PlannedStep:
    at: datetime
    level: int  # 1-based, as the editor shows it
    pass_number: int  # 1-based
    people: list[PlannedPerson]
    notes: list[str]
    wait_minutes: int

    @property
    def targets(self) -> list[str]:
        return [person.username for person in self.people]


class _Resolver:
    """Who a level pages at an instant. Caches what it loads for the length of one tick or dry run."""

    def __init__(self) -> None:
        self._schedules: dict[int, rotation.Schedule | None] = {}
        self._users_by_name: dict[str, object] = {}
        self._users_by_id: dict[int, object] = {}
        self._team_members: dict[int, list[int]] = {}
        self._zones: dict[int, ZoneInfo] = {}
        self._regions: dict[str, ZoneInfo] = {}
        self._snapshots: dict[int, dict] = {}

    # --- loading ---
    def snapshot(self, policy_id: int) -> dict:
        """The policy as it is now, built once per tick however many escalations start on it."""
        if policy_id not in self._snapshots:
            self._snapshots[policy_id] = policy_snapshot(EscalationPolicy.objects.get(pk=policy_id))
        return self._snapshots[policy_id]

    def _schedule(self, schedule_id: int) -> rotation.Schedule | None:
        if schedule_id not in self._schedules:
            row = schedules_for_engine().filter(pk=schedule_id).first()
            try:
                self._schedules[schedule_id] = rotation_schedule(row) if row is not None else None
            except (ValueError, TypeError):
                logger.exception("Schedule %s cannot be evaluated", schedule_id)
                self._schedules[schedule_id] = None
        return self._schedules[schedule_id]

    def _load_users(self, *, ids=(), names=()) -> None:
        User = get_user_model()
        ids = [i for i in ids if i not in self._users_by_id]
        names = [n for n in names if n not in self._users_by_name]
        if not ids and not names:
            return
        query = User.objects.filter(is_active=True)
        rows = list(query.filter(pk__in=ids)) + list(query.filter(username__in=names))
        for user in rows:
            self._users_by_id[user.pk] = user
            self._users_by_name[user.get_username()] = user
        profiles = StaffProfile.objects.filter(user_id__in=[u.pk for u in rows]).values_list(
            "user_id", "time_zone"
        )
        for user_id, zone in profiles:
            self._zones[user_id] = _zone(zone)

    def _members(self, team_id: int) -> list[int]:
        if team_id not in self._team_members:
            self._team_members[team_id] = list(
                TeamMembership.objects.filter(team_id=team_id)
                .order_by("user__username")
                .values_list("user_id", flat=True)
            )
        return self._team_members[team_id]

    def _region_zone(self, code: str) -> ZoneInfo | None:
        if code not in self._regions:
            zone = Region.objects.filter(code=code).values_list("time_zone", flat=True).first()
            self._regions[code] = _zone(zone) if zone else None
        return self._regions[code]

    # --- resolving ---
    def people_for(
        self, level: dict, *, severity: str, urgency: str, at: datetime, advance_round_robin: bool
    ):
        """(users, notes): the people this level pages at `at`, in target order, each once."""
        if not maths.level_applies(level, severity=severity, urgency=urgency):
            limits = ", ".join(level.get("severities") or []) or ", ".join(level.get("urgencies") or [])
            return [], [f"Level applies only to {limits}"]
        notes: list[str] = []
        candidates: list[int] = []
        names: list[str] = []
        for target in level.get("targets") or []:
            kind = target["kind"]
            if kind == TargetKind.USER:
                candidates.append(target["user_id"])
            elif kind == TargetKind.TEAM:
                candidates.extend(self._members(target["team_id"]))
            elif kind in (TargetKind.SCHEDULE, TargetKind.SCHEDULE_SECONDARY):
                schedule = self._schedule(target["schedule_id"])
                who = None
                if schedule is not None:
                    pick = rotation.on_call_at if kind == TargetKind.SCHEDULE else rotation.secondary_at
                    who = pick(schedule, at)
                if who is None:
                    notes.append(f"Nobody on call in {target.get('label') or 'a schedule'}")
                else:
                    names.append(who)
                    candidates.append(("name", who))
        self._load_users(ids=[c for c in candidates if isinstance(c, int)], names=names)
        people, seen = [], set()
        for candidate in candidates:
            user = (
                self._users_by_name.get(candidate[1])
                if isinstance(candidate, tuple)
                else self._users_by_id.get(candidate)
            )
            if user is None or user.pk in seen:
                continue
            seen.add(user.pk)
            people.append(user)
        condition = level.get("time_condition") or {}
        if condition:
            kept = []
            for user in people:
                zone = self._condition_zone(condition, user)
                if zone is None or maths.time_condition_holds(condition, at, zone):
                    kept.append(user)
                else:
                    notes.append(f"{user.get_username()} skipped: outside the level's hours in {zone.key}")
            people = kept
        if level.get("round_robin") and people:
            cursor = self._round_robin_cursor(level, advance=advance_round_robin)
            people = [people[cursor % len(people)]]
        return people, notes

    def _condition_zone(self, condition: dict, user) -> ZoneInfo | None:
        zone = condition.get("zone", "target")
        if zone == "target":
            return self._zones.get(user.pk, UTC)
        if zone.startswith("region:"):
            return self._region_zone(zone.split(":", 1)[1])
        return _zone(zone)

    def _round_robin_cursor(self, level: dict, *, advance: bool) -> int:
        current = (
            EscalationLevel.objects.filter(pk=level["id"]).values_list("round_robin_next", flat=True).first()
        )
        if current is None:
            return 0
        if advance:
            EscalationLevel.objects.filter(pk=level["id"]).update(round_robin_next=F("round_robin_next") + 1)
        return current


def policy_snapshot(policy: EscalationPolicy) -> dict:
    """The policy as plain JSON, taken when an escalation starts: later edits do not change a running one."""
    levels = []
    for level in policy.levels.prefetch_related("targets__user", "targets__schedule", "targets__team"):
        levels.append(
            {
                "id": level.pk,
                "delay_minutes": level.delay_minutes,
                "round_robin": level.round_robin,
                "severities": list(level.severities or []),
                "urgencies": list(level.urgencies or []),
                "time_condition": dict(level.time_condition or {}),
                "targets": [
                    {
                        "kind": target.kind,
                        "user_id": target.user_id,
                        "schedule_id": target.schedule_id,
                        "team_id": target.team_id,
                        "label": str(target.user or target.schedule or target.team),
                    }
                    for target in level.targets.all()
                ],
            }
        )
    return {
        "policy_id": policy.pk,
        "name": policy.name,
        "repeat": policy.repeat,
        "repeat_from": max(policy.repeat_from - 1, 0),
        "levels": levels,
    }


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return UTC


# --- the tick ---------------------------------------------------------------------------------------------------


def escalations_run_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Run every due escalation step (up to `limit`), then hand due pages to the outbox. Safe to run in
    several processes at once and to run twice: a step is claimed by one of them, and runs once."""
    now = now or timezone.now()
    alert_groups_retrigger_due(now=now)
    resolver = _Resolver()
    seen: set[int] = set()
    ran = 0
    while ran < limit:
        claimed = _run_batch(now, min(BATCH, limit - ran), resolver, seen)
        if not claimed:
            break
        ran += claimed
    # Hand every due page to the outbox, a batch at a time, so a storm's pages do not wait for later ticks.
    for _ in range(MAX_SEND_BATCHES):
        if paging.pages_send_due(now=now, limit=SEND_BATCH) < SEND_BATCH:
            break
    return ran


STEP_FIELDS = [
    "status",
    "next_step_at",
    "level_index",
    "pass_number",
    "steps_taken",
    "last_step_at",
]


class _Effects:
    """What a batch of steps writes besides pages, written in a few statements at the end of the batch."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.lines: list[AlertLogEntry] = []
        self.incident_lines: list[tuple[AlertGroup, str]] = []
        self.escalations: list[Escalation] = []
        self.pages: list[paging.PageRequest] = []
        self.snapshot_taken: list[Escalation] = []

    def log(self, group: AlertGroup, kind: str, text: str, now: datetime, data: dict | None = None) -> None:
        self.lines.append(
            AlertLogEntry(
                group=group, kind=kind, actor_label="system", text=text[:2000], data=data or {}, at=now
            )
        )
        if group.incident_id is not None and kind in INCIDENT_KINDS:
            self.incident_lines.append((group, text))

    def flush(self, now: datetime) -> None:
        AlertLogEntry.objects.bulk_create(self.lines)
        paging.pages_schedule_many(self.pages, now=now)
        for group, text in self.incident_lines:
            incident_record_alert_activity(
                incident=group.incident,
                text=f"Alert #{group.pk}: {text} (system)",
                data={"alert_group": group.pk},
            )
        # One UPDATE per distinct outcome (most of a batch shares one), not Django's bulk_update, which builds a
        # CASE per row and field in Python and cost more than the rest of the tick.
        outcomes: dict[tuple, list[int]] = defaultdict(list)
        for escalation in self.escalations:
            outcomes[tuple(getattr(escalation, name) for name in STEP_FIELDS)].append(escalation.pk)
        for values, ids in outcomes.items():
            Escalation.objects.filter(pk__in=ids).update(**dict(zip(STEP_FIELDS, values, strict=True)))
        snapshots: dict[int, tuple[dict, list[int]]] = {}
        for escalation in self.snapshot_taken:
            snapshots.setdefault(escalation.policy_id, (escalation.snapshot, []))[1].append(escalation.pk)
        for snapshot, ids in snapshots.values():
            Escalation.objects.filter(pk__in=ids).update(snapshot=snapshot)
        self.clear()


def _run_batch(
    now: datetime, size: int, resolver: _Resolver, seen: set[int], *, careful: bool = False
) -> int:
    """Claim up to `size` due escalations and step them in one transaction. If anything in the batch fails,
    the batch rolls back and runs again carefully, each step in its own savepoint, so one broken escalation
    is set aside (retried later) and never holds up the others."""
    claimed: list[int] = []
    try:
        with transaction.atomic():
            escalations = list(
                Escalation.objects.select_for_update(skip_locked=True)
                .filter(status=Escalation.Status.ACTIVE, next_step_at__lte=now)
                .exclude(pk__in=seen)
                .order_by("next_step_at", "pk")[:size]
            )
            if not escalations:
                return 0
            claimed = [e.pk for e in escalations]
            seen.update(claimed)
            groups = {
                group.pk: group
                for group in AlertGroup.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=[e.group_id for e in escalations])
                .select_related("team", "integration", "incident")
            }
            effects = _Effects()
            for escalation in escalations:
                group = groups.get(escalation.group_id)
                if group is None:
                    continue  # an acknowledgement holds it: the next tick sees what it decided
                if not careful:
                    _step(escalation, group, now, resolver, effects)
                    continue
                try:
                    with transaction.atomic():
                        _step(escalation, group, now, resolver, effects)
                        effects.flush(now)
                except Exception:
                    effects.clear()
                    logger.exception("Escalation step of alert #%s failed; retrying later", group.pk)
                    Escalation.objects.filter(pk=escalation.pk).update(next_step_at=now + RETRY_BROKEN_STEP)
            effects.flush(now)
    except Exception:
        if careful or not claimed:
            raise
        logger.warning("A batch of %s escalation steps failed; running them one by one", len(claimed))
        seen.difference_update(claimed)
        return _run_batch(now, size, resolver, seen, careful=True)
    return len(escalations)


def _step(
    escalation: Escalation, group: AlertGroup, now: datetime, resolver: _Resolver, effects: _Effects
) -> None:
    if group.status != lifecycle.TRIGGERED:
        escalation.status, escalation.next_step_at = Escalation.Status.STOPPED, None
        effects.escalations.append(escalation)
        return
    if not escalation.snapshot:
        if escalation.policy_id is None:
            escalation.status, escalation.next_step_at = Escalation.Status.DONE, None
            effects.escalations.append(escalation)
            effects.log(
                group,
                AlertLogEntry.Kind.ESCALATION_DONE,
                "The escalation policy was deleted: nobody paged",
                now,
            )
            return
        escalation.snapshot = resolver.snapshot(escalation.policy_id)
        effects.snapshot_taken.append(escalation)
    levels = escalation.snapshot.get("levels") or []
    level_index, pass_number = escalation.level_index, escalation.pass_number
    skipped = 0
    while True:
        if level_index >= len(levels):
            escalation.status, escalation.next_step_at = Escalation.Status.DONE, None
            effects.log(
                group,
                AlertLogEntry.Kind.ESCALATION_DONE,
                "Every level has been paged and nobody acknowledged",
                now,
            )
            break
        level = levels[level_index]
        people, notes = resolver.people_for(
            level, severity=group.incident_severity, urgency=group.urgency, at=now, advance_round_robin=True
        )
        if people:
            escalation.steps_taken += 1
            effects.pages.append(
                paging.PageRequest(group, tuple(people), escalation.steps_taken, level_index)
            )
            names = ", ".join(user.get_username() for user in people)
            effects.log(
                group,
                AlertLogEntry.Kind.ESCALATED,
                f"Level {level_index + 1}"
                + (f" (repeat {pass_number})" if pass_number else "")
                + f": paging {names}",
                now,
                data={
                    "level": level_index,
                    "pass": pass_number,
                    "users": [u.pk for u in people],
                    "notes": notes,
                },
            )
            escalation.last_step_at = now
            escalation.next_step_at = now + timedelta(minutes=int(level["delay_minutes"]))
            following = maths.next_position(escalation.snapshot, level_index, pass_number)
            level_index, pass_number = following if following is not None else (len(levels), pass_number)
            break
        effects.log(
            group,
            AlertLogEntry.Kind.ESCALATED,
            f"Level {level_index + 1} skipped: " + ("; ".join(notes) or "nobody to page"),
            now,
            data={"level": level_index, "pass": pass_number, "skipped": True, "notes": notes},
        )
        skipped += 1
        following = maths.next_position(escalation.snapshot, level_index, pass_number)
        if following is None or skipped >= max(len(levels), 1):
            escalation.status, escalation.next_step_at = Escalation.Status.DONE, None
            effects.log(group, AlertLogEntry.Kind.ESCALATION_DONE, "Nobody could be paged on any level", now)
            break
        level_index, pass_number = following
    escalation.level_index, escalation.pass_number = level_index, pass_number
    effects.escalations.append(escalation)


# --- the dry run --------------------------------------------------------------------------------------------------


def _how(user_ids: list[int], urgency: str) -> dict[int, list[str]]:
    rules = (
        NotificationRule.objects.filter(
            user_id__in=user_ids,
            contact_method__enabled=True,
            contact_method__verified_at__isnull=False,
            urgency__in=["any", urgency],
        )
        .select_related("contact_method")
        .order_by("delay_minutes", "id")
    )
    how: dict[int, list[str]] = {}
    for rule in rules:
        when = "now" if rule.delay_minutes == 0 else f"after {rule.delay_minutes} min"
        how.setdefault(rule.user_id, []).append(f"{rule.contact_method.get_kind_display()} {when}")
    return how


def escalation_dry_run(
    *, policy: EscalationPolicy, severity: str, urgency: str, at: datetime, max_steps: int = 20
) -> list[PlannedStep]:
    """Who would be paged, when and how, level by level, if nobody acknowledged an alert raised at `at`.
    Uses the engine's own resolver, so it cannot drift from what paging does."""
    snapshot = policy_snapshot(policy)
    levels = snapshot["levels"]
    resolver = _Resolver()
    instant = at
    if urgency == lifecycle.LOW and policy.team.support_region is not None:
        region = policy.team.support_region
        instant = maths.next_support_instant(
            at, _zone(region.time_zone), region.business_day_start, region.business_day_end
        )
    steps: list[PlannedStep] = []
    position: tuple[int, int] | None = (0, 0) if levels else None
    while position is not None and len(steps) < max_steps:
        level_index, pass_number = position
        level = levels[level_index]
        people, notes = resolver.people_for(
            level, severity=severity, urgency=urgency, at=instant, advance_round_robin=False
        )
        how = _how([user.pk for user in people], urgency)
        without_rules = [user for user in people if user.pk not in how]
        if without_rules:
            how.update(paging.default_plan_preview(without_rules))
        steps.append(
            PlannedStep(
                at=instant,
                level=level_index + 1,
                pass_number=pass_number + 1,
                people=[
                    PlannedPerson(u.pk, u.get_username(), how.get(u.pk) or ["nothing: no usable method"])
                    for u in people
                ],
                notes=notes,
                wait_minutes=int(level["delay_minutes"]) if people else 0,
            )
        )
        if people:
            instant = instant + timedelta(minutes=int(level["delay_minutes"]))
        position = maths.next_position(snapshot, level_index, pass_number)
    return steps
