"""Status page reads."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

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
