"""War-room forms: they check shape (types, choices, lengths); the incident services check meaning."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from oncall.models import Team
from opsportal.core import selectors as core_selectors
from opsportal.core.fields import BodyFormField, DateFormField, LineFormField
from opsportal.core.text import BODY_MAX, DOCUMENT_MAX, LINE_MAX, NAME_MAX, NOTE_MAX, TITLE_MAX
from opsportal.incidents import selectors as incident_selectors
from opsportal.incidents.lifecycle import ACTIVE, PUBLIC_STATUSES, IncidentStatus
from opsportal.incidents.models import ActionItem, Incident, IncidentRole, Postmortem, Severity
from opsportal.incidents.postmortems import EDITABLE_FIELDS
from opsportal.incidents.selectors import IncidentFilters
from opsportal.portal.forms import PanelForm
from statuspage.models import Component, ComponentStatus

IMPACT_CHOICES = [(value, label) for value, label in ComponentStatus.choices if value != "operational"]
DATE_INPUT = forms.DateInput(attrs={"type": "date"})
MAX_SLA_MINUTES = 366 * 24 * 60  # a target past a year is no target
# Search boxes on the war room: how long a query may be, and how many matches one answer lists.
SEARCH_MAX = 100
MATCHES_MAX = 20


def _staff_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return user.get_full_name() or user.get_username()


class IncidentFilterForm(forms.Form):
    q = LineFormField(required=False, max_length=TITLE_MAX, label="Search")
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status")] + [(s.value, s.label) for s in IncidentStatus], required=False
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="Any team")
    component = forms.ModelChoiceField(
        queryset=Component.objects.all(), required=False, empty_label="Any component"
    )
    since = DateFormField(required=False, widget=DATE_INPUT, label="Started from")
    until = DateFormField(required=False, widget=DATE_INPUT, label="Started until")

    def filters(self) -> IncidentFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return IncidentFilters(
            q=data.get("q", ""),
            severity=data.get("severity", ""),
            status=data.get("status", ""),
            team=data["team"].pk if data.get("team") else None,
            component=data["component"].pk if data.get("component") else None,
            since=data.get("since"),
            until=data.get("until"),
        )


IMPACT_FIELD = re.compile(r"impact_(\d{1,12})")


class DeclareForm(forms.Form):
    """Declaring an incident. Neither the commander nor the components are listed in full (400 staff and 200
    components would be 2,000 options on the page someone opens at the worst moment): the commander comes from
    the people search (`commander`, an id) or is typed as an exact username or email (`commander_person`); each
    affected component comes as an `impact_<id>` field, offered by the component search a few at a time."""

    title = LineFormField(max_length=TITLE_MAX, help_text="Internal: what responders call it.")
    public_title = LineFormField(
        max_length=TITLE_MAX, required=False, help_text="What merchants see; defaults to the title."
    )
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.P2)
    summary = BodyFormField(max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="No team")
    # Never rendered as a <select>: picked among the people search's matches.
    commander = StaffChoiceField(queryset=_staff_users(), required=False)
    commander_person = LineFormField(
        max_length=SEARCH_MAX,
        required=False,
        label="Commander",
        help_text="Type a name, username or email and pick a match; or type an exact username or email. "
        "Empty: nobody yet.",
    )
    component_query = LineFormField(
        max_length=SEARCH_MAX,
        required=False,
        label="Find components",
        help_text="Type part of a name; each match gets an impact (leave “Not affected” for the others).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commander"].queryset = _staff_users()
        self.component_fields = []
        named = picked_component_ids(self.data) if self.is_bound else []
        found = {
            c.pk: c for c in Component.objects.filter(pk__in=named).select_related("group").order_by("name")
        }
        self.unknown_components: set[int] = set(named) - set(found)
        for component in found.values():
            name = f"impact_{component.pk}"
            self.fields[name] = forms.ChoiceField(
                choices=[("", "Not affected"), *IMPACT_CHOICES], required=False, label=component.name
            )
            self.component_fields.append((component, name))

    def clean(self):
        data = super().clean()
        if self.unknown_components:
            self.add_error(
                None, "A component picked here no longer exists; pick the affected components again."
            )
        if data.get("commander") is None and "commander" not in self.errors:
            typed = data.get("commander_person", "")
            if typed:
                user = core_selectors.staff_member_named(typed)
                if user is None:
                    self.add_error(
                        "commander_person", f"No staff member has the username or email “{typed}”."
                    )
                data["commander"] = user
        return data

    def components(self) -> list[tuple[Component, str]]:
        return [(c, self.cleaned_data[name]) for c, name in self.component_fields if self.cleaned_data[name]]

    def component_rows(self) -> list[dict]:
        """The components named in the form, each with the impact it was given (bound value)."""
        return [
            {"component": c, "field": name, "impact": self[name].value() or ""}
            for c, name in self.component_fields
        ]


def picked_component_ids(data) -> list[int]:
    """Component ids named by `impact_<id>` fields (the declare form's, or what the search box sends back)."""
    return [int(match[1]) for key in data if (match := IMPACT_FIELD.fullmatch(key))]


class TransitionForm(PanelForm):
    id_prefix = "transition"
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in IncidentStatus])
    note = LineFormField(max_length=LINE_MAX, required=False)


