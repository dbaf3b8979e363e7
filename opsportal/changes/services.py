"""Maintenance window writes: schedule, move through the lifecycle (by hand or on time), post updates."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opsportal.changes.lifecycle import (
    ACTIVE,
    RESCHEDULABLE,
    IllegalMaintenanceTransition,
    MaintenanceStatus,
    check_transition,
)
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from opsportal.core.bounds import DATE_RANGE_TEXT, instant_in_range
from opsportal.core.exceptions import Conflict
from opsportal.core.live import broadcast_on_commit, staff_group
from opsportal.core.public_content import public_content_changed
from opsportal.core.roles import RESPOND
from opsportal.core.services import audit_record, job_schedule, require_permission, user_or_none
from statuspage.models import Component, ComponentStatus
from statuspage.notify import notify_maintenance
from statuspage.services import component_set_status

DEFAULT_UPDATE_TEXT = {
    MaintenanceStatus.SCHEDULED: "Maintenance has been scheduled.",
    MaintenanceStatus.IN_PROGRESS: "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
    MaintenanceStatus.VERIFYING: "Maintenance is complete and we are verifying the results.",
    MaintenanceStatus.COMPLETED: "The scheduled maintenance has been completed.",
    MaintenanceStatus.CANCELLED: "The scheduled maintenance has been cancelled.",
}


def _changed(window: MaintenanceWindow, what: str) -> None:
    public_content_changed(f"maintenance.{what}")
    broadcast_on_commit(
        staff_group(), {"kind": "maintenance.changed", "maintenance": window.pk, "what": what}
    )


def _notify(window: MaintenanceWindow, event: str, update=None) -> None:
    notify_maintenance(window=window, event=event, update=update)


REMINDER_BEFORE = timedelta(hours=1)


def _schedule_timers(window: MaintenanceWindow) -> None:
    # Durable timers start and finish the window on time; the periodic sweep is the safety net.
    stamp = f"{window.scheduled_for:%Y%m%dT%H%M%S}-{window.scheduled_until:%Y%m%dT%H%M%S}"
    job_schedule(
        task="opsportal.changes.tasks.maintenance_start_if_due",
        run_at=window.scheduled_for,
        kwargs={"window_id": window.pk},
        dedupe_key=f"maintenance:{window.pk}:start:{stamp}",
    )
    if window.scheduled_for - REMINDER_BEFORE > timezone.now():
        job_schedule(
            task="opsportal.changes.tasks.maintenance_remind",
            run_at=window.scheduled_for - REMINDER_BEFORE,
            kwargs={"window_id": window.pk},
            dedupe_key=f"maintenance:{window.pk}:remind:{stamp}",
        )
    job_schedule(
        task="opsportal.changes.tasks.maintenance_complete_if_due",
        run_at=window.scheduled_until,
        kwargs={"window_id": window.pk},
        dedupe_key=f"maintenance:{window.pk}:complete:{stamp}",
    )


def _check_times(scheduled_for: datetime, scheduled_until: datetime) -> None:
    if not (instant_in_range(scheduled_for) and instant_in_range(scheduled_until)):
        raise ValidationError({"scheduled_for": f"Give times {DATE_RANGE_TEXT}."})
    if scheduled_until <= scheduled_for:
        raise ValidationError({"scheduled_until": "The window must end after it starts."})


@transaction.atomic
def maintenance_schedule(
    *,
    actor,
    title: str,
    body: str,
    components: list[Component],
    scheduled_for: datetime,
    scheduled_until: datetime,
) -> MaintenanceWindow:
    require_permission(actor, RESPOND)
    if not title.strip():
        raise ValidationError({"title": "Give the maintenance a title."})
    if not body.strip():
        raise ValidationError({"body": "Tell merchants what to expect."})
    _check_times(scheduled_for, scheduled_until)
    if scheduled_until <= timezone.now():
        raise ValidationError({"scheduled_until": "This window would already be over."})
    window = MaintenanceWindow.objects.create(
        title=title.strip(),
        body=body.strip(),
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        created_by=user_or_none(actor),
    )
    window.components.set(components)
    MaintenanceUpdate.objects.create(
        window=window, status=MaintenanceStatus.SCHEDULED, body=body.strip(), author=user_or_none(actor)
    )
    _schedule_timers(window)
    _notify(window, "scheduled")
    audit_record(
        actor=actor,
        action="maintenance.scheduled",
        obj=window,
        after={
            "title": window.title,
            "scheduled_for": scheduled_for,
            "scheduled_until": scheduled_until,
            "components": [c.name for c in components],
        },
    )
    _changed(window, "scheduled")
    return window


@transaction.atomic
def maintenance_reschedule(
    *, actor, window: MaintenanceWindow, scheduled_for: datetime, scheduled_until: datetime
) -> MaintenanceWindow:
    require_permission(actor, RESPOND)
    window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
    if window.status not in RESCHEDULABLE:
        raise Conflict("Only a window that has not started can be rescheduled.")
    _check_times(scheduled_for, scheduled_until)
    before = {"scheduled_for": window.scheduled_for, "scheduled_until": window.scheduled_until}
    window.scheduled_for, window.scheduled_until = scheduled_for, scheduled_until
    window.save(update_fields=["scheduled_for", "scheduled_until", "updated_at"])
    _schedule_timers(window)
    audit_record(
        actor=actor,
        action="maintenance.rescheduled",
        obj=window,
        before=before,
        after={"scheduled_for": scheduled_for, "scheduled_until": scheduled_until},
    )
    _changed(window, "rescheduled")
    return window


@transaction.atomic
def maintenance_transition(
    *, actor, window: MaintenanceWindow, status: str, body: str = ""
) -> MaintenanceWindow:
    """Move a window on. Starting puts its components under maintenance; completing restores them."""
    require_permission(actor, RESPOND)
    window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
    try:
        requested = MaintenanceStatus(status)
    except ValueError:
        raise ValidationError({"status": f"Unknown maintenance status {status!r}."}) from None
    try:
        check_transition(window.status, requested)
    except IllegalMaintenanceTransition as exc:
        raise Conflict(str(exc)) from None
    current = MaintenanceStatus(window.status)
    now = timezone.now()
    components = list(window.components.all())
    fields = ["status", "updated_at"]
    if requested == MaintenanceStatus.IN_PROGRESS and current == MaintenanceStatus.SCHEDULED:
        window.previous_statuses = {str(c.pk): c.status for c in components}
        window.started_at = now
        fields += ["previous_statuses", "started_at"]
        for component in components:
            component_set_status(
                actor=actor, component=component, status=ComponentStatus.UNDER_MAINTENANCE, notify=False
            )
    if requested == MaintenanceStatus.COMPLETED:
        window.completed_at = now
        fields.append("completed_at")
        for component in components:
            component.refresh_from_db(fields=["status"])
            # An incident may have taken the component over meanwhile; only undo our own change.
            if component.status == ComponentStatus.UNDER_MAINTENANCE:
                previous = window.previous_statuses.get(str(component.pk), ComponentStatus.OPERATIONAL)
                component_set_status(actor=actor, component=component, status=previous, notify=False)
    window.status = requested
    window.save(update_fields=fields)
    update = MaintenanceUpdate.objects.create(
        window=window,
        status=requested,
        body=body.strip() or DEFAULT_UPDATE_TEXT[requested],
        author=user_or_none(actor),
    )
    _notify(window, requested.value, update)
    audit_record(
        actor=actor,
        action="maintenance.status_changed",
        obj=window,
        before={"status": current.value},
        after={"status": requested.value},
    )
    _changed(window, requested.value)
    return window


@transaction.atomic
def maintenance_post_update(*, actor, window: MaintenanceWindow, body: str) -> MaintenanceUpdate:
    require_permission(actor, RESPOND)
    if not body.strip():
        raise ValidationError({"body": "Write the update."})
    window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
    update = MaintenanceUpdate.objects.create(
        window=window, status=window.status, body=body.strip(), author=user_or_none(actor)
    )
    _notify(window, window.status, update)
    audit_record(actor=actor, action="maintenance.updated", obj=window, after={"body": update.body})
    _changed(window, "update")
    return update


def maintenance_start_if_due(*, window_id: int, now: datetime | None = None) -> bool:
    """Timers and the sweep call this; it does nothing unless the window is scheduled and due."""
    from opsportal.core.services import SYSTEM

    now = now or timezone.now()
    window = MaintenanceWindow.objects.filter(
        pk=window_id, status=MaintenanceStatus.SCHEDULED, scheduled_for__lte=now
    ).first()
    if window is None:
        return False
    try:
        maintenance_transition(actor=SYSTEM, window=window, status=MaintenanceStatus.IN_PROGRESS)
    except Conflict:
        return False  # someone moved it at the same moment
    return True


def maintenance_complete_if_due(*, window_id: int, now: datetime | None = None) -> bool:
    from opsportal.core.services import SYSTEM

    now = now or timezone.now()
    window = MaintenanceWindow.objects.filter(
        pk=window_id, status__in=[s.value for s in ACTIVE], scheduled_until__lte=now
    ).first()
    if window is None:
        return False
    try:
        maintenance_transition(actor=SYSTEM, window=window, status=MaintenanceStatus.COMPLETED)
    except Conflict:
        return False
    return True


def maintenance_sweep(*, now: datetime | None = None) -> int:
    """Start every due window and complete every overdue one, whatever happened to their timers."""
    now = now or timezone.now()
    moved = 0
    due = MaintenanceWindow.objects.filter(status=MaintenanceStatus.SCHEDULED, scheduled_for__lte=now)
    for window_id in due.values_list("pk", flat=True):
        moved += maintenance_start_if_due(window_id=window_id, now=now)
    overdue = MaintenanceWindow.objects.filter(status__in=[s.value for s in ACTIVE], scheduled_until__lte=now)
    for window_id in overdue.values_list("pk", flat=True):
        moved += maintenance_complete_if_due(window_id=window_id, now=now)
    return moved


@transaction.atomic
def maintenance_remind_if_due(*, window_id: int) -> bool:
    """An hour before the start: remind subscribers, if the window is still on."""
    window = (
        MaintenanceWindow.objects.select_for_update()
        .filter(pk=window_id, status=MaintenanceStatus.SCHEDULED)
        .first()
    )
    if window is None:
        return False
    _notify(window, "reminder")
    return True
