"""Portal forms for subscribers: the list's filters and the CSV upload (shape only)."""

from __future__ import annotations

from django import forms

from statuspage.models import SubscriberChannel, SubscriberStatus

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class SubscriberFilterForm(forms.Form):
    channel = forms.ChoiceField(choices=[("", "Any channel"), *SubscriberChannel.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *SubscriberStatus.choices], required=False)


class SubscriberImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="Header: channel,address,components (component names separated by ';')"
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("Keep the file under 5 MB; split it into several imports.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("Save the file as UTF-8 CSV.") from None
