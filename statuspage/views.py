"""Public status page views (no login)."""

from __future__ import annotations

from django.shortcuts import render

from statuspage.models import ComponentStatus
from statuspage.selectors import component_groups_with_components, ungrouped_components

SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}


def status_home(request):
    groups = component_groups_with_components(public_only=True)
    ungrouped = list(ungrouped_components(public_only=True))
    statuses = [c.status for g in groups for c in g.components.all()] + [c.status for c in ungrouped]
    worst = max(statuses, key=lambda s: SEVERITY[s], default=ComponentStatus.OPERATIONAL)
    banner = {
        ComponentStatus.OPERATIONAL: "All Systems Operational",
        ComponentStatus.UNDER_MAINTENANCE: "Service Under Maintenance",
        ComponentStatus.DEGRADED_PERFORMANCE: "Minor Service Outage",
        ComponentStatus.PARTIAL_OUTAGE: "Partial System Outage",
        ComponentStatus.MAJOR_OUTAGE: "Major System Outage",
    }[worst]
    return render(
        request,
        "statuspage/home.html",
        {"groups": groups, "ungrouped": ungrouped, "banner": banner, "worst": worst},
    )
