"""War-room search boxes: a few matches at a time for the forms that once listed a whole table in a <select>
(components to add, people for a role, incidents to merge into). Each answers a small fragment of radio
buttons for htmx to put under its box; the form's own submit does the rest, and the form's services decide."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from opsportal.core import selectors as core_selectors
from opsportal.core.roles import RESPOND, role_of
from opsportal.incidents import selectors as incident_selectors
from opsportal.incidents.models import Incident
from opsportal.portal import incident_forms as f
from opsportal.portal.access import staff_required

MATCHES_TEMPLATE = "portal/incidents/_matches.html"
DECLARE_COMPONENTS_TEMPLATE = "portal/incidents/_declare_components.html"


def _query(request, field: str) -> tuple[str | None, f.PickerQueryForm]:
    """The text typed in the box named `field`; None when it is refused (control characters, too long)."""
    form = f.PickerQueryForm({"q": request.GET.get(field, "")})
    return (form.cleaned_data["q"] if form.is_valid() else None), form


def _incident_or_404(incident_id: int) -> None:
    if not Incident.objects.filter(pk=incident_id).exists():
        raise Http404("No such incident.")


def _answer(request, *, query, form, field: str, matches: list, empty: str, suggestions: str, describe):
    if query is None:
        context = {"refused": form.errors["q"][0], "field": field}
        return render(request, MATCHES_TEMPLATE, context, status=400)
    more = len(matches) > f.MATCHES_MAX
    context = {
        "field": field,
        "query": query,
        "matches": [describe(match) for match in matches[: f.MATCHES_MAX]],
        "more": more,
        "empty": empty,
        "suggestions": suggestions,
    }
    return render(request, MATCHES_TEMPLATE, context)


@require_GET
@staff_required(RESPOND)
def incident_component_search(request, incident_id: int):
    """Components the incident does not affect yet, by name."""
    _incident_or_404(incident_id)
    query, form = _query(request, "component_name")
    matches = (
        incident_selectors.components_to_add(incident_id, query, limit=f.MATCHES_MAX)
        if query is not None
        else []
    )
    return _answer(
        request,
        query=query,
        form=form,
        field="component",
        matches=matches,
        empty="No other component matches",
        suggestions="Components not yet affected, by name",
        describe=lambda c: {"value": c.pk, "label": c.name, "detail": c.group.name if c.group else ""},
    )


@require_GET
@staff_required(RESPOND)
def incident_person_search(request, incident_id: int):
    """Staff by name, username or email; with nothing typed, the most recently active."""
    _incident_or_404(incident_id)
    return _person_search(request, box="person", field="user")


def _person_search(request, *, box: str, field: str):
    """Staff matching what was typed in `box`, as choices of the form's `field`."""
    query, form = _query(request, box)
    matches = core_selectors.staff_matching(query, limit=f.MATCHES_MAX) if query is not None else []
    return _answer(
        request,
        query=query,
        form=form,
        field=field,
        matches=matches,
        empty="No staff member matches",
        suggestions="Recently active",
        describe=_describe_person,
    )


def _describe_person(user) -> dict:
    role = role_of(user)
    detail = user.get_username() if user.get_full_name() else ""
    if role is not None:
        detail = f"{detail}, {role.label.lower()}" if detail else role.label.lower()
    return {"value": user.pk, "label": user.get_full_name() or user.get_username(), "detail": detail}


@require_GET
@staff_required(RESPOND)
def incident_merge_search(request, incident_id: int):
    """Other active incidents, by reference or title, newest first."""
    _incident_or_404(incident_id)
    query, form = _query(request, "into_reference")
    matches = (
        incident_selectors.merge_targets(incident_id, query, limit=f.MATCHES_MAX) if query is not None else []
    )
    return _answer(
        request,
        query=query,
        form=form,
        field="into",
        matches=matches,
        empty="No other active incident matches",
        suggestions="Active incidents, newest first",
        describe=lambda i: {
            "value": i.pk,
            "label": f"{i.reference} {i.title}",
            "detail": i.get_status_display(),
        },
    )


# The declare page's boxes: the same searches before there is an incident.


def declare_component_rows(form: f.DeclareForm, query: str) -> dict:
    """The declare form's component picker: the components already given an impact, then up to MATCHES_MAX
    others matching `query`, each with its own impact select (the picker never lists every component)."""
    rows = [row for row in form.component_rows() if row["impact"]]
    # Nothing typed: only what was picked (the page never opens on a list of components).
    matches = (
        incident_selectors.components_matching(
            query, limit=f.MATCHES_MAX, excluding=[row["component"].pk for row in rows]
        )
        if query.strip()
        else []
    )
    rows += [{"component": c, "field": f"impact_{c.pk}", "impact": ""} for c in matches[: f.MATCHES_MAX]]
    return {
        "rows": rows,
        "query": query,
        "matched": bool(matches),
        "more": len(matches) > f.MATCHES_MAX,
        "impact_choices": [("", "Not affected"), *f.IMPACT_CHOICES],
    }


@require_GET
@staff_required(RESPOND)
def declare_component_search(request):
    """The declare form's component picker, redrawn: components already given an impact (sent back by the box)
    stay, followed by the matches of what was typed."""
    query, form = _query(request, "component_query")
    declare = f.DeclareForm(request.GET)
    if query is None:
        context = {**declare_component_rows(declare, ""), "refused": form.errors["q"][0]}
        return render(request, DECLARE_COMPONENTS_TEMPLATE, context, status=400)
    return render(request, DECLARE_COMPONENTS_TEMPLATE, declare_component_rows(declare, query))


@require_GET
@staff_required(RESPOND)
def declare_person_search(request):
    """People who could command the incident being declared: staff by name, username or email."""
    return _person_search(request, box="commander_person", field="commander")
