"""Text fields that carry the rules of opsportal.core.text, for models and for Django forms.

`LineField` and `BodyField` are the model fields for text people type. Besides giving ModelForms the right form
field, they re-check their value when a row is saved (or bulk-created), so no door — form, API, command, import —
can store text the rules refuse; the services' callers already turn that ValidationError into a 400 or a form
error. `LineFormField` and `BodyFormField` are the same rules for plain forms; the date validators keep dates and
instants in the years of opsportal.core.bounds (year 9999 overflows the first horizon added to it)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models

from opsportal.core.bounds import DATE_RANGE_TEXT, date_in_range, instant_in_range
from opsportal.core.text import normalise_newlines, validate_body, validate_line


class _CheckedOnSave:
    """Runs the field's validators (length, characters) when the row is written, whatever door wrote it."""

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if value not in self.empty_values:
            try:
                self.run_validators(value)
            except ValidationError as exc:
                raise ValidationError({self.name: exc.messages}) from None
        return value


class LineField(_CheckedOnSave, models.CharField):
    """One line of typed text: a title, a name, a reason."""

    default_validators = [validate_line]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": LineFormField, **kwargs})


class BodyField(_CheckedOnSave, models.TextField):
    """Multi-line typed text with a maximum length (required: an unbounded body is how 2 MB got fanned out)."""

    default_validators = [validate_body]

    def __init__(self, *args, **kwargs):
        if not kwargs.get("max_length"):
            raise TypeError("BodyField needs a max_length (see opsportal.core.text for the sizes).")
        super().__init__(*args, **kwargs)
        # TextField does not enforce max_length itself; this validator does, in forms and on save.
        self.validators.append(MaxLengthValidator(self.max_length))

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": BodyFormField, **kwargs})


class LineFormField(forms.CharField):
    default_validators = [validate_line]

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)


class BodyFormField(forms.CharField):
    default_validators = [validate_body]

    def __init__(self, *, max_length: int, **kwargs):
        kwargs.setdefault("widget", forms.Textarea)
        super().__init__(max_length=max_length, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_newlines(value) if isinstance(value, str) else value


def validate_date_in_range(value) -> None:
    if value is not None and not date_in_range(value):
        raise ValidationError(f"Give a date {DATE_RANGE_TEXT}.", code="date_out_of_range")


def validate_instant_in_range(value) -> None:
    if value is not None and not instant_in_range(value):
        raise ValidationError(f"Give a time {DATE_RANGE_TEXT}.", code="date_out_of_range")


class DateFormField(forms.DateField):
    """A date within the years opsportal accepts."""

    default_validators = [validate_date_in_range]


class InstantFormField(forms.DateTimeField):
    """A date and time within the years opsportal accepts."""

    default_validators = [validate_instant_in_range]
