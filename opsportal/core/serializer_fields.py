"""The rules of opsportal.core.text as DRF serializer fields, for every API input that takes text."""

from __future__ import annotations

from rest_framework import serializers

from opsportal.core.text import normalise_newlines, validate_body, validate_line


class LineSerializerField(serializers.CharField):
    """One line of text with a maximum length (required)."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        self.validators.append(validate_line)


class BodySerializerField(serializers.CharField):
    """Multi-line text with a maximum length (required); CRLF is stored as LF."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        self.validators.append(validate_body)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return normalise_newlines(value)
