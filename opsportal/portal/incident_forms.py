"""War-room forms: they check shape (types, choices, lengths); the incident services check meaning."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from oncall.models import Team
from opsportal.core.fields import BodyFormField, DateFormField, LineFormField
from opsportal.core.text import BODY_MAX, DOCUMENT_MAX, LINE_MAX, NOTE_MAX, TITLE_MAX
from opsportal.incidents.lifecycle import ACTIVE, PUBLIC_STATUSES, IncidentStatus
from opsportal.incidents.models import ActionItem, Incident, IncidentRole, Postmortem, Severity
from opsportal.incidents.postmortems import EDITABLE_FIELDS
from opsportal.incidents.selectors import IncidentFilters
from opsportal.portal.forms import PanelForm
from statuspage.models import Component, ComponentStatus

IMPACT_CHOICES = [(value, label) for value, label in ComponentStatus.choices if value != "operational"]
DATE_INPUT = forms.DateInput(attrs={"type": "date"})
MAX_SLA_MINUTES = 366 * 24 * 60  # a target past a year is no target


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


class DeclareForm(forms.Form):
    title = LineFormField(max_length=TITLE_MAX, help_text="Internal: what responders call it.")
    public_title = LineFormField(
        max_length=TITLE_MAX, required=False, help_text="What merchants see; defaults to the title."
    )
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.P2)
    summary = BodyFormField(max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="No team")
    commander = StaffChoiceField(queryset=_staff_users(), required=False, empty_label="Nobody yet")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commander"].queryset = _staff_users()
        self.component_fields = []
        for component in Component.objects.all():
            name = f"impact_{component.pk}"
            self.fields[name] = forms.ChoiceField(
                choices=[("", "Not affected"), *IMPACT_CHOICES], required=False, label=component.name
            )
            self.component_fields.append((component, name))

    def components(self) -> list[tuple[Component, str]]:
        return [(c, self.cleaned_data[name]) for c, name in self.component_fields if self.cleaned_data[name]]

    def bound_component_fields(self):
        return [self[name] for _, name in self.component_fields]


class TransitionForm(PanelForm):
    id_prefix = "transition"
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in IncidentStatus])
    note = LineFormField(max_length=LINE_MAX, required=False)


class SeverityForm(PanelForm):
    id_prefix = "severity"
    severity = forms.ChoiceField(choices=Severity.choices)
    reason = LineFormField(max_length=LINE_MAX, required=False)


class RoleForm(PanelForm):
    id_prefix = "role"
    role = forms.ChoiceField(choices=IncidentRole.choices)
    user = StaffChoiceField(queryset=_staff_users(), label="Person")
    replace = forms.BooleanField(required=False, label="Hand over (replace the current holder)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _staff_users()


class RelieveForm(PanelForm):
    id_prefix = "relieve"
    role = forms.ChoiceField(choices=IncidentRole.choices)
    user = StaffChoiceField(queryset=_staff_users())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _staff_users()


class ComponentImpactForm(PanelForm):
    id_prefix = "component"
    component = forms.ModelChoiceField(queryset=Component.objects.all())
    impact = forms.ChoiceField(choices=[("", "Not affected (remove)"), *IMPACT_CHOICES], required=False)


class NoteForm(PanelForm):
    id_prefix = "note"
    body = BodyFormField(widget=forms.Textarea(attrs={"rows": 3}), label="Note", max_length=NOTE_MAX)
    pinned = forms.BooleanField(required=False, label="Pin to the timeline (for the post-mortem)")


class PinForm(PanelForm):
    id_prefix = "pin"
    pinned = forms.BooleanField(required=False)


class PublicUpdateForm(PanelForm):
    id_prefix = "update"
    status = forms.ChoiceField(choices=[(s, s.capitalize()) for s in PUBLIC_STATUSES[:4]])
    body = BodyFormField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Message for merchants", max_length=BODY_MAX
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.component_fields = []
        for component in Component.objects.all():
            name = f"component_{component.pk}"
            self.fields[name] = forms.ChoiceField(
                choices=[("", "No change"), *ComponentStatus.choices], required=False, label=component.name
            )
            self.component_fields.append((component, name))

    def component_statuses(self) -> list[tuple[Component, str]]:
        return [(c, self.cleaned_data[name]) for c, name in self.component_fields if self.cleaned_data[name]]

    def bound_component_fields(self):
        return [self[name] for _, name in self.component_fields]


class MergeForm(PanelForm):
    id_prefix = "merge"
    into = forms.ModelChoiceField(queryset=Incident.objects.all(), label="Merge into incident")

    def __init__(self, *args, incident: Incident | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer active incidents; the service still refuses a finished one that slips through.
        others = Incident.objects.filter(status__in=ACTIVE).order_by("-started_at")
        if incident is not None:
            others = others.exclude(pk=incident.pk)
        self.fields["into"].queryset = others
        self.fields["into"].label_from_instance = lambda i: f"{i.reference} {i.title}"


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
