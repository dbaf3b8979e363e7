"""The Statuspage-compatible public JSON (/api/v2/*.json): one plain function per payload, public reads only."""

from __future__ import annotations

from django.conf import settings

from opsportal.changes.lifecycle import ACTIVE as MAINTENANCE_ACTIVE
from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.incidents.selectors import public_active_incidents, public_incidents
from statuspage.indicator import FROM_COMPONENT, RANK
from statuspage.payloads import (
    component_object,
    group_id,
    incident_object,
    maintenance_object,
    page_status,
    status_object,
    timestamp,
)
from statuspage.selectors import (
    maintenance_windows_in,
    maintenance_windows_recent,
    public_component_groups,
    public_component_ids,
    public_last_change,
    ungrouped_components,
)

# Statuspage's list limits.
INCIDENTS_LIMIT = 50
MAINTENANCES_LIMIT = 50
# Statuspage has no "cancelled" maintenance status, so cancelled windows stay out of the JSON (a client
# written for Statuspage would not know the value); the feeds and the calendar do announce them.
UPCOMING = [MaintenanceStatus.SCHEDULED.value]
ACTIVE = [status.value for status in MAINTENANCE_ACTIVE]


def page() -> dict:
    return {
        "id": settings.STATUSPAGE_ID,
        "name": settings.STATUSPAGE_NAME,
        "url": settings.PUBLIC_URL,
        "time_zone": settings.STATUSPAGE_TIME_ZONE,
        "updated_at": timestamp(public_last_change()),
    }


def _group_object(group, children: list) -> dict:
    worst = max((c.status for c in children), key=lambda s: RANK[FROM_COMPONENT[s]], default="operational")
    return {
        "id": group_id(group.pk),
        "name": group.name,
        "status": worst,
        "created_at": timestamp(group.created_at),
        "updated_at": timestamp(max([group.updated_at] + [c.updated_at for c in children])),
        "position": group.position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": settings.STATUSPAGE_ID,
        "group": True,
        "only_show_if_degraded": False,
        "components": [str(c.pk) for c in children],
    }


def _component_list() -> list[dict]:
    """Top level (groups and ungrouped components) by position, each group followed by its components."""
    top = [((c.position, c.name), [component_object(c)]) for c in ungrouped_components(public_only=True)]
    for group in public_component_groups():
        children = list(group.components.all())
        top.append(
            (
                (group.position, group.name),
                [_group_object(group, children)] + [component_object(c) for c in children],
            )
        )
    return [row for _, rows in sorted(top, key=lambda entry: entry[0]) for row in rows]


def _incident_list(incidents) -> list[dict]:
    ids = public_component_ids()
    return [incident_object(incident, public_component_ids=ids) for incident in incidents]


# The payloads, one per endpoint.


def summary() -> dict:
    components = _component_list()
    unresolved = list(public_active_incidents())
    maintenances = maintenance_windows_in(statuses=UPCOMING + ACTIVE)
    active = [w for w in maintenances if w.status in ACTIVE]
    return {
        "page": page(),
        "components": components,
        "incidents": _incident_list(unresolved),
        "scheduled_maintenances": [maintenance_object(w) for w in maintenances],
        "status": status_object(
            component_statuses=[c["status"] for c in components if not c["group"]],
            unresolved=unresolved,
            active_maintenance=active,
        ),
    }


def status() -> dict:
    return {"page": page(), "status": page_status()}


def components() -> dict:
    return {"page": page(), "components": _component_list()}


def incidents() -> dict:
    return {"page": page(), "incidents": _incident_list(public_incidents()[:INCIDENTS_LIMIT])}


def incidents_unresolved() -> dict:
    return {"page": page(), "incidents": _incident_list(public_active_incidents())}


def scheduled_maintenances() -> dict:
    windows = maintenance_windows_recent(limit=MAINTENANCES_LIMIT)
    return {"page": page(), "scheduled_maintenances": [maintenance_object(w) for w in windows]}


def scheduled_maintenances_upcoming() -> dict:
    windows = maintenance_windows_in(statuses=UPCOMING)
    return {"page": page(), "scheduled_maintenances": [maintenance_object(w) for w in windows]}


def scheduled_maintenances_active() -> dict:
    windows = maintenance_windows_in(statuses=ACTIVE)
    return {"page": page(), "scheduled_maintenances": [maintenance_object(w) for w in windows]}
