"""Post-mortem pages: sections, review and publishing, action items."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from opsportal.core.exceptions import Conflict
from opsportal.core.forms import add_service_errors, refusal_text
from opsportal.core.roles import RESPOND
from opsportal.incidents import postmortems
from opsportal.incidents.models import ActionItem, Incident, Postmortem
from opsportal.portal import incident_forms as f
from opsportal.portal.access import staff_required


def _postmortem_page(request, incident, *, form=None, item_form=None, error=None, status=200):
    postmortem = Postmortem.objects.filter(incident=incident).prefetch_related("action_items__owner").first()
    if form is None and postmortem is not None:
        form = f.PostmortemForm(
            initial={name: getattr(postmortem, name) for name in postmortems.EDITABLE_FIELDS}
        )
    next_states = sorted(postmortems.POSTMORTEM_TRANSITIONS[postmortem.status]) if postmortem else []
    return render(
        request,
        "portal/incidents/postmortem.html",
        {
            "incident": incident,
            "postmortem": postmortem,
            "form": form,
            "item_form": item_form or f.ActionItemForm(),
            "next_states": [(s, Postmortem.Status(s).label) for s in next_states],
            "item_statuses": ActionItem.Status.choices,
            "may_act": request.user.has_perm(RESPOND),
            "error": error,
        },
        status=status,
    )


def _postmortem_action(
    request,
    incident_id: int,
    apply: Callable[[Incident, Postmortem | None], str],
    *,
    form=None,
    item_form=None,
):
    incident = get_object_or_404(Incident, pk=incident_id)
    postmortem = Postmortem.objects.filter(incident=incident).first()
    bound = form or item_form
    if bound is not None and not bound.is_valid():
        return _postmortem_page(request, incident, form=form, item_form=item_form, status=400)
    try:
        done = apply(incident, postmortem)
    except ValidationError as exc:
        if bound is None:
            return _postmortem_page(request, incident, error=refusal_text(exc), status=400)
        add_service_errors(bound, exc)
        return _postmortem_page(request, incident, form=form, item_form=item_form, status=400)
    except Conflict as exc:
        return _postmortem_page(request, incident, form=form, item_form=item_form, error=str(exc), status=409)
    messages.success(request, done)
    return redirect("portal:incident_postmortem", incident_id=incident_id)


@staff_required()
def incident_postmortem(request, incident_id: int):
    incident = get_object_or_404(Incident, pk=incident_id)
    if request.method != "POST":
        return _postmortem_page(request, incident)
    if not request.user.has_perm(RESPOND):
        raise PermissionDenied("Editing a post-mortem needs the respond permission.")
    form = f.PostmortemForm(request.POST)

    def apply(incident, postmortem):
        if postmortem is None:
            raise Conflict("Start the post-mortem first.")
        postmortems.postmortem_edit(actor=request.user, postmortem=postmortem, **form.sections())
        return "Post-mortem saved."

    return _postmortem_action(request, incident_id, apply, form=form)


@require_POST
@staff_required(RESPOND)
def incident_postmortem_start(request, incident_id: int):
    def apply(incident, postmortem):
        postmortems.postmortem_start(actor=request.user, incident=incident)
        return "Post-mortem started from the pinned timeline events."

    return _postmortem_action(request, incident_id, apply)


@require_POST
@staff_required(RESPOND)
def incident_postmortem_status(request, incident_id: int):
    form = f.PostmortemStatusForm(request.POST)

    def apply(incident, postmortem):
        if postmortem is None:
            raise Conflict("Start the post-mortem first.")
        if not form.is_valid():
            raise ValidationError("Choose one of the listed states.")
        postmortems.postmortem_transition(
            actor=request.user, postmortem=postmortem, status=form.cleaned_data["status"]
        )
        return f"Post-mortem is now {Postmortem.Status(form.cleaned_data['status']).label.lower()}."

    return _postmortem_action(request, incident_id, apply)


@require_POST
@staff_required(RESPOND)
def action_item_add(request, incident_id: int):
    item_form = f.ActionItemForm(request.POST)

    def apply(incident, postmortem):
        if postmortem is None:
            raise Conflict("Start the post-mortem first.")
        data = item_form.cleaned_data
        postmortems.action_item_add(
            actor=request.user,
            postmortem=postmortem,
            title=data["title"],
            owner=data["owner"],
            due_date=data["due_date"],
        )
        return "Action item added."

    return _postmortem_action(request, incident_id, apply, item_form=item_form)


@require_POST
@staff_required(RESPOND)
def action_item_status(request, incident_id: int, item_id: int):
    item = get_object_or_404(ActionItem, pk=item_id, postmortem__incident_id=incident_id)
    form = f.ActionItemStatusForm(request.POST)

    def apply(incident, postmortem):
        if not form.is_valid():
            raise ValidationError("Choose one of the listed statuses.")
        postmortems.action_item_set_status(actor=request.user, item=item, status=form.cleaned_data["status"])
        return f"“{item.title}” is now {item.get_status_display().lower()}."

    return _postmortem_action(request, incident_id, apply)
