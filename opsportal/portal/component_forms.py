"""Component and group forms for the portal. They check shape; the status page services decide on names,
permissions and what the public sees."""

from __future__ import annotations

from django import forms

from statuspage.models import ComponentGroup, ComponentStatus


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, group) -> str:
        return group.name


class ComponentGroupForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Shown on the public status page.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)
    position = forms.IntegerField(min_value=0, initial=0, help_text="Lower numbers come first.")


class ComponentForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Shown on the public status page.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)
    group = GroupChoiceField(queryset=ComponentGroup.objects.all(), required=False, empty_label="No group")
    position = forms.IntegerField(min_value=0, initial=0, help_text="Lower numbers come first in the group.")
    showcase = forms.BooleanField(required=False, initial=True, label="Show on the public status page")
    only_show_if_degraded = forms.BooleanField(
        required=False, label="Show publicly only while it is not operational"
    )
    start_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label="Count uptime from",
        help_text="Leave empty to count from its first recorded status.",
    )


class ComponentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ComponentStatus.choices)
