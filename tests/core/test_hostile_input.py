"""Every way input gets in is bounded: each model text field, API input serializer field and form field carries a
maximum length and the control-character rules of opsportal.core.text; each integer a minimum and a maximum; each
date the range of opsportal.core.bounds. Walking them all means a new field cannot be forgotten."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework import serializers

from opsportal.core.fields import (
    BodyField,
    BodyFormField,
    LineField,
    LineFormField,
    validate_date_in_range,
    validate_instant_in_range,
)
from opsportal.core.serializer_fields import BodySerializerField, LineSerializerField, SlugReferenceField
from opsportal.core.text import one_line, validate_body, validate_line, xml_safe

PROJECT_PACKAGES = ("opsportal", "oncall", "statuspage")

# Text the system writes itself (never a person's input), or fields in apps whose migrations belong to another
# part of issue 9 — each with the reason it is not a LineField/BodyField.
SYSTEM_TEXT = {
    "core.StaffProfile.phone_number": "written only through the E.164 check in the staff services",
    "core.AuditEntry.actor_label": "system: a username or token name at the time",
    "core.AuditEntry.action": "system: a dotted action name",
    "core.AuditEntry.object_type": "system",
    "core.AuditEntry.object_id": "system",
    "core.AuditEntry.object_repr": "system: str() of a row whose own fields are bounded",
    "core.AuditEntry.request_id": "system",
    "core.ScheduledJob.task": "system: a dotted task path",
    "core.ScheduledJob.dedupe_key": "system",
    "core.ScheduledJob.last_error": "system: an exception message",
    "core.ScheduledJob.subject": "system: what a timer serves, composed by the scheduling service",
    "core.ApiToken.prefix": "system: generated",
    "core.ApiToken.token_hash": "system: generated",
    "notifications.Message.kind": "system",
    "notifications.Message.dedupe_key": "system",
    "notifications.Message.subject": "system: composed from bounded titles; transports make it one line",
    "notifications.Message.text_body": "system: composed from bounded bodies",
    "notifications.Message.html_body": "system: rendered by templates (escaped)",
    "notifications.Delivery.address": "system: copied from a checked subscriber or staff contact",
    "notifications.Delivery.recipient_ref": "system",
    "notifications.Delivery.dedupe_key": "system",
    "notifications.Delivery.last_error": "system: a transport's error text",
    "notifications.Delivery.claimed_by": "system: a worker's node, pid and claim id",
    "notifications.Message.audience": "system: a name in NOTIFICATION_AUDIENCES",
    "notifications.Message.expansion_cursor": "system: the last expanded recipient's id",
    "notifications.Message.expansion_claimed_by": "system: a worker's node, pid and claim id",
    "incidents.TimelineEvent.dedupe_key": "system",
    "incidents.AffectedComponent.impact": "system: a component status, checked by the service",
    "incidents.PublicUpdate.status": "system: one of the public statuses, checked by the service",
    "changes.MaintenanceUpdate.status": "system: the window's status at the time",
    "oncall.Schedule.ical_token": "system: generated secret",
    "oncall.PersonalFeed.token": "system: generated secret",
    "statuspage.Subscriber.secret": "system: generated secret",
}


def _project_models():
    for model in apps.get_models():
        if model.__module__.split(".")[0] in PROJECT_PACKAGES:
            yield model


def _text_fields():
    for model in _project_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.CharField | models.TextField) and not field.choices:
                yield f"{model._meta.app_label}.{model.__name__}.{field.name}", field


def _is_bounded_by_validator(field) -> bool:
    # Slugs and IANA zone names are checked against a closed alphabet or list: no control characters.
    names = {getattr(v, "__name__", type(v).__name__) for v in field.validators}
    # Email addresses pass Django's EmailValidator, whose alphabet has no control characters either.
    return isinstance(field, models.SlugField | models.EmailField) or "validate_time_zone" in names


@pytest.mark.parametrize(
    ("name", "field"), list(_text_fields()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_model_text_field_is_bounded(name, field):
    if name in SYSTEM_TEXT:
        return
    assert field.max_length, f"{name} has no max_length"
    assert isinstance(field, LineField | BodyField) or _is_bounded_by_validator(field), (
        f"{name} is a plain {type(field).__name__}: use opsportal.core.fields.LineField or BodyField"
    )


def test_system_text_list_names_only_real_fields():
    names = {name for name, _ in _text_fields()}
    assert set(SYSTEM_TEXT) <= names, f"stale entries: {set(SYSTEM_TEXT) - names}"


def _project_modules():
    for package_name in PROJECT_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if ".migrations" in info.name or ".management" in info.name or info.name.endswith("tests"):
                continue
            yield importlib.import_module(info.name)


def _classes(base):
    seen = {}
    for module in _project_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, base) and cls.__module__ == module.__name__:
                seen[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return sorted(seen.items())


def _input_serializer_fields():
    for name, cls in _classes(serializers.Serializer):
        short = name.rsplit(".", 1)[-1]
        if short.endswith("Output") or (short.endswith("Serializer") and "Input" not in short):
            continue  # response shapes (*Serializer: named before the Input/Output habit); bounded on the way in
        for field_name, field in cls().fields.items():
            if not field.read_only:
                yield f"{name}.{field_name}", field


@pytest.mark.parametrize(
    ("name", "field"), list(_input_serializer_fields()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_serializer_input_field_is_bounded(name, field):
    if isinstance(field, serializers.IntegerField):
        assert field.min_value is not None and field.max_value is not None, (
            f"{name}: give min_value and max_value"
        )
    if isinstance(field, serializers.DateTimeField):
        assert validate_instant_in_range in field.validators, f"{name}: use InstantInRangeField"
    elif isinstance(field, serializers.DateField):
        assert validate_date_in_range in field.validators, f"{name}: use DateInRangeField"
    if isinstance(field, serializers.ListField):
        assert field.max_length, f"{name}: a list input needs max_length"
    if isinstance(field, serializers.ManyRelatedField):
        field = field.child_relation
    if isinstance(field, serializers.SlugRelatedField):
        assert isinstance(field, SlugReferenceField), (
            f"{name}: use SlugReferenceField (checked before lookup)"
        )
    if isinstance(field, serializers.CharField):
        assert field.max_length, f"{name} has no max_length"
        assert isinstance(field, LineSerializerField | BodySerializerField | serializers.SlugField), (
            f"{name} is a plain {type(field).__name__}: use opsportal.core.serializer_fields"
        )


def test_serializer_walk_finds_the_api_inputs():
    names = {name for name, _ in _input_serializer_fields()}
    assert "opsportal.incidents.api.serializers.PublicUpdateInput.body" in names
    assert "opsportal.changes.api.serializers.MaintenanceScheduleInput.title" in names
    assert "statuspage.api.views.ComponentStatusSetInput.status" in names


def _form_fields():
    for name, cls in _classes(forms.Form):
        for field_name, field in cls.base_fields.items():
            yield f"{name}.{field_name}", field


@pytest.mark.parametrize(
    ("name", "field"), list(_form_fields()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_form_field_is_bounded(name, field):
    if isinstance(field, forms.IntegerField):
        assert field.min_value is not None and field.max_value is not None, (
            f"{name}: give min_value and max_value"
        )
    if isinstance(field, forms.DateTimeField):
        assert validate_instant_in_range in field.validators, f"{name}: use InstantFormField"
    elif isinstance(field, forms.DateField):
        assert validate_date_in_range in field.validators, f"{name}: use DateFormField"
    if isinstance(field, forms.CharField) and not isinstance(field, forms.ChoiceField):
        assert field.max_length, f"{name} has no max_length"
        assert isinstance(field, LineFormField | BodyFormField | forms.SlugField), (
            f"{name} is a plain {type(field).__name__}: use opsportal.core.fields.LineFormField or BodyFormField"
        )


def test_form_walk_finds_the_portal_and_public_forms():
    names = {name for name, _ in _form_fields()}
    assert "opsportal.portal.incident_forms.PublicUpdateForm.body" in names
    assert "statuspage.public.forms.SubscribeForm.address" in names


# The rules themselves (pure).

BAD_IN_LINES = ["\n", "\r", "\x0b", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ufffe"]


@pytest.mark.parametrize("char", [*BAD_IN_LINES, "\t"])
def test_validate_line_refuses_control_characters(char):
    with pytest.raises(ValidationError):
        validate_line(f"Checkout{char}down")


@pytest.mark.parametrize("char", BAD_IN_LINES[2:])
def test_validate_body_refuses_control_characters_but_tab_and_newline(char):
    validate_body("Line one\n\tLine two")
    with pytest.raises(ValidationError):
        validate_body(f"Checkout{char}down")


def test_validate_line_accepts_unicode_text():
    validate_line("Zahlungen verzögert — 支付延迟 👩‍💻")


def test_xml_safe_and_one_line_repair_stored_text():
    assert xml_safe("a\x0bb\tc\nd\ufffe") == "ab\tc\nd"
    assert one_line("Checkout\r\nBcc: x@example.com\x0b down") == "Checkout Bcc: x@example.com down"


@pytest.mark.django_db
def test_slug_reference_refuses_control_characters_and_length_before_any_lookup(django_assert_num_queries):
    from django.contrib.auth import get_user_model

    field = SlugReferenceField(slug_field="username", queryset=get_user_model().objects.all())
    for hostile in ("rob\x00", "a\x1bb", "x" * 151):
        with django_assert_num_queries(0), pytest.raises(serializers.ValidationError):
            field.run_validation(hostile)
