"""Public forms: subscribe, and change what a subscription follows. They check shape; the subscription
services check meaning (a real address, a public webhook target)."""

from __future__ import annotations

from django import forms

from opsportal.core.fields import LineFormField
from opsportal.core.text import LINE_MAX, TITLE_MAX
from statuspage.models import SubscriberChannel
from statuspage.subscriber_selectors import subscribable_components


class ComponentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.group.name} · {obj.name}" if obj.group_id else obj.name


class SubscribeForm(forms.Form):
    channel = forms.ChoiceField(
        choices=SubscriberChannel.choices, initial=SubscriberChannel.EMAIL, label="How to reach you"
    )
    address = LineFormField(
        max_length=LINE_MAX,
        label="Email address, phone number (+14165550100) or webhook URL",
        error_messages={"required": "Enter where we should send updates."},
    )
    components = ComponentChoiceField(
        queryset=subscribable_components(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Components (choose none to hear about everything)",
    )
    # A honeypot: hidden from people, filled in by naive bots. Anything here and we quietly save nothing.
    website = LineFormField(max_length=TITLE_MAX, required=False, label="Leave this empty")

    def honeypot_filled(self) -> bool:
        return bool(self.data.get("website", "").strip())


class ManageSubscriptionForm(forms.Form):
    components = ComponentChoiceField(
        queryset=subscribable_components(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Components (choose none to hear about everything)",
    )