class SeverityForm(PanelForm):
    id_prefix = "severity"
    severity = forms.ChoiceField(choices=Severity.choices)
    reason = LineFormField(max_length=LINE_MAX, required=False)


class PickerQueryForm(forms.Form):
    """What a war-room search box sends: one line of text, bounded (a longer one is refused, not cut)."""

    q = LineFormField(max_length=SEARCH_MAX, required=False, label="Search")


class RoleForm(PanelForm):
    """A role for a person, picked from the search's matches (`user`, an id) or, without JavaScript, typed as a
    username or email (`person`); the id wins when both come."""

    id_prefix = "role"
    role = forms.ChoiceField(choices=IncidentRole.choices)
    # Never rendered as a <select>: the matches come from the people search, a few at a time.
    user = StaffChoiceField(queryset=_staff_users(), label="Person", required=False)
    person = LineFormField(
        max_length=SEARCH_MAX,
        required=False,
        label="Person",
        help_text="Type a name, username or email and pick a match; or type an exact username or email.",
    )
    replace = forms.BooleanField(required=False, label="Hand over (replace the current holder)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _staff_users()

    def clean(self):
        data = super().clean()
        if data.get("user") is None and "user" not in self.errors:
            typed = data.get("person", "")
            if not typed:
                if "person" not in self.errors:
                    self.add_error("person", "Pick a person: type a name and choose one of the matches.")
            else:
                user = core_selectors.staff_member_named(typed)
                if user is None:
                    self.add_error("person", f"No staff member has the username or email “{typed}”.")
                data["user"] = user
        return data


class RelieveForm(PanelForm):
    id_prefix = "relieve"
    role = forms.ChoiceField(choices=IncidentRole.choices)
    user = StaffChoiceField(queryset=_staff_users())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _staff_users()


class ComponentImpactForm(PanelForm):
    """A component's impact on the incident. The component comes as an id (an affected component's own form, or
    a match of the component search) or, without JavaScript, as its exact name."""

    id_prefix = "component"
    # Never rendered as a <select>: 200 components would be 200 options on every war-room page.
    component = forms.ModelChoiceField(queryset=Component.objects.all(), required=False)
    component_name = LineFormField(
        max_length=NAME_MAX,
        required=False,
        label="Component",
        help_text="Type part of its name and pick a match; or type its full name.",
    )
    impact = forms.ChoiceField(choices=[("", "Not affected (remove)"), *IMPACT_CHOICES], required=False)

    def clean(self):
        data = super().clean()
        if data.get("component") is None and "component" not in self.errors:
            typed = data.get("component_name", "")
            if not typed:
                if "component_name" not in self.errors:
                    self.add_error("component_name", "Pick a component: type its name and choose a match.")
            else:
                component = incident_selectors.component_named(typed)
                if component is None:
                    self.add_error("component_name", f"No component is named “{typed}”.")
                data["component"] = component
        return data


class NoteForm(PanelForm):
    id_prefix = "note"
    body = BodyFormField(widget=forms.Textarea(attrs={"rows": 3}), label="Note", max_length=NOTE_MAX)
    pinned = forms.BooleanField(required=False, label="Pin to the timeline (for the post-mortem)")


class PinForm(PanelForm):
    id_prefix = "pin"
    pinned = forms.BooleanField(required=False)


class PublicUpdateForm(PanelForm):
    """A public update, with a status for each component it names. The page offers the incident's affected
    components only (`components`); a post may name others by id (`component_<id>`), as the page did when it
    listed every component, and an id that names no component is refused."""

    id_prefix = "update"
    status = forms.ChoiceField(choices=[(s, s.capitalize()) for s in PUBLIC_STATUSES[:4]])
    body = BodyFormField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Message for merchants", max_length=BODY_MAX
    )

    def __init__(self, *args, components=(), **kwargs):
        super().__init__(*args, **kwargs)
        offered = {component.pk: component for component in components}
        self.unknown_component_ids: list[str] = []
        if self.is_bound:
            posted, out_of_range = _posted_component_ids(self.data)
            wanted = [pk for pk in posted if pk not in offered]
            if wanted:
                offered.update(Component.objects.in_bulk(wanted))
            self.unknown_component_ids = [str(pk) for pk in posted if pk not in offered] + out_of_range
        self.component_fields = []
        for component in offered.values():
            name = f"component_{component.pk}"
            self.fields[name] = forms.ChoiceField(
                choices=[("", "No change"), *ComponentStatus.choices], required=False, label=component.name
            )
            self.component_fields.append((component, name))

    def clean(self):
        data = super().clean()
        if self.unknown_component_ids:
            raise forms.ValidationError(
                f"No component has the id {', '.join(self.unknown_component_ids[:3])}; nothing was posted."
            )
        return data

    def component_statuses(self) -> list[tuple[Component, str]]:
        return [(c, self.cleaned_data[name]) for c, name in self.component_fields if self.cleaned_data[name]]

    def bound_component_fields(self):
        return [self[name] for _, name in self.component_fields]


