"""Maintenance forms for the portal. They check shape; the maintenance services decide what may happen.

Times are typed and shown in UTC whatever the browser's or the staff member's time zone, so a window
reads the same to everyone who schedules it and to the public page."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.core.fields import BodyFormField, InstantFormField, LineFormField
from opsportal.core.text import BODY_MAX, TITLE_MAX
from opsportal.portal.forms import PanelForm
from statuspage.models import Component

UTC_HELP = "UTC, not your local time."


class UTCDateTimeField(InstantFormField):
    """A datetime-local input read and written in UTC, within the years opsportal accepts."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", UTC_HELP)
        super().__init__(**kwargs)

    def to_python(self, value):
        with timezone.override(datetime.UTC):
            return super().to_python(value)

    def prepare_value(self, value):
        with timezone.override(datetime.UTC):
            return super().prepare_value(value)


class ComponentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, component) -> str:
        return component.name


class ScheduleForm(forms.Form):
    title = LineFormField(max_length=TITLE_MAX, help_text="Shown on the public status page.")
    body = BodyFormField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label="What merchants should expect",
        max_length=BODY_MAX,
    )
    components = ComponentChoiceField(
        queryset=Component.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="They show as under maintenance while the window runs.",
    )
    scheduled_for = UTCDateTimeField(label="Starts (UTC)")
    scheduled_until = UTCDateTimeField(label="Ends (UTC)")


class TransitionForm(PanelForm):
    id_prefix = "transition"
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in MaintenanceStatus])
    body = BodyFormField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=BODY_MAX,
        label="Message (optional)",
        help_text="Leave empty for the standard wording.",
    )


class UpdateForm(PanelForm):
    id_prefix = "update"
    body = BodyFormField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Update for merchants", max_length=BODY_MAX
    )


class RescheduleForm(PanelForm):
    id_prefix = "reschedule"
    scheduled_for = UTCDateTimeField(label="Starts (UTC)")
    scheduled_until = UTCDateTimeField(label="Ends (UTC)")
