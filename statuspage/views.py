"""Public status page views (no login). They read only public selectors: no internal field can leak."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from opsportal.incidents.lifecycle import public_status
from opsportal.incidents.selectors import public_active_incidents, public_incident
from statuspage.models import ComponentStatus
from statuspage.selectors import component_groups_with_components, ungrouped_components

SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}
BANNERS = {
    ComponentStatus.OPERATIONAL: "All Systems Operational",
    ComponentStatus.UNDER_MAINTENANCE: "Service Under Maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "Minor Service Outage",
    ComponentStatus.PARTIAL_OUTAGE: "Partial System Outage",
    ComponentStatus.MAJOR_OUTAGE: "Major System Outage",
}


def _public_view(incident) -> dict:
    published = getattr(incident, "public_postmortem_summary", "")
    return {
        "id": incident.pk,
        "title": incident.public_title,
        "status": public_status(incident.status, postmortem_published=bool(published)),
        "started_at": incident.started_at,
        "resolved_at": incident.resolved_at,
        "updates": list(incident.public_updates.all()),
        "components": [(a.component.name, a.impact) for a in incident.affected_components.all()],
        "postmortem_summary": published,
    }


def status_home(request):
    groups = component_groups_with_components(public_only=True)
    ungrouped = list(ungrouped_components(public_only=True))
    statuses = [c.status for g in groups for c in g.components.all()] + [c.status for c in ungrouped]
    worst = max(statuses, key=lambda s: SEVERITY[s], default=ComponentStatus.OPERATIONAL)
    incidents = [_public_view(incident) for incident in public_active_incidents()]
    return render(
        request,
        "statuspage/home.html",
        {
            "groups": groups,
            "ungrouped": ungrouped,
            "banner": BANNERS[worst],
            "worst": worst,
            "incidents": incidents,
        },
    )


def incident_page(request, incident_id: int):
    incident = public_incident(incident_id)
    if incident is None:
        raise Http404("No such public incident")
    return render(request, "statuspage/incident.html", {"incident": _public_view(incident)})
