"""Component and group forms for the portal. They check shape; the status page services decide on names,
permissions and what the public sees."""

from __future__ import annotations

from django import forms

from opsportal.core.bounds import MAX_POSITION
from opsportal.core.fields import BodyFormField, DateFormField, LineFormField
from opsportal.core.text import DESCRIPTION_MAX, NAME_MAX
from statuspage.models import ComponentGroup, ComponentStatus


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, group) -> str:
        return group.name


class ComponentGroupForm(forms.Form):
    name = LineFormField(max_length=NAME_MAX, help_text="Shown on the public status page.")
    description = BodyFormField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=DESCRIPTION_MAX
    )
    position = forms.IntegerField(
        min_value=0, max_value=MAX_POSITION, initial=0, help_text="Lower numbers come first."
    )


class ComponentForm(forms.Form):
    name = LineFormField(max_length=NAME_MAX, help_text="Shown on the public status page.")
    description = BodyFormField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=DESCRIPTION_MAX
    )
    group = GroupChoiceField(queryset=ComponentGroup.objects.all(), required=False, empty_label="No group")
    position = forms.IntegerField(
        min_value=0, max_value=MAX_POSITION, initial=0, help_text="Lower numbers come first in the group."
    )
    showcase = forms.BooleanField(required=False, initial=True, label="Show on the public status page")
    only_show_if_degraded = forms.BooleanField(
        required=False, label="Show publicly only while it is not operational"
    )
    start_date = DateFormField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label="Count uptime from",
        help_text="Leave empty to count from its first recorded status.",
    )


class ComponentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ComponentStatus.choices)
