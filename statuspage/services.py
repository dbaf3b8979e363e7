"""Status page writes: component status changes (always recorded, for uptime), and staff curating the
components and groups the public page shows."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.core.live import broadcast_on_commit
from opsportal.core.public_content import public_content_changed
from opsportal.core.roles import ADMINISTER, RESPOND
from opsportal.core.services import audit_record, require_permission
from statuspage.models import Component, ComponentGroup, ComponentStatus, ComponentStatusChange
from statuspage.notify import notify_component_status


@transaction.atomic
def component_set_status(
    *, actor, component: Component, status: str, at: datetime | None = None, notify: bool = True
) -> Component:
    require_permission(actor, RESPOND)
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
    change = ComponentStatusChange.objects.create(
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
    public_content_changed("component.status")
    if notify:
        # Incidents and maintenance send their own notification for the change; plain changes send this one.
        notify_component_status(component=component, change=change)
    return component


# Curating components and groups. Status is not edited here: it only changes through component_set_status,
# so every change lands in the history that uptime is computed from.

NAME_MAX_LENGTH = 100


def _clean_name(name: str, *, model, exclude_pk: int | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give it a name."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Keep the name to {NAME_MAX_LENGTH} characters."})
    # Case-insensitive: "Payouts" and "payouts" side by side would only confuse merchants.
    clash = model.objects.filter(name__iexact=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": f"There is already a {model._meta.verbose_name} called {name!r}."})
    return name


def _check_position(position: int) -> int:
    if position is None or position < 0:
        raise ValidationError({"position": "Position is a whole number, 0 or more."})
    return position


def _save_unique(obj, *, update_fields: list[str] | None = None) -> None:
    """Save; a name taken by a concurrent request since the check becomes the same ValidationError."""
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"There is already a {obj._meta.verbose_name} called {obj.name!r}."}
        ) from exc


def _group_state(group: ComponentGroup) -> dict:
    return {"name": group.name, "description": group.description, "position": group.position}


def _component_state(component: Component) -> dict:
    return {
        "name": component.name,
        "description": component.description,
        "group": component.group.name if component.group_id else None,
        "position": component.position,
        "showcase": component.showcase,
        "only_show_if_degraded": component.only_show_if_degraded,
        "start_date": component.start_date.isoformat() if component.start_date else None,
    }


def _changed(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


@transaction.atomic
def component_group_create(*, actor, name: str, description: str = "", position: int = 0) -> ComponentGroup:
    require_permission(actor, ADMINISTER)
    group = ComponentGroup(
        name=_clean_name(name, model=ComponentGroup, exclude_pk=None),
        description=description.strip(),
        position=_check_position(position),
    )
    _save_unique(group)
    audit_record(actor=actor, action="component_group.created", obj=group, after=_group_state(group))
    public_content_changed("component_group.created")
    return group


@transaction.atomic
def component_group_update(
    *, actor, group: ComponentGroup, name: str, description: str, position: int
) -> ComponentGroup:
    require_permission(actor, ADMINISTER)
    group = ComponentGroup.objects.select_for_update().get(pk=group.pk)
    before = _group_state(group)
    group.name = _clean_name(name, model=ComponentGroup, exclude_pk=group.pk)
    group.description = description.strip()
    group.position = _check_position(position)
    before, after = _changed(before, _group_state(group))
    if not after:
        return group
    _save_unique(group, update_fields=[*after, "updated_at"])
    audit_record(actor=actor, action="component_group.updated", obj=group, before=before, after=after)
    public_content_changed("component_group.updated")
    return group


@transaction.atomic
def component_create(
    *,
    actor,
    name: str,
    description: str = "",
    group: ComponentGroup | None = None,
    position: int = 0,
    showcase: bool = True,
    only_show_if_degraded: bool = False,
    start_date: date | None = None,
) -> Component:
    """A new component starts operational; its first status change is recorded like any other."""
    require_permission(actor, ADMINISTER)
    component = Component(
        name=_clean_name(name, model=Component, exclude_pk=None),
        description=description.strip(),
        group=group,
        position=_check_position(position),
        showcase=showcase,
        only_show_if_degraded=only_show_if_degraded,
        start_date=start_date,
    )
    _save_unique(component)
    audit_record(actor=actor, action="component.created", obj=component, after=_component_state(component))
    public_content_changed("component.created")
    return component


@transaction.atomic
def component_update(
    *,
    actor,
    component: Component,
    name: str,
    description: str,
    group: ComponentGroup | None,
    position: int,
    showcase: bool,
    only_show_if_degraded: bool,
    start_date: date | None,
) -> Component:
    require_permission(actor, ADMINISTER)
    component = Component.objects.select_for_update().get(pk=component.pk)
    before = _component_state(component)
    component.name = _clean_name(name, model=Component, exclude_pk=component.pk)
    component.description = description.strip()
    component.group = group
    component.position = _check_position(position)
    component.showcase = showcase
    component.only_show_if_degraded = only_show_if_degraded
    component.start_date = start_date
    before, after = _changed(before, _component_state(component))
    if not after:
        return component
    _save_unique(component, update_fields=[*after, "updated_at"])
    audit_record(actor=actor, action="component.updated", obj=component, before=before, after=after)
    public_content_changed("component.updated")
    return component
