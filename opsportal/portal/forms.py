"""Portal forms: they check shape; the services they feed check meaning."""

from __future__ import annotations

from django import forms

from opsportal.api.scopes import ALL_SCOPES
from opsportal.core.fields import LineFormField
from opsportal.core.roles import ROLE_ORDER
from opsportal.core.text import NAME_MAX

EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]


class ApiTokenForm(forms.Form):
    name = LineFormField(max_length=NAME_MAX, help_text="What will use it, e.g. “Acme payments monitor”.")
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="A write scope includes reading the same area.",
    )
    expires_in_days = forms.ChoiceField(
        choices=EXPIRY_CHOICES, required=False, initial="90", label="Expires in"
    )
    rate_limit_per_minute = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100000,
        label="Rate limit (requests/minute)",
        help_text="Leave empty for the site default.",
    )


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=[("", "No access")] + [(role.value, role.label) for role in ROLE_ORDER], required=False
    )


class LiveCheckForm(forms.Form):
    delay_seconds = forms.IntegerField(min_value=0, max_value=300, initial=5, label="Fire in (seconds)")


class PanelForm(forms.Form):
    """A page that holds several forms (the war room, a maintenance window, a schedule) gives each its own id
    prefix, so labels stay unique."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
