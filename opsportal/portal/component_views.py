"""Components page: every component by group with its current status, a status switch per component for
responders, and the forms admins use to add or edit components and groups. Thin: forms check shape, the
status page services decide, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opsportal.core.forms import add_service_errors, refusal_text
from opsportal.core.roles import ADMINISTER, RESPOND
from opsportal.portal import component_forms as f
from opsportal.portal.access import staff_required
from statuspage import selectors, services
from statuspage.models import Component, ComponentGroup, ComponentStatus


def _row_context(request, component: Component, *, error: str = "") -> dict:
    return {
        "component": component,
        "error": error,
        "statuses": ComponentStatus.choices,
        "may_set_status": request.user.has_perm(RESPOND),
        "may_administer": request.user.has_perm(ADMINISTER),
    }


@staff_required()
def component_list(request):
    return render(
        request,
        "portal/components/list.html",
        {
            "board": selectors.component_board(),
            "statuses": ComponentStatus.choices,
            "may_set_status": request.user.has_perm(RESPOND),
            "may_administer": request.user.has_perm(ADMINISTER),
        },
    )


@require_POST
@staff_required(RESPOND)
def component_status(request, component_id: int):
    component = selectors.component_or_404(component_id)
    form = f.ComponentStatusForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            component = services.component_set_status(
                actor=request.user, component=component, status=form.cleaned_data["status"]
            )
        except ValidationError as exc:
            error = refusal_text(exc)
    else:
        error = "Choose one of the listed statuses."
    if request.htmx:
        return render(
            request,
            "portal/components/_row.html",
            _row_context(request, component, error=error),
            status=400 if error else 200,
        )
    if error:
        messages.error(request, f"{component.name}: {error}")
    else:
        messages.success(request, f"{component.name} is now {component.get_status_display().lower()}.")
    return redirect("portal:component_list")


STATUS_NOTE = "The status is not set here: change it from the components list, so every change is recorded."


def _form_page(request, form, *, title: str, submit: str, action: str, note: str = ""):
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "title": title, "submit": submit, "action": action, "note": note}
    return render(request, "portal/components/form.html", context, status=status)


def _component_fields(data: dict) -> dict:
    return {
        "name": data["name"],
        "description": data["description"],
        "group": data["group"],
        "position": data["position"],
        "showcase": data["showcase"],
        "only_show_if_degraded": data["only_show_if_degraded"],
        "start_date": data["start_date"],
    }


@staff_required(ADMINISTER)
def component_new(request):
    form = f.ComponentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            component = services.component_create(actor=request.user, **_component_fields(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Component {component.name} added.")
            return redirect("portal:component_list")
    return _form_page(
        request, form, title="New component", submit="Add component", action=request.path, note=STATUS_NOTE
    )


@staff_required(ADMINISTER)
def component_edit(request, component_id: int):
    component = selectors.component_or_404(component_id)
    initial = {
        "name": component.name,
        "description": component.description,
        "group": component.group_id,
        "position": component.position,
        "showcase": component.showcase,
        "only_show_if_degraded": component.only_show_if_degraded,
        "start_date": component.start_date,
    }
    form = f.ComponentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.component_update(
                actor=request.user, component=component, **_component_fields(form.cleaned_data)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Component {form.cleaned_data['name']} saved.")
            return redirect("portal:component_list")
    return _form_page(
        request,
        form,
        title=f"Edit component: {component.name}",
        submit="Save component",
        action=request.path,
        note=STATUS_NOTE,
    )


def _group_fields(data: dict) -> dict:
    return {"name": data["name"], "description": data["description"], "position": data["position"]}


@staff_required(ADMINISTER)
def component_group_new(request):
    form = f.ComponentGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.component_group_create(actor=request.user, **_group_fields(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Group {group.name} added.")
            return redirect("portal:component_list")
    return _form_page(request, form, title="New component group", submit="Add group", action=request.path)


@staff_required(ADMINISTER)
def component_group_edit(request, group_id: int):
    group: ComponentGroup = selectors.component_group_or_404(group_id)
    initial = {"name": group.name, "description": group.description, "position": group.position}
    form = f.ComponentGroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.component_group_update(
                actor=request.user, group=group, **_group_fields(form.cleaned_data)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Group {form.cleaned_data['name']} saved.")
            return redirect("portal:component_list")
    return _form_page(
        request, form, title=f"Edit group: {group.name}", submit="Save group", action=request.path
    )
