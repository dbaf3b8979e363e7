"""Response metrics (MTTA, MTTR, SLA compliance per severity) and the admins' SLA targets."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from opsportal.core.forms import add_service_errors
from opsportal.core.roles import ADMINISTER
from opsportal.incidents import selectors as incident_selectors
from opsportal.incidents import sla_services
from opsportal.portal import incident_forms as f
from opsportal.portal.access import staff_required

CHART_ROW = 28  # px per bar in the SVG charts


def _chart(metrics, value_of: Callable, text_of: Callable) -> dict:
    values = [value_of(m) for m in metrics]
    top = max((v for v in values if v is not None), default=0) or 1
    rows = []
    for index, (m, value) in enumerate(zip(metrics, values, strict=True)):
        rows.append(
            {
                "severity": m.severity,
                "y": index * CHART_ROW,
                "text_y": index * CHART_ROW + 18,
                "width": round(300 * (value or 0) / top, 1),
                "text": text_of(m) if value is not None else "no data",
            }
        )
    return {"rows": rows, "height": max(len(rows), 1) * CHART_ROW}


def _duration(value) -> str:
    if value is None:
        return "no data"
    minutes = value.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


@staff_required()
def metrics(request):
    form = f.MetricsPeriodForm(request.GET or None)
    since, until = form.bounds()
    rows = incident_selectors.incident_metrics(since=since, until=until)
    table = [
        {
            "severity": m.severity,
            "incidents": m.incidents,
            "mtta": _duration(m.mtta),
            "mttr": _duration(m.mttr),
            "compliance": "no data" if m.sla_compliance is None else f"{m.sla_compliance:.0%}",
            "breaches": m.breaches,
        }
        for m in rows
    ]
    charts = [
        (
            "mtta",
            "Mean time to acknowledge",
            _chart(rows, lambda m: m.mtta and m.mtta.total_seconds(), lambda m: _duration(m.mtta)),
        ),
        (
            "mttr",
            "Mean time to resolve",
            _chart(rows, lambda m: m.mttr and m.mttr.total_seconds(), lambda m: _duration(m.mttr)),
        ),
        (
            "sla",
            "SLA compliance",
            _chart(rows, lambda m: m.sla_compliance, lambda m: f"{m.sla_compliance:.0%}"),
        ),
    ]
    return render(
        request,
        "portal/metrics.html",
        {"form": form, "since": since, "until": until, "table": table, "charts": charts},
        status=400 if form.is_bound and form.errors else 200,
    )


@staff_required(ADMINISTER)
def severity_settings(request):
    policies = list(incident_selectors.severity_policies())
    forms_by_severity = {
        p.severity: f.SeverityPolicyForm(
            initial={
                "detect_minutes": p.detect_minutes,
                "respond_minutes": p.respond_minutes,
                "resolve_minutes": p.resolve_minutes,
            },
            prefix=p.severity,
        )
        for p in policies
    }
    status = 200
    if request.method == "POST":
        policy = next((p for p in policies if p.severity == request.POST.get("severity")), None)
        if policy is None:
            raise Http404("No such severity.")
        form = f.SeverityPolicyForm(request.POST, prefix=policy.severity)
        forms_by_severity[policy.severity] = form
        if form.is_valid():
            try:
                sla_services.severity_policy_update(actor=request.user, policy=policy, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{policy.severity} SLA targets saved.")
                return redirect(reverse("portal:severity_settings"))
        status = 400
    rows = [{"policy": p, "form": forms_by_severity[p.severity]} for p in policies]
    return render(request, "portal/severity_settings.html", {"rows": rows}, status=status)
