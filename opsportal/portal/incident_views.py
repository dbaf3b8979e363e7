"""War-room pages: incident list, declare, the command page and its panels, post-mortems, metrics and
SLA settings. Thin: forms check shape, the incident services decide, selectors read."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsportal.core.exceptions import Conflict
from opsportal.core.forms import add_service_errors
from opsportal.incidents import postmortems
from opsportal.incidents import selectors as incident_selectors
from opsportal.incidents import services as incident_services
from opsportal.incidents.lifecycle import TRANSITIONS, IncidentStatus
from opsportal.incidents.models import ActionItem, Incident, IncidentRole, Postmortem, TimelineEvent
from opsportal.portal import incident_forms as f
from opsportal.portal.access import staff_required

RESPOND = "core.respond"
# Panels of the command page, each a fragment template that can be fetched on its own.
PANELS = ("header", "clocks", "roles", "components", "actions", "timeline")


# --- list and declare ---


@staff_required()
def incident_list(request):
    form = f.IncidentFilterForm(request.GET or None)
    incidents = incident_selectors.incidents_list(form.filters() if form.is_bound else None)[:200]
    template = "portal/incidents/_list_results.html" if request.htmx and not request.htmx.boosted else None
    return render(
        request,
        template or "portal/incidents/list.html",
        {"form": form, "incidents": incidents, "query": request.GET.urlencode()},
    )


@staff_required(RESPOND)
def incident_declare(request):
    form = f.DeclareForm(request.POST or None)
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
            return render(request, "portal/incidents/declare.html", {"form": form}, status=409)
        else:
            return redirect("portal:incident_detail", incident_id=incident.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "portal/incidents/declare.html", {"form": form}, status=status)


# --- the command page ---


def _load(incident_id: int) -> Incident:
    try:
        return incident_selectors.incident_detail(incident_id)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def _command_context(request, incident: Incident, **overrides) -> dict:
    current = IncidentStatus(incident.status)
    context = {
        "incident": incident,
        "next_statuses": [s for s in TRANSITIONS[current] if s != IncidentStatus.MERGED],
        "clock_rows": [_clock_row(clock) for clock in incident_selectors.incident_clocks(incident)],
        "roles": incident_selectors.active_roles(incident),
        "role_choices": IncidentRole.choices,
        "affected": list(incident.affected_components.all()),
        "timeline": incident_selectors.incident_timeline(incident),
        "may_act": request.user.has_perm(RESPOND),
        "transition_form": None,
        "role_form": f.RoleForm(),
        "component_form": f.ComponentImpactForm(),
        "note_form": f.NoteForm(),
        "update_form": f.PublicUpdateForm(initial={"status": _public_default(current)}),
        "severity_form": f.SeverityForm(initial={"severity": incident.severity}),
        "merge_form": f.MergeForm(incident=incident),
        "panel_error": None,
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


def _public_default(status: IncidentStatus) -> str:
    return (
        status.value
        if status.value in ("investigating", "identified", "monitoring", "resolved")
        else "investigating"
    )


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
    status = 400
    if form.is_valid():
        try:
            done = apply(incident, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
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
    form = f.PublicUpdateForm(request.POST)

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


# --- post-mortem ---


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
            return _postmortem_page(request, incident, error=" ".join(exc.messages), status=400)
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


# --- metrics and SLA settings ---

CHART_ROW = 28  # px per bar in the SVG charts


def _chart(metrics, value_of: Callable, text_of: Callable) -> dict:
    values = [value_of(m) for m in metrics]
    top = max((v for v in values if v is not None), default=0) or 1
    rows = []
    for index, (m, value) in enumerate(zip(metrics, values, strict=True)):
        rows.append(
            {
                "severity": m.severity,
                "y": index * CHART_ROW,
                "text_y": index * CHART_ROW + 18,
                "width": round(300 * (value or 0) / top, 1),
                "text": text_of(m) if value is not None else "no data",
            }
        )
    return {"rows": rows, "height": max(len(rows), 1) * CHART_ROW}


def _duration(value) -> str:
    if value is None:
        return "no data"
    minutes = value.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


@staff_required()
def metrics(request):
    form = f.MetricsPeriodForm(request.GET or None)
    since, until = form.bounds()
    rows = incident_selectors.incident_metrics(since=since, until=until)
    table = [
        {
            "severity": m.severity,
            "incidents": m.incidents,
            "mtta": _duration(m.mtta),
            "mttr": _duration(m.mttr),
            "compliance": "no data" if m.sla_compliance is None else f"{m.sla_compliance:.0%}",
            "breaches": m.breaches,
        }
        for m in rows
    ]
    charts = [
        (
            "mtta",
            "Mean time to acknowledge",
            _chart(rows, lambda m: m.mtta and m.mtta.total_seconds(), lambda m: _duration(m.mtta)),
        ),
        (
            "mttr",
            "Mean time to resolve",
            _chart(rows, lambda m: m.mttr and m.mttr.total_seconds(), lambda m: _duration(m.mttr)),
        ),
        (
            "sla",
            "SLA compliance",
            _chart(rows, lambda m: m.sla_compliance, lambda m: f"{m.sla_compliance:.0%}"),
        ),
    ]
    return render(
        request,
        "portal/metrics.html",
        {"form": form, "since": since, "until": until, "table": table, "charts": charts},
        status=400 if form.is_bound and form.errors else 200,
    )


@staff_required("core.administer")
def severity_settings(request):
    policies = list(incident_selectors.severity_policies())
    forms_by_severity = {
        p.severity: f.SeverityPolicyForm(
            initial={
                "detect_minutes": p.detect_minutes,
                "respond_minutes": p.respond_minutes,
                "resolve_minutes": p.resolve_minutes,
            },
            prefix=p.severity,
        )
        for p in policies
    }
    status = 200
    if request.method == "POST":
        policy = next((p for p in policies if p.severity == request.POST.get("severity")), None)
        if policy is None:
            raise Http404("No such severity.")
        form = f.SeverityPolicyForm(request.POST, prefix=policy.severity)
        forms_by_severity[policy.severity] = form
        if form.is_valid():
            try:
                incident_services.severity_policy_update(
                    actor=request.user, policy=policy, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{policy.severity} SLA targets saved.")
                return redirect(reverse("portal:severity_settings"))
        status = 400
    rows = [{"policy": p, "form": forms_by_severity[p.severity]} for p in policies]
    return render(request, "portal/severity_settings.html", {"rows": rows}, status=status)
