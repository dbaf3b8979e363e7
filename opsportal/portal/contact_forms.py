"""Forms for a responder's own contact methods and notification rules. They check shape; oncall.contacts
normalises addresses, checks codes and decides who may change what."""

from __future__ import annotations

from django import forms

from oncall.contacts import RULE_MAX_DELAY_MINUTES
from oncall.models import ContactKind, ContactMethod, NotificationRule
from opsportal.core.fields import LineFormField
from opsportal.core.text import NAME_MAX


class ContactMethodForm(forms.Form):
    prefix = "method"
    kind = forms.ChoiceField(choices=ContactKind.choices, label="Type")
    address = LineFormField(
        max_length=254,
        required=False,
        label="Address",
        help_text="Email, or a phone as +14165550100. Empty for push.",
    )
    label = LineFormField(max_length=NAME_MAX, required=False, help_text="e.g. “Work phone”")

    def clean(self):
        data = super().clean()
        if data.get("kind") in (ContactKind.EMAIL, ContactKind.SMS) and not data.get("address"):
            self.add_error("address", "Give the email address or phone number.")
        return data


class VerifyForm(forms.Form):
    code = LineFormField(
        max_length=12,
        label="Code",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class EnabledForm(forms.Form):
    enabled = forms.BooleanField(required=False)


class RuleForm(forms.Form):
    prefix = "rule"
    method = forms.ModelChoiceField(queryset=ContactMethod.objects.none(), label="Contact method")
    delay_minutes = forms.IntegerField(
        min_value=0, max_value=RULE_MAX_DELAY_MINUTES, initial=0, label="After (minutes)"
    )
    urgency = forms.ChoiceField(choices=NotificationRule.ForUrgency.choices, initial="any", label="For")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].queryset = ContactMethod.objects.filter(user=user).order_by("kind", "pk")
        self.fields["method"].label_from_instance = _method_label


def _method_label(method: ContactMethod) -> str:
    name = method.label or method.address or method.get_kind_display()
    state = "" if method.is_verified else " (not verified yet)"
    return f"{method.get_kind_display()}: {name}{state}"