# (How many keys a post may carry at all is Django's DATA_UPLOAD_MAX_NUMBER_FIELDS: more is a 400.)
_COMPONENT_KEY = re.compile(r"component_([0-9]+)")
_ID_MAX = 2**63 - 1


def _posted_component_ids(data) -> tuple[list[int], list[str]]:
    """The component ids named by `component_<id>` keys that carry a status, and the ids no row can have (past
    64 bits), shortened for the message."""
    ids, out_of_range = [], []
    for key in data:
        match = _COMPONENT_KEY.fullmatch(key)
        if not match or not data.get(key):
            continue
        if len(match[1]) > 19 or int(match[1]) > _ID_MAX:
            out_of_range.append(match[1][:24])
        else:
            ids.append(int(match[1]))
    return ids, out_of_range


class MergeForm(PanelForm):
    """Merge into another active incident, picked from the search's matches (`into`, an id) or typed as its
    reference ("INC-12") without JavaScript."""

    id_prefix = "merge"
    # Never rendered as a <select>: the matches come from the incident search.
    into = forms.ModelChoiceField(
        queryset=Incident.objects.all(), label="Merge into incident", required=False
    )
    into_reference = LineFormField(
        max_length=SEARCH_MAX,
        required=False,
        label="Merge into incident",
        help_text="Type its reference (INC-12) or part of its title and pick a match.",
    )

    def __init__(self, *args, incident: Incident | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident_id = incident.pk if incident is not None else None
        # Offer active incidents; the service still refuses a finished one that slips through.
        others = Incident.objects.filter(status__in=ACTIVE).order_by("-started_at")
        if incident is not None:
            others = others.exclude(pk=incident.pk)
        self.fields["into"].queryset = others

    def clean(self):
        data = super().clean()
        if data.get("into") is None and "into" not in self.errors:
            typed = data.get("into_reference", "")
            if not typed:
                if "into_reference" not in self.errors:
                    self.add_error("into_reference", "Pick the incident to merge into.")
            else:
                into = incident_selectors.merge_target_by_reference(self.incident_id or 0, typed)
                if into is None:
                    self.add_error("into_reference", f"“{typed}” names no other active incident.")
                data["into"] = into
        return data


class PostmortemForm(forms.Form):
    summary = BodyFormField(max_length=DOCUMENT_MAX, widget=forms.Textarea(attrs={"rows": 4}), required=False)
    customer_impact = BodyFormField(
        max_length=DOCUMENT_MAX, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    timeline = BodyFormField(
        max_length=DOCUMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="Pre-filled from pinned events.",
    )
    root_cause = BodyFormField(
        max_length=DOCUMENT_MAX, widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    went_well = BodyFormField(
        max_length=DOCUMENT_MAX, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    went_badly = BodyFormField(
        max_length=DOCUMENT_MAX, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    public_summary = BodyFormField(
        max_length=DOCUMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Shown on the public incident once published.",
    )

    def sections(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}


class PostmortemStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Postmortem.Status.choices)


class ActionItemForm(forms.Form):
    title = LineFormField(max_length=TITLE_MAX)
    owner = StaffChoiceField(queryset=_staff_users(), required=False, empty_label="Nobody yet")
    due_date = DateFormField(required=False, widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff_users()


class ActionItemStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)


PERIOD_CHOICES = [("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"), ("custom", "Custom")]


class MetricsPeriodForm(forms.Form):
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, initial="30")
    since = DateFormField(required=False, widget=DATE_INPUT, label="From")
    until = DateFormField(required=False, widget=DATE_INPUT, label="Until (inclusive)")

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            if not data.get("since") or not data.get("until"):
                raise forms.ValidationError("A custom period needs both dates.")
            if data["since"] > data["until"]:
                raise forms.ValidationError("The period must start before it ends.")
        return data

    def bounds(self):
        """(since, until) as aware datetimes; the last 30 days when the form is empty or invalid."""
        now = timezone.now()
        data = self.cleaned_data if self.is_valid() else {}
        period = data.get("period") or "30"
        if period == "custom":
            start = datetime.combine(data["since"], time.min, tzinfo=UTC)
            end = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=UTC)
            return start, end
        return now - timedelta(days=int(period)), now


class SeverityPolicyForm(forms.Form):
    detect_minutes = forms.IntegerField(label="Detect (minutes)", min_value=0, max_value=MAX_SLA_MINUTES)
    respond_minutes = forms.IntegerField(label="Respond (minutes)", min_value=0, max_value=MAX_SLA_MINUTES)
    resolve_minutes = forms.IntegerField(label="Resolve (minutes)", min_value=0, max_value=MAX_SLA_MINUTES)
