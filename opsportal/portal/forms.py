"""Portal forms: they check shape; the services they feed check meaning."""

from __future__ import annotations

from email.utils import parseaddr

from django import forms

from opsportal.core.fields import BodyFormField, LineFormField
from opsportal.core.models import Partner
from opsportal.core.roles import ROLE_ORDER
from opsportal.core.scopes import ALL_SCOPES, PARTNER_SCOPES
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


class PartnerForm(forms.Form):
    prefix = "partner"
    name = LineFormField(max_length=120, help_text="The organisation, e.g. “Acme Payments”.")
    contacts = BodyFormField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="One per line: Name <email>.",
    )

    def clean_contacts(self) -> list[tuple[str, str]]:
        contacts = []
        for line in self.cleaned_data["contacts"].splitlines():
            if not line.strip():
                continue
            name, email = parseaddr(line)
            if "@" not in email:
                raise forms.ValidationError(f"Write “{line.strip()}” as Name <email>.")
            contacts.append((name or email.split("@", 1)[0], email))
        return contacts


class PartnerTokenForm(forms.Form):
    prefix = "partner_token"
    partner = forms.ModelChoiceField(queryset=Partner.objects.filter(is_active=True))
    name = LineFormField(max_length=NAME_MAX, help_text="What will use it, e.g. “status monitor”.")
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in PARTNER_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Partners read the public view and manage their own subscriptions.",
    )
    expires_in_days = forms.ChoiceField(
        choices=EXPIRY_CHOICES, required=False, initial="365", label="Expires in"
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
