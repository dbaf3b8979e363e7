"""Status page writes: component status changes (always recorded, for uptime)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opsportal.core.live import broadcast_on_commit
from opsportal.core.services import audit_record, require_permission
from statuspage.models import Component, ComponentStatus, ComponentStatusChange
from statuspage.publishing import statuspage_changed


@transaction.atomic
def component_set_status(
    *, actor, component: Component, status: str, at: datetime | None = None
) -> Component:
    require_permission(actor, "core.respond")
    if status not in ComponentStatus.values:
        raise ValidationError(
            {"status": f"Unknown status {status!r}; use one of {', '.join(ComponentStatus.values)}."}
        )
    component = Component.objects.select_for_update().get(pk=component.pk)
    if component.status == status:
        return component
    previous = component.status
    component.status = status
    component.save(update_fields=["status", "updated_at"])
    ComponentStatusChange.objects.create(
        component=component, status=status, previous_status=previous, at=at or timezone.now()
    )
    audit_record(
        actor=actor,
        action="component.status_changed",
        obj=component,
        before={"status": previous},
        after={"status": status},
    )
    broadcast_on_commit("staff", {"kind": "component.status", "component": component.name, "status": status})
    statuspage_changed("component.status")
    return component
