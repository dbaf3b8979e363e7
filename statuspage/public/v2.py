"""The Statuspage-compatible public JSON (/api/v2/*.json): one plain function per payload, public reads only."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from opsportal.changes.lifecycle import ACTIVE as MAINTENANCE_ACTIVE
from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.incidents.lifecycle import public_status
from opsportal.incidents.selectors import public_active_incidents, public_incidents
from statuspage.indicator import FROM_COMPONENT, RANK, incident_impact, overall_indicator
from statuspage.selectors import (
    maintenance_windows_in,
    maintenance_windows_recent,
    public_component_groups,
    public_component_ids,
    public_components,
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


def timestamp(value: datetime | None) -> str | None:
    """Statuspage's timestamps: ISO 8601 with milliseconds, in the page's time zone ("Z" for UTC)."""
    if value is None:
        return None
    text = value.astimezone(ZoneInfo(settings.STATUSPAGE_TIME_ZONE)).isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def group_id(group_pk: int) -> str:
    # Groups and components share one id space in Statuspage; ours are two tables, so groups get a prefix.
    return f"group-{group_pk}"


def page() -> dict:
    return {
        "id": settings.STATUSPAGE_ID,
        "name": settings.STATUSPAGE_NAME,
        "url": settings.PUBLIC_URL,
        "time_zone": settings.STATUSPAGE_TIME_ZONE,
        "updated_at": timestamp(public_last_change()),
    }


def component_object(component) -> dict:
    return {
        "id": str(component.pk),
        "name": component.name,
        "status": component.status,
        "created_at": timestamp(component.created_at),
        "updated_at": timestamp(component.updated_at),
        "position": component.position,
        "description": component.description or None,
        "showcase": component.showcase,
        "start_date": _date(component.start_date),
        "group_id": group_id(component.group_id) if component.group_id else None,
        "page_id": settings.STATUSPAGE_ID,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
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


def _affected_components(changes: list[dict], public_ids: set[int]) -> list[dict] | None:
    # Statuspage says null, not [], when an update changed no component.
    listed = [
        {
            "code": str(change["component_id"]),
            "name": change["name"],
            "old_status": change.get("old_status") or change["status"],
            "new_status": change["status"],
        }
        for change in changes or []
        if change.get("component_id") in public_ids
    ]
    return listed or None


def _update_object(update, *, parent_id: str, affected: list[dict] | None) -> dict:
    return {
        "id": str(update.pk),
        "status": update.status,
        "body": update.body,
        "incident_id": parent_id,
        "created_at": timestamp(update.created_at),
        "updated_at": timestamp(update.created_at),
        "display_at": timestamp(update.created_at),
        "affected_components": affected,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _newest_first(updates) -> list:
    return sorted(updates, key=lambda u: (u.created_at, u.pk), reverse=True)


def incident_object(incident, *, public_component_ids: set[int]) -> dict:
    """An incident as Statuspage shows it, from public fields and public updates only."""
    incident_id = str(incident.pk)
    status = public_status(
        incident.status, postmortem_published=bool(getattr(incident, "public_postmortem_summary", ""))
    )
    updates = _newest_first(incident.public_updates.all())
    affected = [a.component for a in incident.affected_components.all() if a.component.showcase]
    monitoring = [u.created_at for u in updates if u.status == "monitoring"]
    resolved = status in ("resolved", "postmortem")
    last_public = max([u.created_at for u in updates], default=incident.created_at)
    if resolved and incident.resolved_at:
        last_public = max(last_public, incident.resolved_at)
    return {
        "id": incident_id,
        "name": incident.public_title,
        "status": status,
        "created_at": timestamp(incident.created_at),
        "updated_at": timestamp(last_public),
        "monitoring_at": timestamp(min(monitoring)) if monitoring else None,
        "resolved_at": timestamp(incident.resolved_at) if resolved else None,
        "impact": incident_impact(incident.severity),
        "shortlink": f"{settings.PUBLIC_URL}/incidents/{incident.pk}/",
        "started_at": timestamp(incident.started_at),
        "page_id": settings.STATUSPAGE_ID,
        "incident_updates": [
            _update_object(
                u,
                parent_id=incident_id,
                affected=_affected_components(u.component_statuses, public_component_ids),
            )
            for u in updates
        ],
        "components": [component_object(c) for c in affected],
        "reminder_intervals": None,
    }


def maintenance_object(window) -> dict:
    """A maintenance window as Statuspage's scheduled maintenance: an incident with impact "maintenance"."""
    window_id = str(window.pk)
    updates = _newest_first(window.updates.all())
    return {
        "id": window_id,
        "name": window.title,
        "status": window.status,
        "created_at": timestamp(window.created_at),
        "updated_at": timestamp(window.updated_at),
        "monitoring_at": None,
        "resolved_at": timestamp(window.completed_at),
        "impact": "maintenance",
        "shortlink": f"{settings.PUBLIC_URL}/maintenance/{window.pk}/",
        "started_at": timestamp(window.started_at or window.scheduled_for),
        "page_id": settings.STATUSPAGE_ID,
        "incident_updates": [_update_object(u, parent_id=window_id, affected=None) for u in updates],
        "components": [component_object(c) for c in window.components.all()],
        "scheduled_for": timestamp(window.scheduled_for),
        "scheduled_until": timestamp(window.scheduled_until),
        "reminder_intervals": None,
    }


def _status(*, component_statuses: list[str], unresolved: list, active_maintenance: list) -> dict:
    indicator, description = overall_indicator(
        component_statuses=component_statuses,
        incident_impacts=[incident_impact(i.severity) for i in unresolved],
        maintenance_in_progress=bool(active_maintenance),
    )
    return {"indicator": indicator, "description": description}


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
        "status": _status(
            component_statuses=[c["status"] for c in components if not c["group"]],
            unresolved=unresolved,
            active_maintenance=active,
        ),
    }


def status() -> dict:
    return {
        "page": page(),
        "status": _status(
            component_statuses=[c.status for c in public_components()],
            unresolved=list(public_active_incidents().only("id", "severity").prefetch_related(None)),
            active_maintenance=maintenance_windows_in(statuses=ACTIVE),
        ),
    }


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
