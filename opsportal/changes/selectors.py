"""Maintenance window reads for staff (portal and partner API); the public page has its own in statuspage."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from opsportal.changes.lifecycle import ACTIVE, FINISHED, MaintenanceStatus
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from statuspage.models import Component

PAST_LIMIT = 50


def _windows() -> QuerySet[MaintenanceWindow]:
    return MaintenanceWindow.objects.select_related("created_by").prefetch_related(
        Prefetch("components", queryset=Component.objects.order_by("group__position", "position", "name"))
    )


@dataclass(frozen=True)
class MaintenanceBoard:
    upcoming: list[MaintenanceWindow]
    in_progress: list[MaintenanceWindow]
    past: list[MaintenanceWindow]


def maintenance_board(*, past_limit: int = PAST_LIMIT) -> MaintenanceBoard:
    """The portal list: upcoming soonest first, running ones, then the most recent finished ones."""
    windows = _windows()
    return MaintenanceBoard(
        upcoming=list(windows.filter(status=MaintenanceStatus.SCHEDULED).order_by("scheduled_for", "id")),
        in_progress=list(
            windows.filter(status__in=[s.value for s in ACTIVE]).order_by("scheduled_for", "id")
        ),
        past=list(
            windows.filter(status__in=[s.value for s in FINISHED]).order_by("-scheduled_for", "-id")[
                :past_limit
            ]
        ),
    )


def maintenance_list(*, status: str = "") -> QuerySet[MaintenanceWindow]:
    """Windows for the API, latest start first, optionally of one status."""
    windows = _windows().order_by("-scheduled_for", "-id")
    return windows.filter(status=status) if status else windows


def maintenance_detail(window_id: int) -> MaintenanceWindow:
    """One window with its components and updates (newest first); Http404 when there is none."""
    window = (
        _windows()
        .prefetch_related(
            Prefetch(
                "updates",
                queryset=MaintenanceUpdate.objects.select_related("author").order_by("-created_at", "-id"),
            )
        )
        .filter(pk=window_id)
        .first()
    )
    if window is None:
        raise Http404("No such maintenance window.")
    return window


def maintenance_or_404(window_id: int) -> MaintenanceWindow:
    """The bare row, for handing to a service (which locks and re-reads it)."""
    window = MaintenanceWindow.objects.filter(pk=window_id).first()
    if window is None:
        raise Http404("No such maintenance window.")
    return window
