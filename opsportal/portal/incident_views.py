"""War-room pages: incident list, declare, the command page and its panels. Thin: forms check shape, the
incident services decide, selectors read. Post-mortems and metrics have their own modules."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from opsportal.core.exceptions import Conflict
from opsportal.core.forms import add_service_errors, form_apply
from opsportal.core.keyset import keyset_page
from opsportal.core.roles import RESPOND
from opsportal.incidents import selectors as incident_selectors
from opsportal.incidents import services as incident_services
from opsportal.incidents.lifecycle import TRANSITIONS, IncidentStatus, public_update_default
from opsportal.incidents.models import Incident, IncidentRole, TimelineEvent
from opsportal.portal import incident_forms as f
from opsportal.portal.access import staff_required
from opsportal.portal.incident_search_views import declare_component_rows
from statuspage.models import ComponentStatus

INCIDENT_PAGE = 50

# Panels of the command page, each a fragment template that can be fetched on its own.
PANELS = ("header", "clocks", "roles", "components", "actions", "timeline")


# --- list and declare ---


@staff_required()
def incident_list(request):
    form = f.IncidentFilterForm(request.GET or None)
    incidents = incident_selectors.incidents_list(form.filters() if form.is_bound else None)
    # Pages of 50 off the (started_at, id) index, newest first; the count is of the filtered list, which is
    # one index-only pass over the incidents table, not the rows it shows (issue 11).
    page = keyset_page(
        incidents,
        field="started_at",
        size=INCIDENT_PAGE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    query = request.GET.copy()
    for key in ("older", "newer"):
        query.pop(key, None)
    template = "portal/incidents/_list_results.html" if request.htmx and not request.htmx.boosted else None
    return render(
        request,
        template or "portal/incidents/list.html",
        {
            "form": form,
            "incidents": page,
            "total": incidents.count(),
            "filters": query.urlencode(),
            "query": request.GET.urlencode(),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@staff_required(RESPOND)
def incident_declare(request):
    form = f.DeclareForm(request.POST or None)
    if request.method == "POST" and "find" in request.POST:
        # Without JavaScript, "Find" posts the whole form: show the matches, declare nothing yet.
        form.is_valid()
        query = form.cleaned_data.get("component_query", "") if "component_query" not in form.errors else ""
        context = {"form": form, "picker": declare_component_rows(form, query), "finding": True}
        return render(request, "portal/incidents/declare.html", context)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = incident_services.incident_declare(
                actor=request.user,
                title=data["title"],
                public_title=data["public_title"],
                severity=data["severity"],
                summary=data["summary"],
                team=data["team"],
                components=form.components(),
                commander=data["commander"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc))
            context = {"form": form, "picker": declare_component_rows(form, "")}
            return render(request, "portal/incidents/declare.html", context, status=409)
        else:
            return redirect("portal:incident_detail", incident_id=incident.pk)
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "picker": declare_component_rows(form, "")}
    return render(request, "portal/incidents/declare.html", context, status=status)


# --- the command page ---


def _load(incident_id: int) -> Incident:
    try:
        return incident_selectors.incident_detail(incident_id)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def _command_context(request, incident: Incident, **overrides) -> dict:
    current = IncidentStatus(incident.status)
    affected = list(incident.affected_components.all())
    context = {
        "incident": incident,
        "next_statuses": [s for s in TRANSITIONS[current] if s != IncidentStatus.MERGED],
        "clock_rows": [_clock_row(clock) for clock in incident_selectors.incident_clocks(incident)],
        "roles": incident_selectors.active_roles(incident),
        "role_choices": IncidentRole.choices,
        "affected": affected,
        "timeline": incident_selectors.incident_timeline(incident),
        "may_act": request.user.has_perm(RESPOND),
        "transition_form": None,
        "role_form": f.RoleForm(),
        "component_form": f.ComponentImpactForm(initial={"impact": ComponentStatus.PARTIAL_OUTAGE}),
        "note_form": f.NoteForm(),
        # Statuses for the affected components only: the page never lists every component.
        "update_form": f.PublicUpdateForm(
            initial={"status": public_update_default(current)}, components=[ac.component for ac in affected]
        ),
        "severity_form": f.SeverityForm(initial={"severity": incident.severity}),
        "merge_form": f.MergeForm(incident=incident),
        "panel_error": None,
        "search_max": f.SEARCH_MAX,
    }
    context.update(overrides)
    return context


CLOCK_LABELS = {"detect": "Detect", "respond": "Respond", "resolve": "Resolve"}
STATE_WORDS = {
    "pending": "Not started",
    "running": "Running",
    "warning": "Warning: past 80 % of target",
    "breached": "Breached",
    "met": "Met",
}


def _minutes(seconds: float) -> str:
    seconds = int(abs(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _clock_row(clock) -> dict:
    """One SLA clock for the page: words for its state, and data attributes incident.js ticks from."""
    elapsed = clock.elapsed.total_seconds()
    target = clock.target.total_seconds()
    if clock.started_at is None:
        text = "starts when the incident is detected"
    elif clock.running:
        left = target - elapsed
        text = f"{_minutes(left)} left" if left > 0 else f"{_minutes(left)} over target"
    else:
        text = f"stopped after {_minutes(elapsed)}"
    return {
        "name": clock.name.value,
        "label": CLOCK_LABELS[clock.name.value],
        "state": clock.state.value,
        "state_text": STATE_WORDS[clock.state.value],
        "text": text,
        "running": clock.running and clock.stopped_at is None,
        "target_seconds": int(target),
        "target_minutes": int(target // 60),
        "elapsed_seconds": int(elapsed),
        "started_at": clock.started_at.isoformat() if clock.started_at else "",
        "warning_at": clock.warning_at.isoformat() if clock.warning_at else "",
        "breach_at": clock.breach_at.isoformat() if clock.breach_at else "",
    }


@staff_required()
def incident_detail(request, incident_id: int):
    incident = _load(incident_id)
    return render(request, "portal/incidents/detail.html", _command_context(request, incident))


@staff_required()
def incident_panel(request, incident_id: int, panel: str):
    """One panel of the command page, for htmx to swap in when the incident changes."""
    if panel not in PANELS:
        raise Http404("No such panel.")
    incident = _load(incident_id)
    return render(request, f"portal/incidents/_panel_{panel}.html", _command_context(request, incident))


def _act(
    request,
    incident_id: int,
    *,
    panel: str,
    form_name: str,
    form: object,
    apply: Callable[[Incident, dict], str],
):
    """Run one war-room action: 400 with form errors for bad shape or meaning, 409 with the message for a
    conflict (PermissionDenied goes on to the 403 page). On success htmx gets the fresh panel and a
    trigger to refresh the rest; a plain form post is redirected back to the page."""
    incident = get_object_or_404(Incident, pk=incident_id)
    done, status = form_apply(form, lambda data: apply(incident, data))
    if status == 200:
        if not request.htmx:
            messages.success(request, done)
            return redirect("portal:incident_detail", incident_id=incident_id)
        response = render(
            request,
            f"portal/incidents/_panel_{panel}.html",
            _command_context(request, _load(incident_id), panel_message=done),
        )
        response["HX-Trigger"] = "incident-refresh"
        return response
    context = _command_context(request, _load(incident_id), **{form_name: form})
    template = f"portal/incidents/_panel_{panel}.html" if request.htmx else "portal/incidents/detail.html"
    return render(request, template, context, status=status)


@require_POST
@staff_required(RESPOND)
def incident_transition(request, incident_id: int):
    def apply(incident, data):
        incident_services.incident_transition(
            actor=request.user, incident=incident, status=data["status"], note=data["note"]
        )
        return f"Status is now {data['status']}."

    return _act(
        request,
        incident_id,
        panel="header",
        form_name="transition_form",
        form=f.TransitionForm(request.POST),
        apply=apply,
    )


@require_POST
@staff_required(RESPOND)
def incident_acknowledge(request, incident_id: int):
    def apply(incident, data):
        incident_services.incident_acknowledge(actor=request.user, incident=incident)
        return "Acknowledged."

    return _act(request, incident_id, panel="actions", form_name="note_form", form=_EmptyForm(), apply=apply)


@require_POST
@staff_required(RESPOND)
def incident_severity(request, incident_id: int):
    def apply(incident, data):
        incident_services.incident_change_severity(
            actor=request.user, incident=incident, severity=data["severity"], reason=data["reason"]
        )
        return f"Severity is now {data['severity']}."

    return _act(
        request,
        incident_id,
        panel="actions",
        form_name="severity_form",
        form=f.SeverityForm(request.POST),
        apply=apply,
    )


@require_POST
@staff_required(RESPOND)
def incident_role_assign(request, incident_id: int):
    def apply(incident, data):
        incident_services.incident_assign_role(
            actor=request.user,
            incident=incident,
            role=data["role"],
            user=data["user"],
            replace=data["replace"],
        )
        return f"{data['user'].get_username()} is {IncidentRole(data['role']).label.lower()}."

    return _act(
        request, incident_id, panel="roles", form_name="role_form", form=f.RoleForm(request.POST), apply=apply
    )


@require_POST
@staff_required(RESPOND)
def incident_take_command(request, incident_id: int):
    """Take command yourself; replace=1 is an explicit handover from the current commander."""
    form = f.RoleForm(
        {
            "role": IncidentRole.COMMANDER,
            "user": request.user.pk,
            "replace": request.POST.get("replace", ""),
        }
    )

    def apply(incident, data):
        incident_services.incident_assign_role(
            actor=request.user,
            incident=incident,
            role=IncidentRole.COMMANDER,
            user=request.user,
            replace=data["replace"],
        )
        return "You are incident commander."

    return _act(request, incident_id, panel="roles", form_name="role_form", form=form, apply=apply)


@require_POST
@staff_required(RESPOND)
def incident_role_relieve(request, incident_id: int):
    def apply(incident, data):
        incident_services.incident_relieve_role(
            actor=request.user, incident=incident, role=data["role"], user=data["user"]
        )
        return f"{data['user'].get_username()} relieved."

    return _act(
        request,
        incident_id,
        panel="roles",
        form_name="role_form",
        form=f.RelieveForm(request.POST),
        apply=apply,
    )


@require_POST
@staff_required(RESPOND)
def incident_component(request, incident_id: int):
    def apply(incident, data):
        incident_services.incident_set_component(
            actor=request.user, incident=incident, component=data["component"], impact=data["impact"] or None
        )
        return f"{data['component'].name} updated."

    return _act(
        request,
        incident_id,
        panel="components",
        form_name="component_form",
        form=f.ComponentImpactForm(request.POST),
        apply=apply,
    )


@require_POST
@staff_required(RESPOND)
def incident_note(request, incident_id: int):
    def apply(incident, data):
        incident_services.incident_add_note(
            actor=request.user, incident=incident, body=data["body"], pinned=data["pinned"]
        )
        return "Note added."

    return _act(
        request,
        incident_id,
        panel="actions",
        form_name="note_form",
        form=f.NoteForm(request.POST),
        apply=apply,
    )


@require_POST
@staff_required(RESPOND)
def incident_public_update(request, incident_id: int):
    form = f.PublicUpdateForm(request.POST, components=incident_selectors.affected_components_of(incident_id))

    def apply(incident, data):
        incident_services.incident_post_update(
            actor=request.user,
            incident=incident,
            status=data["status"],
            body=data["body"],
            component_statuses=form.component_statuses(),
        )
        return "Public update posted."

    return _act(request, incident_id, panel="actions", form_name="update_form", form=form, apply=apply)


@require_POST
@staff_required(RESPOND)
def incident_merge(request, incident_id: int):
    def apply(incident, data):
        incident_services.incident_merge(actor=request.user, incident=incident, into=data["into"])
        return f"Merged into {data['into'].reference}."

    return _act(
        request,
        incident_id,
        panel="actions",
        form_name="merge_form",
        form=f.MergeForm(request.POST, incident=Incident(pk=incident_id)),
        apply=apply,
    )


@require_POST
@staff_required(RESPOND)
def timeline_pin(request, incident_id: int, event_id: int):
    event = get_object_or_404(
        TimelineEvent.objects.select_related("incident"), pk=event_id, incident_id=incident_id
    )
    form = f.PinForm(request.POST)

    def apply(incident, data):
        incident_services.timeline_event_pin(actor=request.user, event=event, pinned=data["pinned"])
        return "Pinned." if data["pinned"] else "Unpinned."

    return _act(request, incident_id, panel="timeline", form_name="pin_form", form=form, apply=apply)


class _EmptyForm:
    """For actions with no fields (acknowledge)."""

    def __init__(self):
        self.cleaned_data: dict = {}
        self.fields: dict = {}
        self.errors: dict = {}

    def is_valid(self) -> bool:
        return True

    def add_error(self, field, error) -> None:
        self.errors.setdefault(field, []).append(error)


@staff_required()
def incident_timeline_markdown(request, incident_id: int):
    incident = get_object_or_404(Incident, pk=incident_id)
    response = HttpResponse(
        incident_selectors.timeline_markdown(incident), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{incident.reference}-timeline.md"'
    return response
