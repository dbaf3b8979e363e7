"""Handoff reminders: the person coming on call is told an hour before their shift starts, through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from oncall import rotation, selectors
from opsportal.notifications.services import Recipient, notification_enqueue

LEAD = timedelta(hours=1)
KIND = "oncall_handoff_reminder"


@dataclass(frozen=True)
class Handover:
    """`person` comes on call in `schedule` at `start` (after `outgoing`, or after a gap when None)."""

    schedule: str
    schedule_name: str
    person: str
    outgoing: str | None
    start: datetime

    @property
    def dedupe_key(self) -> str:
        return f"handoff:{self.schedule}:{self.person}:{self.start.isoformat()}"


def handovers_between(
    engine: rotation.Schedule, now: datetime, until: datetime
) -> list[tuple[str | None, str, datetime]]:
    """(outgoing, incoming, start) for every change of person starting in (now, until]. The final schedule
    clips its first shift at `now`, so a shift that "starts" exactly then is the one already running, and
    back-to-back shifts of one person (a layer turn, then their own override) are no handoff."""
    shifts = rotation.final_schedule(engine, now, until + timedelta(microseconds=1))
    found = []
    previous: rotation.Shift | None = None
    for shift in shifts:
        if shift.start > now:
            outgoing = previous.person if previous is not None and previous.end == shift.start else None
            if outgoing != shift.person:
                found.append((outgoing, shift.person, shift.start))
        previous = shift
    return found


def handovers_due(now: datetime) -> list[Handover]:
    """Shifts starting within the next hour. A start stays in the window for the whole hour before it, so a
    task that runs late still finds it; one that runs twice finds it twice, and the dedupe key keeps one."""
    # Each schedule on its own: one that cannot be evaluated is logged by each_schedule and skipped, and
    # everyone else's reminder still goes out.
    per_schedule, _broken = selectors.each_schedule(
        selectors.schedules_for_engine(overrides_ending_after=now),
        lambda schedule, engine: [
            Handover(schedule.slug, schedule.name, person, outgoing, start)
            for outgoing, person, start in handovers_between(engine, now, now + LEAD)
        ],
    )
    return [handover for handovers in per_schedule for handover in handovers]


def _when(start: datetime, user) -> str:
    profile = getattr(user, "staff_profile", None)
    zone = ZoneInfo(profile.time_zone if profile is not None else "UTC")
    return f"{start.astimezone(zone):%a %d %b %H:%M} ({zone.key})"


def handoff_reminders_send(*, now: datetime | None = None) -> int:
    """Enqueue one reminder per shift starting in the next hour; returns how many handovers were due.
    Safe to run twice: the outbox adds nobody twice for the same dedupe key."""
    now = now or timezone.now()
    due = handovers_due(now)
    users = {
        user.username: user
        for user in get_user_model()
        .objects.filter(username__in={h.person for h in due}, is_active=True)
        .select_related("staff_profile")
    }
    for handover in due:
        user = users.get(handover.person)
        if user is None:
            continue
        subject = f"You are on call for {handover.schedule_name} from {_when(handover.start, user)}"
        text = subject + (f", taking over from {handover.outgoing}." if handover.outgoing else ".")
        recipients = [
            Recipient(
                "websocket", str(user.pk), ref=f"user:{user.pk}", context={"schedule": handover.schedule}
            )
        ]
        if user.email:
            recipients.append(Recipient("email", user.email, ref=f"user:{user.pk}"))
        with transaction.atomic():
            notification_enqueue(
                kind=KIND,
                dedupe_key=handover.dedupe_key,
                subject=subject,
                text=text,
                payload={"schedule": handover.schedule, "start": handover.start.isoformat()},
                recipients=recipients,
            )
    return len(due)
