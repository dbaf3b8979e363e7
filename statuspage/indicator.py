"""The page's overall indicator, Statuspage style, from components, incidents and maintenance. Pure."""

from __future__ import annotations

from collections.abc import Iterable

# Statuspage's indicators and the descriptions its pages show for them.
DESCRIPTIONS = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
FROM_COMPONENT = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
# An incident's impact (Statuspage: none/minor/major/critical) from our severity.
IMPACT_FROM_SEVERITY = {"P0": "critical", "P1": "major", "P2": "minor", "P3": "none", "P4": "none"}


def incident_impact(severity: str) -> str:
    return IMPACT_FROM_SEVERITY.get(severity, "none")


def overall_indicator(
    *,
    component_statuses: Iterable[str],
    incident_impacts: Iterable[str] = (),
    maintenance_in_progress: bool = False,
) -> tuple[str, str]:
    """(indicator, description): the worst of the components, the unresolved incidents and maintenance."""
    candidates = [FROM_COMPONENT[status] for status in component_statuses]
    candidates += list(incident_impacts)
    if maintenance_in_progress:
        candidates.append("maintenance")
    indicator = max(candidates, key=RANK.__getitem__, default="none")
    return indicator, DESCRIPTIONS[indicator]
