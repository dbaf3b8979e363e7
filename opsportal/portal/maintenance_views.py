"""Maintenance pages: the list, scheduling, and one window's page with its lifecycle buttons, updates and
reschedule form. Windows start and complete on time by themselves; these pages show them and let staff
step in. Thin: forms check shape, the maintenance services decide, selectors read."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opsportal.changes import selectors, services
from opsportal.changes.lifecycle import RESCHEDULABLE, TRANSITIONS, MaintenanceStatus
from opsportal.changes.models import MaintenanceWindow
from opsportal.core.forms import add_service_errors, form_apply
from opsportal.core.roles import RESPOND
from opsportal.portal import maintenance_forms as f
from opsportal.portal.access import staff_required

# Button wording for each status a window can be moved to.
ACTION_LABELS = {
    MaintenanceStatus.IN_PROGRESS: "Start now",
    MaintenanceStatus.VERIFYING: "Verifying",
    MaintenanceStatus.COMPLETED: "Complete",
    MaintenanceStatus.CANCELLED: "Cancel maintenance",
}


@staff_required()
def maintenance_list(request):
    return render(
        request,
        "portal/maintenance/list.html",
        {"board": selectors.maintenance_board(), "may_act": request.user.has_perm(RESPOND)},
    )


@staff_required(RESPOND)
def maintenance_new(request):
    form = f.ScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            window = services.maintenance_schedule(
                actor=request.user,
                title=data["title"],
                body=data["body"],
                components=list(data["components"]),
                scheduled_for=data["scheduled_for"],
                scheduled_until=data["scheduled_until"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Maintenance scheduled.")
            return redirect("portal:maintenance_detail", window_id=window.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "portal/maintenance/new.html", {"form": form}, status=status)


def _detail_context(request, window: MaintenanceWindow, **overrides) -> dict:
    current = MaintenanceStatus(window.status)
    context = {
        "window": window,
        "updates": list(window.updates.all()),
        "components": list(window.components.all()),
        "next_actions": [(s.value, ACTION_LABELS[s]) for s in TRANSITIONS[current]],
        "may_act": request.user.has_perm(RESPOND),
        "may_reschedule": current in RESCHEDULABLE,
        "transition_form": f.TransitionForm(),
        "update_form": f.UpdateForm(),
        "reschedule_form": f.RescheduleForm(
            initial={"scheduled_for": window.scheduled_for, "scheduled_until": window.scheduled_until}
        ),
    }
    context.update(overrides)
    return context


@staff_required()
def maintenance_detail(request, window_id: int):
    window = selectors.maintenance_detail(window_id)
    return render(request, "portal/maintenance/detail.html", _detail_context(request, window))


def _act(request, window_id: int, *, form_name: str, form, apply: Callable[[MaintenanceWindow, dict], str]):
    """Run one action: 400 with form errors for bad shape or meaning, 409 with the service's message for
    a conflict (PermissionDenied goes on to the 403 page); on success back to the window's page."""
    window = selectors.maintenance_or_404(window_id)
    done, status = form_apply(form, lambda data: apply(window, data))
    if status == 200:
        messages.success(request, done)
        return redirect("portal:maintenance_detail", window_id=window_id)
    context = _detail_context(request, selectors.maintenance_detail(window_id), **{form_name: form})
    return render(request, "portal/maintenance/detail.html", context, status=status)


@require_POST
@staff_required(RESPOND)
def maintenance_transition(request, window_id: int):
    def apply(window, data):
        services.maintenance_transition(
            actor=request.user, window=window, status=data["status"], body=data["body"]
        )
        return f"Maintenance is now {MaintenanceStatus(data['status']).label.lower()}."

    form = f.TransitionForm(request.POST)
    return _act(request, window_id, form_name="transition_form", form=form, apply=apply)


@require_POST
@staff_required(RESPOND)
def maintenance_post_update(request, window_id: int):
    def apply(window, data):
        services.maintenance_post_update(actor=request.user, window=window, body=data["body"])
        return "Update posted."

    form = f.UpdateForm(request.POST)
    return _act(request, window_id, form_name="update_form", form=form, apply=apply)


@require_POST
@staff_required(RESPOND)
def maintenance_reschedule(request, window_id: int):
    def apply(window, data):
        services.maintenance_reschedule(
            actor=request.user,
            window=window,
            scheduled_for=data["scheduled_for"],
            scheduled_until=data["scheduled_until"],
        )
        return "Maintenance rescheduled."

    form = f.RescheduleForm(request.POST)
    return _act(request, window_id, form_name="reschedule_form", form=form, apply=apply)
