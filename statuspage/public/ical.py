"""The maintenance calendar (/maintenance.ics): RFC 5545, written by hand. Formatting helpers are pure."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse

from statuspage.public.api_v2_views import public_cors_view
from statuspage.selectors import maintenance_windows_recent

WINDOWS_IN_CALENDAR = 200
MAX_LINE_OCTETS = 75
PRODID = "-//opsportal//Status page maintenance//EN"


def escape_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT: backslash, semicolon, comma and newlines are escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next line after CRLF and one space.

    Folding counts UTF-8 octets and never splits a character.
    """
    parts, current, size = [], "", 0
    for char in line:
        octets = len(char.encode("utf-8"))
        limit = MAX_LINE_OCTETS if not parts else MAX_LINE_OCTETS - 1  # continuation lines start with a space
        if size + octets > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += octets
    parts.append(current)
    return "\r\n ".join(parts)


def utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(window, *, host: str) -> list[str]:
    url = f"{settings.PUBLIC_URL}/maintenance/{window.pk}/"
    components = ", ".join(c.name for c in window.components.all())
    description = window.body + (f"\n\nAffected: {components}" if components else "") + f"\n\n{url}"
    return [
        "BEGIN:VEVENT",
        f"UID:maintenance-{window.pk}@{host}",
        # Without a METHOD, DTSTAMP is when the event was last revised (§3.8.7.2): stable between requests.
        f"DTSTAMP:{utc(window.updated_at)}",
        f"LAST-MODIFIED:{utc(window.updated_at)}",
        f"CREATED:{utc(window.created_at)}",
        f"DTSTART:{utc(window.scheduled_for)}",
        f"DTEND:{utc(window.scheduled_until)}",
        f"SUMMARY:{escape_text('Maintenance: ' + window.title)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        f"STATUS:{'CANCELLED' if window.status == 'cancelled' else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]


def maintenance_calendar(windows, *, host: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape_text(settings.STATUSPAGE_NAME + ' maintenance')}",
    ]
    for window in windows:
        lines += _event_lines(window, host=host)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _render(request) -> HttpResponse:
    host = urlsplit(settings.PUBLIC_URL).hostname or "localhost"
    windows = maintenance_windows_recent(limit=WINDOWS_IN_CALENDAR, include_cancelled=True)
    return HttpResponse(
        maintenance_calendar(windows, host=host).encode("utf-8"), content_type="text/calendar; charset=utf-8"
    )


maintenance_ics = public_cors_view("maintenance.ics", _render)
