"""Alert pages: the live alert stream and one alert group's page (built for a phone at 3 a.m.: one tap to
acknowledge, then the summary, details, runbooks and the escalation so far). Thin: the alerting services
decide every action, selectors read. Times are shown in the viewer's own zone, named on the page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from oncall import alert_selectors as selectors
from oncall import alerting, paging
from oncall import selectors as oncall_selectors
from oncall.models import AlertGroup, Escalation
from opsportal.core.exceptions import Conflict
from opsportal.core.forms import refusal_text
from opsportal.core.roles import RESPOND
from opsportal.portal import alert_forms as f
from opsportal.portal.access import staff_required

PAGE_SIZE = 50
DECLARABLE = ("P0", "P1")
SAFE_LINK_SCHEMES = ("https://", "http://")
MAX_DETAILS_SHOWN = 100
DETAIL_VALUE_MAX = 2000


def viewer_zone(request) -> str:
    username = request.user.get_username()
    return oncall_selectors.time_zones_of([username]).get(username, "UTC")


# --- the stream -------------------------------------------------------------------------------------------------


@staff_required()
def alert_list(request):
    form = f.StreamFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else f.StreamFilters()
    page = Paginator(selectors.alert_stream(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "viewer_zone": viewer_zone(request),
        "may_act": request.user.has_perm(RESPOND),
        "now": timezone.now(),
    }
    # The polling refresh (and the filter form) swap in the results alone.
    partial = request.htmx and not request.htmx.boosted
    return render(
        request,
        "portal/alerts/_stream.html" if partial else "portal/alerts/list.html",
        context,
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# --- one alert group ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    at: datetime
    level_number: int
    pass_number: int
    targets: list[str]


def _safe_links(links) -> tuple[list[dict], list[dict]]:
    """(runbooks, other links): only http(s) links become anchors (a javascript: URL from a monitoring payload
    must never be one tap away); links whose text or address says "runbook" come first."""
    runbooks, others = [], []
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict):
            continue
        href = str(link.get("href") or "")[:2000]
        text = str(link.get("text") or href)[:300]
        item = {"href": href if href.lower().startswith(SAFE_LINK_SCHEMES) else "", "text": text or href}
        if "runbook" in href.lower() or "runbook" in text.lower():
            runbooks.append(item)
        else:
            others.append(item)
    return runbooks, others


def _shown_value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= DETAIL_VALUE_MAX else text[:DETAIL_VALUE_MAX] + "…"


def _pairs(mapping) -> list[tuple[str, str]]:
    if not isinstance(mapping, dict):
        return []
    return [(str(key)[:200], _shown_value(value)) for key, value in list(mapping.items())[:MAX_DETAILS_SHOWN]]


def _next_step(escalation) -> NextStep | None:
    if escalation is None or escalation.status != Escalation.Status.ACTIVE or escalation.next_step_at is None:
        return None
    levels = (escalation.snapshot or {}).get("levels") or []
    level = levels[escalation.level_index] if escalation.level_index < len(levels) else {}
    targets = [str(t.get("label") or t.get("kind") or "") for t in level.get("targets") or []]
    return NextStep(escalation.next_step_at, escalation.level_index + 1, escalation.pass_number + 1, targets)


def _group_context(request, group: AlertGroup, **extra) -> dict:
    zone = extra.pop("zone", None) or viewer_zone(request)
    runbooks, links = _safe_links(group.links)
    escalation = selectors.alert_group_escalation(group)
    context = {
        "group": group,
        "viewer_zone": zone,
        "may_act": request.user.has_perm(RESPOND),
        "declarable": group.is_open and group.incident_id is None and group.incident_severity in DECLARABLE,
        "runbooks": runbooks,
        "links": links,
        "details": _pairs(group.details),
        "labels": _pairs(group.labels),
        "log": selectors.alert_group_log(group),
        "pages": paging.pages_of(group),
        "escalation": escalation,
        "next_step": _next_step(escalation),
        "events": selectors.alert_group_events(group),
        "snooze_form": f.SnoozeForm(zone=zone),
        "action_error": None,
    }
    context.update(extra)
    return context


@staff_required()
def alert_group_detail(request, group_id: int):
    group = selectors.alert_group_or_404(group_id)
    return render(request, "portal/alerts/detail.html", _group_context(request, group))


@staff_required()
def alert_group_escalation_panel(request, group_id: int):
    """The status and the escalation so far, refreshed in place by the page every few seconds."""
    group = selectors.alert_group_or_404(group_id)
    # The status line above the actions rides along out of band, so a colleague's ack shows too.
    return render(request, "portal/alerts/_group_live.html", _group_context(request, group, oob=True))


ACTIONS = {
    "acknowledge": (alerting.alert_group_acknowledge, "Acknowledged: escalation stopped."),
    "resolve": (alerting.alert_group_resolve, "Resolved."),
    "escalate": (alerting.alert_group_escalate, "Escalated: the next level is being paged."),
}


def _refused(request, group: AlertGroup, text: str, status: int):
    if request.htmx and request.POST.get("from") == "stream":
        return render(
            request,
            "portal/alerts/_stream_row.html",
            {"group": group, "may_act": True, "row_error": text, "viewer_zone": viewer_zone(request)},
            status=status,
        )
    group = selectors.alert_group_or_404(group.pk)
    return render(
        request, "portal/alerts/detail.html", _group_context(request, group, action_error=text), status=status
    )


def _done(request, group: AlertGroup, text: str):
    if request.htmx and request.POST.get("from") == "stream":
        group = selectors.alert_group_or_404(group.pk)
        return render(
            request,
            "portal/alerts/_stream_row.html",
            {"group": group, "may_act": True, "viewer_zone": viewer_zone(request), "now": timezone.now()},
        )
    messages.success(request, text)
    if request.POST.get("from") == "stream":
        return redirect("portal:alert_list")
    return redirect("portal:alert_group", group_id=group.pk)


@require_POST
@staff_required(RESPOND)
def alert_group_act(request, group_id: int, action: str):
    group = selectors.alert_group_or_404(group_id)
    if action not in ACTIONS:
        return _refused(request, group, "Unknown action.", 400)
    service, text = ACTIONS[action]
    try:
        service(actor=request.user, group=group, via="portal")
    except (ValidationError, Conflict) as exc:
        return _refused(request, group, refusal_text(exc), 409 if isinstance(exc, Conflict) else 400)
    return _done(request, group, text)


@require_POST
@staff_required(RESPOND)
def alert_group_snooze(request, group_id: int):
    group = selectors.alert_group_or_404(group_id)
    zone = viewer_zone(request)
    form = f.SnoozeForm(request.POST, zone=zone)
    if not form.is_valid() or "until_instant" not in form.cleaned_data:
        context = _group_context(request, group, zone=zone, snooze_form=form)
        return render(request, "portal/alerts/detail.html", context, status=400)
    until = form.cleaned_data["until_instant"]
    try:
        alerting.alert_group_snooze(actor=request.user, group=group, until=until, via="portal")
    except (ValidationError, Conflict) as exc:
        return _refused(request, group, refusal_text(exc), 409 if isinstance(exc, Conflict) else 400)
    local = timezone.localtime(until, timezone=ZoneInfo(zone))
    return _done(request, group, f"Snoozed until {local:%H:%M} ({zone}).")


@require_POST
@staff_required(RESPOND)
def alert_group_declare(request, group_id: int):
    group = selectors.alert_group_or_404(group_id)
    try:
        alerting.alert_group_declare_incident(actor=request.user, group=group)
    except (ValidationError, Conflict) as exc:
        return _refused(request, group, refusal_text(exc), 409 if isinstance(exc, Conflict) else 400)
    group = selectors.alert_group_or_404(group.pk)
    if group.incident_id:
        messages.success(request, f"Incident {group.incident.reference} declared for this alert.")
        return redirect("portal:incident_detail", incident_id=group.incident_id)
    return _done(request, group, "Incident declared.")
