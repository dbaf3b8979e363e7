"""Statuspage's object shapes (component, incident, maintenance, page status), from public fields only.

The public JSON (statuspage.public.v2) lists them per endpoint; subscriber webhooks (statuspage.notify) carry
them in their bodies, so both say the same thing in the same words.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from opsportal.changes.lifecycle import ACTIVE as MAINTENANCE_ACTIVE
from opsportal.incidents.lifecycle import PUBLIC_OVER, IncidentStatus, public_status
from opsportal.incidents.selectors import public_active_incidents
from statuspage.indicator import incident_impact, overall_indicator
from statuspage.selectors import maintenance_windows_in, public_components


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
    monitoring = [u.created_at for u in updates if u.status == IncidentStatus.MONITORING]
    resolved = status in PUBLIC_OVER
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


def status_object(*, component_statuses: list[str], unresolved: list, active_maintenance: list) -> dict:
    indicator, description = overall_indicator(
        component_statuses=component_statuses,
        incident_impacts=[incident_impact(i.severity) for i in unresolved],
        maintenance_in_progress=bool(active_maintenance),
    )
    return {"indicator": indicator, "description": description}


def page_status() -> dict:
    """The page's overall indicator right now (Statuspage's `status` object)."""
    return status_object(
        component_statuses=[c.status for c in public_components()],
        unresolved=list(public_active_incidents().only("id", "severity").prefetch_related(None)),
        active_maintenance=maintenance_windows_in(statuses=[status.value for status in MAINTENANCE_ACTIVE]),
    )
