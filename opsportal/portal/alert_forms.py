"""Alert stream filters and the alert group's snooze form. They check shape; the alerting services decide."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from oncall import alert_lifecycle
from oncall.alert_selectors import OPEN, SEARCH_MAX, StreamFilters
from oncall.models import Integration, Team
from opsportal.core.fields import InstantFormField, LineFormField
from opsportal.incidents.models import Severity

ALL = "all"
STATUS_CHOICES = [
    (OPEN, "Open (triggered or acknowledged)"),
    (alert_lifecycle.TRIGGERED, "Triggered"),
    (alert_lifecycle.ACKNOWLEDGED, "Acknowledged"),
    (alert_lifecycle.RESOLVED, "Resolved"),
    (ALL, "All"),
]
SNOOZE_CHOICES = [("15", "15 min"), ("60", "1 h"), ("240", "4 h"), ("custom", "Until…")]
MAX_SNOOZE = timedelta(days=7)


class IntegrationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, integration) -> str:
        return f"{integration.team.name}: {integration.name}"


class StreamFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, initial=OPEN)
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="Any team"
    )
    integration = IntegrationChoiceField(
        queryset=Integration.objects.select_related("team").order_by("team__name", "name"),
        required=False,
        empty_label="Any integration",
    )
    urgency = forms.ChoiceField(
        choices=[("", "Any urgency")] + [(u, u.capitalize()) for u in alert_lifecycle.URGENCIES],
        required=False,
    )
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    q = LineFormField(max_length=SEARCH_MAX, required=False, label="Summary contains")

    def filters(self) -> StreamFilters:
        if not self.is_bound:
            return StreamFilters()
        data = self.cleaned_data
        status = data.get("status") or OPEN
        return StreamFilters(
            status="" if status == ALL else status,
            team=data.get("team"),
            integration=data.get("integration"),
            urgency=data.get("urgency") or "",
            severity=data.get("severity") or "",
            text=(data.get("q") or "").strip(),
        )


class SnoozeForm(forms.Form):
    """Snooze for a while or until a time, read in the viewer's own zone."""

    duration = forms.ChoiceField(
        choices=SNOOZE_CHOICES, widget=forms.RadioSelect, initial="60", label="Snooze"
    )
    until = InstantFormField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Until (your time)",
    )

    def __init__(self, *args, zone: str = "UTC", now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.now = now or timezone.now()

    def clean(self):
        data = super().clean()
        choice = data.get("duration")
        if choice is None:
            return data
        if choice != "custom":
            data["until_instant"] = self.now + timedelta(minutes=int(choice))
            return data
        until = data.get("until")
        if until is None:
            self.add_error("until", "Give the time to snooze until.")
            return data
        # The field made the typed wall clock aware in the server's zone; the person typed it in theirs.
        local = datetime(
            until.year, until.month, until.day, until.hour, until.minute, tzinfo=ZoneInfo(self.zone)
        )
        if local <= self.now:
            self.add_error("until", "Give a time in the future.")
        elif local - self.now > MAX_SNOOZE:
            self.add_error("until", f"Snooze for at most {MAX_SNOOZE.days} days.")
        else:
            data["until_instant"] = local
        return data
