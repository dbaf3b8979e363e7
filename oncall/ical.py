"""On-call calendar feeds (RFC 5545, written by hand): per schedule and per person, behind secret-token URLs.

Events are the engine's final-schedule shifts, so a feed can never drift from who is really on call."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from oncall import rotation, selectors
from opsportal.core.icalendar_text import escape_text, fold, utc

PAST, FUTURE = timedelta(days=30), timedelta(days=90)
PRODID = "-//opsportal//On-call schedule//EN"


def feed_range(now: datetime) -> tuple[datetime, datetime]:
    """The feed's span: from 30 days before to 90 days after the start of today (UTC), so every request on the
    same day lists the same events, clipped the same way."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - PAST, day + FUTURE


def shift_uid(schedule_slug: str, shift: rotation.Shift, *, host: str) -> str:
    """Stable across requests and edits elsewhere in the schedule: schedule, person and start say which shift."""
    key = f"{schedule_slug}|{shift.person}|{shift.start.astimezone(UTC).isoformat()}"
    return f"oncall-{hashlib.sha256(key.encode()).hexdigest()[:32]}@{host}"


def _event_lines(schedule, shift: rotation.Shift, *, host: str, stamp: datetime) -> list[str]:
    source = "override" if shift.source == rotation.OVERRIDE else f"layer {shift.source}"
    return [
        "BEGIN:VEVENT",
        f"UID:{shift_uid(schedule.slug, shift, host=host)}",
        f"DTSTAMP:{utc(stamp)}",
        f"DTSTART:{utc(shift.start)}",
        f"DTEND:{utc(shift.end)}",
        f"SUMMARY:{escape_text(f'On call: {shift.person} ({schedule.name})')}",
        f"DESCRIPTION:{escape_text(f'{schedule.name}, {source}')}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def oncall_calendar(entries, *, name: str, host: str, stamp: datetime) -> str:
    """entries: (schedule row, shift) pairs."""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for schedule, shift in entries:
        lines += _event_lines(schedule, shift, host=host, stamp=stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def schedule_feed(schedule, *, now: datetime, host: str) -> str | None:
    """None when the schedule cannot be evaluated (logged)."""
    start, end = feed_range(now)
    answers, _broken = selectors.each_schedule(
        [schedule], lambda _, engine: rotation.final_schedule(engine, start, end)
    )
    if not answers:
        return None
    shifts = answers[0]
    return oncall_calendar(
        ((schedule, shift) for shift in shifts), name=f"On call: {schedule.name}", host=host, stamp=now
    )


def person_feed(user, schedules, *, now: datetime, host: str) -> str:
    start, end = feed_range(now)
    # A schedule that cannot be evaluated is left out (and logged); the person's other shifts still show.
    per_schedule, _broken = selectors.each_schedule(
        schedules,
        lambda schedule, engine: [
            (schedule, shift)
            for shift in rotation.final_schedule(engine, start, end)
            if shift.person == user.username
        ],
    )
    entries = [entry for entries in per_schedule for entry in entries]
    entries.sort(key=lambda entry: (entry[1].start, entry[0].slug))
    return oncall_calendar(entries, name=f"On call: {user.username}", host=host, stamp=now)


def _host() -> str:
    return urlsplit(settings.PUBLIC_URL).hostname or "localhost"


def _calendar_response(body: str) -> HttpResponse:
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
def schedule_ics(request, slug: str, token: str) -> HttpResponse:
    schedule = selectors.schedule_by_feed_token(slug, token)
    if schedule is None:
        raise Http404("No such calendar.")
    body = schedule_feed(schedule, now=timezone.now(), host=_host())
    if body is None:
        # Not an empty calendar: that would make subscribed clients delete every shift they show.
        return HttpResponse(
            "This schedule cannot be evaluated right now; its owners can see why in the portal.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    return _calendar_response(body)


@require_GET
def person_ics(request, username: str, token: str) -> HttpResponse:
    feed = selectors.personal_feed_by_token(username, token)
    if feed is None:
        raise Http404("No such calendar.")
    schedules = selectors.schedules_with_person(feed.user)
    return _calendar_response(person_feed(feed.user, schedules, now=timezone.now(), host=_host()))
