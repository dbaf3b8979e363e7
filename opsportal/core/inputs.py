"""Shape checks for API input: an input serializer's validated data, or a 400 problem listing the fields.

A JSON body is typed: DRF would read 0 as the string "0", "5" as the number 5 and 1 as true; the OpenAPI schema
promises a string, an integer or a boolean, so anything else is refused here before the serializer coerces it.
Query strings are all text, so only JSON bodies are checked this way."""

from __future__ import annotations

from django.http import QueryDict
from rest_framework import fields, relations, serializers


def _expected_type(field) -> tuple[tuple[type, ...], str] | None:
    """The JSON types a field's value may have, or None where the field takes more than one on purpose."""
    if isinstance(field, fields.BooleanField):
        return (bool,), "true or false"
    if isinstance(field, fields.IntegerField | relations.PrimaryKeyRelatedField):
        return (int,), "a whole number"
    if isinstance(field, fields.ListField | relations.ManyRelatedField | serializers.ListSerializer):
        return (list,), "a list"
    if isinstance(field, serializers.Serializer):
        return (dict,), "an object"
    if isinstance(
        field,
        fields.CharField
        | fields.ChoiceField
        | fields.DateField
        | fields.DateTimeField
        | fields.TimeField
        | relations.SlugRelatedField,
    ):
        return (str,), "a string"
    return None


def _child(field):
    if isinstance(field, fields.ListField):
        return field.child
    if isinstance(field, relations.ManyRelatedField):
        return field.child_relation
    if isinstance(field, serializers.ListSerializer):
        return field.child
    return None


def _type_errors(field, value):
    if value is None or (value == "" and isinstance(field, relations.RelatedField) and field.allow_null):
        return None  # allow_null is the serializer's to judge; DRF reads "" as null for a reference
    expected = _expected_type(field)
    if expected is None:
        return None
    types, words = expected
    if int in types and isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 1.0 as an integer
    # bool is an int to Python, never to JSON.
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        return [serializers.ErrorDetail(f"Expected {words}.", code="invalid")]
    child = _child(field)
    if child is not None:
        errors = {index: err for index, item in enumerate(value) if (err := _type_errors(child, item))}
        return errors or None
    if isinstance(field, serializers.Serializer):
        return _object_errors(field, value)
    return None


def _object_errors(serializer, data: dict) -> dict:
    errors = {}
    for name, field in serializer.fields.items():
        if field.read_only or field.source == "*" or name not in data:
            continue
        if err := _type_errors(field, data[name]):
            errors[name] = err
    return errors


def valid_input(serializer_class, data, *, partial: bool = False) -> dict:
    """`partial`: fields left out are neither required nor defaulted (for PATCH)."""
    serializer = serializer_class(data=data, partial=partial)
    if isinstance(data, dict) and not isinstance(data, QueryDict):
        errors = _object_errors(serializer, data)
        if errors:
            raise serializers.ValidationError(errors)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
