"""Maintenance API serializers: *Input ones check a request's shape (and resolve component ids), *Output ones
describe responses. Meaning (may this window move now? is it already over?) is the services' job."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.core.serializer_fields import BodySerializerField, InstantInRangeField, LineSerializerField
from opsportal.core.text import BODY_MAX, TITLE_MAX
from statuspage.models import Component

STATUS_CHOICES = [s.value for s in MaintenanceStatus]

# Inputs


class MaintenanceFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES, required=False)


class MaintenanceScheduleInput(serializers.Serializer):
    title = LineSerializerField(max_length=TITLE_MAX)
    body = BodySerializerField(max_length=BODY_MAX, help_text="What merchants should expect")
    components = serializers.PrimaryKeyRelatedField(
        queryset=Component.objects.all(),
        many=True,
        required=False,
        default=list,
        help_text="Component ids; they show as under maintenance while the window runs",
    )
    scheduled_for = InstantInRangeField(help_text="ISO 8601; without an offset it is read as UTC")
    scheduled_until = InstantInRangeField(help_text="ISO 8601; without an offset it is read as UTC")


class MaintenanceTransitionInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    body = BodySerializerField(
        max_length=BODY_MAX, required=False, allow_blank=True, default="", help_text="Empty: standard wording"
    )


class MaintenanceUpdateInput(serializers.Serializer):
    body = BodySerializerField(max_length=BODY_MAX)


class MaintenanceRescheduleInput(serializers.Serializer):
    scheduled_for = InstantInRangeField()
    scheduled_until = InstantInRangeField()


# Outputs


class MaintenanceComponentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MaintenanceUpdateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    author = serializers.CharField(source="author.username", allow_null=True, default=None)


class MaintenanceOutput(serializers.Serializer):
    """One window as a list row; the detail adds its updates."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    scheduled_for = serializers.DateTimeField()
    scheduled_until = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    components = MaintenanceComponentOutput(many=True, source="components.all")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    links = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_links(self, window) -> dict:
        request = self.context.get("request")
        kwargs = {"window_id": window.pk}
        return {
            name: reverse(f"api:maintenance{suffix}", kwargs=kwargs, request=request)
            for name, suffix in (
                ("self", "-detail"),
                ("transition", "-transition"),
                ("updates", "-updates"),
                ("reschedule", "-reschedule"),
            )
        }


class MaintenanceDetailOutput(MaintenanceOutput):
    updates = MaintenanceUpdateOutput(many=True, source="updates.all")
