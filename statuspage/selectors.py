"""Status page reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from opsportal.incidents.lifecycle import NEVER_PUBLIC
from opsportal.incidents.models import PublicUpdate
from statuspage.models import Component, ComponentGroup


def components_for_listing() -> QuerySet[Component]:
    return Component.objects.select_related("group")


def component_groups_with_components(*, public_only: bool = False) -> list[ComponentGroup]:
    components = Component.objects.order_by("position", "name")
    if public_only:
        components = components.filter(showcase=True)
    return list(ComponentGroup.objects.prefetch_related(Prefetch("components", queryset=components)))


def ungrouped_components(*, public_only: bool = False) -> QuerySet[Component]:
    components = Component.objects.filter(group__isnull=True).order_by("position", "name")
    return components.filter(showcase=True) if public_only else components


# Public reads for the Statuspage-compatible JSON, the feeds and the calendar. Only showcase components are public.


def public_components() -> list[Component]:
    return list(Component.objects.filter(showcase=True).order_by("position", "name"))


def public_component_groups() -> list[ComponentGroup]:
    """Groups with at least one public component (an empty group says nothing to the public)."""
    return [group for group in component_groups_with_components(public_only=True) if group.components.all()]


def _public_maintenance_windows() -> QuerySet[MaintenanceWindow]:
    return MaintenanceWindow.objects.only(
        "id",
        "title",
        "body",
        "scheduled_for",
        "scheduled_until",
        "status",
        "started_at",
        "completed_at",
        "created_at",
        "updated_at",
    ).prefetch_related(
        Prefetch("components", queryset=Component.objects.filter(showcase=True).order_by("position", "name")),
        Prefetch(
            "updates",
            queryset=MaintenanceUpdate.objects.only("id", "window_id", "status", "body", "created_at"),
        ),
    )


def maintenance_windows_recent(*, limit: int, include_cancelled: bool = False) -> list[MaintenanceWindow]:
    """The most recent windows by start time, newest first."""
    windows = _public_maintenance_windows().order_by("-scheduled_for", "-id")
    if not include_cancelled:
        windows = windows.exclude(status=MaintenanceStatus.CANCELLED)
    return list(windows[:limit])


def maintenance_windows_in(*, statuses: list[str]) -> list[MaintenanceWindow]:
    """Windows in any of `statuses`, soonest first."""
    return list(_public_maintenance_windows().filter(status__in=statuses).order_by("scheduled_for", "id"))


def public_last_change() -> datetime | None:
    """When anything public last changed: a public component or group, a public update, a maintenance window."""
    candidates = [
        Component.objects.filter(showcase=True).aggregate(at=Max("updated_at"))["at"],
        ComponentGroup.objects.filter(components__showcase=True).aggregate(at=Max("updated_at"))["at"],
        # The newest update read backwards off its index (a MAX over the join read all of them: issue 11).
        PublicUpdate.objects.exclude(incident__status__in=NEVER_PUBLIC)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first(),
        MaintenanceWindow.objects.aggregate(at=Max("updated_at"))["at"],
    ]
    return max((at for at in candidates if at is not None), default=None)


def public_component_ids() -> set[int]:
    return set(Component.objects.filter(showcase=True).values_list("pk", flat=True))


# Staff reads for the portal's components page.


@dataclass(frozen=True)
class ComponentBoard:
    """Every component, public or not: groups in page order, each with its components, then the ungrouped."""

    groups: list[ComponentGroup]
    ungrouped: list[Component]


def component_board() -> ComponentBoard:
    return ComponentBoard(groups=component_groups_with_components(), ungrouped=list(ungrouped_components()))


def component_or_404(component_id: int) -> Component:
    return get_object_or_404(Component.objects.select_related("group"), pk=component_id)


def component_group_or_404(group_id: int) -> ComponentGroup:
    return get_object_or_404(ComponentGroup, pk=group_id)
