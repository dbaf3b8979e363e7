"""Public status page views (no login). Each answer comes from the surge-proof cache, rendered from
public selectors only: no internal field can leak."""

from __future__ import annotations

from datetime import UTC, timedelta
from functools import lru_cache

from django.core.exceptions import BadRequest
from django.http import Http404
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from opsportal.core.bounds import date_param
from opsportal.incidents.lifecycle import public_status
from opsportal.incidents.selectors import public_active_incidents, public_incident
from statuspage.public.cache import cached_public_response
from statuspage.public.page_selectors import (
    active_maintenance,
    components_with_uptime,
    history_months,
    maintenance_with_updates,
    page_indicator,
    recent_days,
    upcoming_maintenance,
)
from statuspage.uptime import FORMULA
from statuspage.words import status_words


def _public_view(incident) -> dict:
    return {
        **_public_headline(incident),
        "resolved_at": incident.resolved_at,
        "updates": list(incident.public_updates.all()),
        "components": [(a.component.name, a.impact) for a in incident.affected_components.all()],
        "postmortem_summary": getattr(incident, "public_postmortem_summary", "") or "",
    }


def _public_headline(incident) -> dict:
    """What a list of past incidents shows: no updates, no components (`recent_days`, `history_months`)."""
    published = getattr(incident, "public_postmortem_summary", "") or ""
    return {
        "id": incident.pk,
        "title": incident.public_title,
        "status": public_status(incident.status, postmortem_published=bool(published)),
        "started_at": incident.started_at,
    }


@lru_cache(maxsize=4096)
def _incident_link(incident_id: int, script_prefix: str) -> str:
    # The past-incidents list links a couple of hundred incidents, the same ones render after render, and
    # each reverse() costs a tenth of a millisecond: every link is reversed once per process.
    return reverse("public_incident", args=[incident_id])


def _history_lines(incidents) -> list[dict]:
    """The history's lines with their text made here: a month lists hundreds of incidents, and a url tag,
    two date filters and a status filter per line in the template were most of the page's time (issue 11)."""
    placeholder = 999_999_999
    link = reverse("public_incident", args=[placeholder]).replace(str(placeholder), "{}")
    lines = []
    for incident in incidents:
        headline = _public_headline(incident)
        at = headline["started_at"].astimezone(UTC)
        lines.append(
            {
                "href": link.format(headline["id"]),
                "title": headline["title"],
                "status": status_words(headline["status"]),
                "iso": at.isoformat(),
                "when": f"{at:%b} {at.day}, {at:%H:%M}",
            }
        )
    return lines


def _home_context() -> dict:
    groups = components_with_uptime()
    components = [row.component for group in groups for row in group.rows]
    indicator, description = page_indicator(components)
    return {
        "indicator": indicator,
        "description": description,
        "groups": groups,
        "incidents": [_public_view(i) for i in public_active_incidents()],
        "active_maintenance": list(active_maintenance()),
        "upcoming_maintenance": list(upcoming_maintenance()),
        "recent_days": [
            (
                day,
                [
                    {**_public_headline(i), "url": _incident_link(i.pk, get_script_prefix())}
                    for i in incidents
                ],
            )
            for day, incidents in recent_days()
        ],
        "uptime_formula": FORMULA,
        "rendered_at": timezone.now(),
    }


def status_home(request):
    return cached_public_response(
        request, "home", lambda: render(request, "statuspage/home.html", _home_context())
    )


def incident_page(request, incident_id: int):
    def render_page():
        incident = public_incident(incident_id)
        if incident is None:
            raise Http404("No such public incident")
        return render(
            request,
            "statuspage/incident.html",
            {"incident": _public_view(incident), "rendered_at": timezone.now()},
        )

    return cached_public_response(request, f"incident:{incident_id}", render_page)


def maintenance_page(request, window_id: int):
    def render_page():
        window = maintenance_with_updates().filter(pk=window_id).first()
        if window is None:
            raise Http404("No such maintenance")
        return render(
            request, "statuspage/maintenance.html", {"window": window, "rendered_at": timezone.now()}
        )

    return cached_public_response(request, f"maintenance:{window_id}", render_page)


def history(request):
    raw = request.GET.get("before", "")
    try:
        before = date_param(f"{raw}-01" if raw else None)
    except ValueError:
        # A month we cannot mean (year 9999, "abc"): a clear 400, never a page computed from nonsense.
        raise BadRequest("Give the month as YYYY-MM.") from None
    name = f"history:{before.isoformat() if before else 'latest'}"

    def render_page():
        months = history_months(before=before)
        oldest_month = months[-1][0]
        return render(
            request,
            "statuspage/history.html",
            {
                "months": [
                    (month, _history_lines(incidents), windows) for month, incidents, windows in months
                ],
                "older": f"{oldest_month - timedelta(days=1):%Y-%m}",
                "rendered_at": timezone.now(),
            },
        )

    return cached_public_response(request, name, render_page)
