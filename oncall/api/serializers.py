"""On-call API serializers: *Input ones check a request's shape, *Output ones describe responses. Whether a
person may cover a schedule, or a swap may still move, is the services' job."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from rest_framework import serializers

from oncall.models import Team, TurnUnit
from oncall.rotation import MAX_TURN_HOURS
from opsportal.core.bounds import MAX_POSITION
from opsportal.core.serializer_fields import (
    DateInRangeField,
    InstantInRangeField,
    LineSerializerField,
    SlugReferenceField,
)
from opsportal.core.text import NAME_MAX, TITLE_MAX
from opsportal.core.time_zones import validate_time_zone

MAX_FINAL_RANGE = timedelta(days=93)
# A layer is covered by a handful of weekly windows; hundreds would only be a way to slow every lookup.
MAX_RESTRICTIONS = 50


class InstantField(InstantInRangeField):
    """ISO 8601 with a UTC offset (or Z): a time without one means different instants to different readers."""

    default_error_messages = {
        "naive": "Give an ISO 8601 time with a UTC offset, e.g. 2026-11-01T09:00:00-05:00 or 2026-11-01T14:00:00Z.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


def _username_field(**kwargs):
    return SlugReferenceField(slug_field="username", queryset=get_user_model().objects.all(), **kwargs)


# Inputs


class OnCallQueryInput(serializers.Serializer):
    at = InstantField(required=False, help_text="ISO 8601 with offset; default now")
    schedule = serializers.SlugField(required=False, max_length=100)
    team = serializers.SlugField(required=False, max_length=100)
    region = LineSerializerField(
        required=False, max_length=8, help_text="Schedules of teams with members there"
    )
    user = serializers.SlugField(
        required=False, max_length=150, help_text="Schedules where this username takes turns or covers"
    )


class TeamQueryInput(serializers.Serializer):
    region = LineSerializerField(
        required=False, max_length=8, help_text="Teams with members in this region (code)"
    )
    member = LineSerializerField(
        required=False,
        max_length=150,
        validators=[RegexValidator(r"^[\w.@+-]+\Z", "Give a username: letters, digits and @ . + - _ only.")],
        help_text="Teams this username belongs to",
    )


class RangeInput(serializers.Serializer):
    start = InstantField()
    end = InstantField()

    def validate(self, data):
        if data["end"] <= data["start"]:
            raise serializers.ValidationError({"end": "The range must end after it starts."})
        if data["end"] - data["start"] > MAX_FINAL_RANGE:
            raise serializers.ValidationError({"end": f"At most {MAX_FINAL_RANGE.days} days at once."})
        return data


class ScheduleCreateInput(serializers.Serializer):
    name = LineSerializerField(max_length=NAME_MAX)
    slug = serializers.SlugField(max_length=100)
    team = SlugReferenceField(slug_field="slug", queryset=Team.objects.all())
    time_zone = LineSerializerField(max_length=64, default="UTC", validators=[validate_time_zone])


class OverrideCreateInput(serializers.Serializer):
    user = _username_field(help_text="Username of the person who covers")
    start = InstantField()
    end = InstantField()
    reason = LineSerializerField(max_length=TITLE_MAX, required=False, allow_blank=True, default="")


class LayerCreateInput(serializers.Serializer):
    name = LineSerializerField(max_length=NAME_MAX)
    participants = _username_field(many=True, help_text="Usernames in rotation order; one may appear twice")
    start = DateInRangeField(help_text="The first turn begins on this local date at the handoff time")
    time_zone = LineSerializerField(
        max_length=64, validators=[validate_time_zone], help_text="IANA name; turns are counted in this zone"
    )
    position = serializers.IntegerField(
        min_value=0,
        max_value=MAX_POSITION,
        required=False,
        help_text="Higher wins where layers overlap; default: on top",
    )
    turn_count = serializers.IntegerField(
        min_value=1, max_value=MAX_TURN_HOURS, default=1, help_text="At most a year, whatever the unit"
    )
    turn_unit = serializers.ChoiceField(choices=TurnUnit.choices, default=TurnUnit.WEEKS)
    handoff_time = serializers.TimeField(default=time(9, 0), help_text="Local time in the layer's zone")
    restrictions = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=MAX_RESTRICTIONS,
        help_text='Windows [{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}] in the layer\'s zone; '
        "empty: always",
    )


class LayerUpdateInput(LayerCreateInput):
    """The same fields as a create, all optional (read with partial=True): only those sent change."""


class SwapProposeInput(serializers.Serializer):
    counterpart = _username_field(help_text="Username of the person asked to take the shift")
    start = InstantField()
    end = InstantField()
    reason = LineSerializerField(max_length=TITLE_MAX, required=False, allow_blank=True, default="")


# Outputs


class ScheduleOutput(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    team = serializers.CharField(source="team.slug")
    time_zone = serializers.CharField()


class LayerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField(help_text="Higher wins where layers overlap")
    participants = serializers.SerializerMethodField()
    turn_count = serializers.IntegerField()
    turn_unit = serializers.CharField()
    handoff_time = serializers.TimeField()
    start = serializers.DateField()
    time_zone = serializers.CharField()
    restrictions = serializers.JSONField()

    def get_participants(self, layer) -> list[str]:
        return [place.user.username for place in layer.places.all()]


class ScheduleDetailOutput(ScheduleOutput):
    layers = LayerOutput(many=True, source="layers.all")


class ShiftOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    person = serializers.CharField()
    source = serializers.CharField(help_text='Layer name, or "override"')


class HandoffOutput(serializers.Serializer):
    at = serializers.DateTimeField(source="when")
    from_person = serializers.CharField(allow_null=True)
    to_person = serializers.CharField(allow_null=True)


class BrokenScheduleOutput(serializers.Serializer):
    schedule = serializers.CharField(source="slug")
    name = serializers.CharField()
    problem = serializers.CharField(help_text="Why the engine could not evaluate it")


class OnCallOutput(serializers.Serializer):
    schedule = serializers.CharField()
    team = serializers.CharField()
    person = serializers.CharField(allow_null=True)
    source = serializers.CharField(allow_null=True, help_text='Layer name, "override", or null in a gap')
    next_handoff = HandoffOutput(allow_null=True)


class OverrideOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reason = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)


class SwapOutput(serializers.Serializer):
    id = serializers.IntegerField()
    schedule = serializers.CharField(source="schedule.slug")
    requester = serializers.CharField(source="requester.username")
    counterpart = serializers.CharField(source="counterpart.username")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reason = serializers.CharField()
    status = serializers.CharField()
    override = serializers.IntegerField(source="override_id", allow_null=True)
