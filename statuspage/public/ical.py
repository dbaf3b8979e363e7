"""The maintenance calendar (/maintenance.ics): RFC 5545, written by hand. Formatting helpers are in core."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse

from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.core.icalendar_text import escape_text, fold, utc
from statuspage.public.api_v2_views import public_cors_view
from statuspage.selectors import maintenance_windows_recent

WINDOWS_IN_CALENDAR = 200
PRODID = "-//opsportal//Status page maintenance//EN"


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
        f"STATUS:{'CANCELLED' if window.status == MaintenanceStatus.CANCELLED else 'CONFIRMED'}",
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
