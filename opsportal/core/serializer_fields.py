"""The rules of opsportal.core.text and opsportal.core.bounds as DRF serializer fields, for every API input that
takes text, a date or an instant."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from opsportal.core.fields import validate_date_in_range, validate_instant_in_range
from opsportal.core.text import normalise_newlines, validate_body, validate_line


class _TypedText(serializers.CharField):
    def to_internal_value(self, data):
        # The length as sent, before DRF trims it: the OpenAPI schema's maxLength counts what is sent.
        if isinstance(data, str) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class LineSerializerField(_TypedText):
    """One line of text with a maximum length (required)."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        self.validators.append(validate_line)


class BodySerializerField(_TypedText):
    """Multi-line text with a maximum length (required); CRLF is stored as LF."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        self.validators.append(validate_body)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return normalise_newlines(value)


class DateInRangeField(serializers.DateField):
    """A date within the years opsportal accepts (opsportal.core.bounds)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_date_in_range)


class InstantInRangeField(serializers.DateTimeField):
    """A date and time within the years opsportal accepts (opsportal.core.bounds)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_instant_in_range)


class SlugReferenceField(serializers.SlugRelatedField):
    """A reference by name (a username, a slug): checked as one bounded line before it is looked up, so hostile
    text (a NUL byte, which PostgreSQL refuses with an error) never reaches the database."""

    def __init__(self, *, max_length: int = 150, **kwargs):
        self.max_length = max_length
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            if len(data) > self.max_length:
                raise serializers.ValidationError(
                    f"Ensure this field has no more than {self.max_length} characters."
                )
            try:
                validate_line(data)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from None
        return super().to_internal_value(data)
