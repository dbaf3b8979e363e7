"""Alerting API serializers: *Input ones check a request's shape (lengths, choices, ranges), *Output ones describe
responses. Whether a route's conditions make sense, a level's targets exist or a group may still move is the
services' job."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from rest_framework import serializers

from oncall import alert_lifecycle as lifecycle
from oncall import heartbeat_schedule, routing
from oncall.contacts import RULE_MAX_DELAY_MINUTES
from oncall.models import (
    AlertGroupStatus,
    ContactKind,
    EscalationPolicy,
    IntegrationKind,
    NotificationRule,
    Schedule,
    TargetKind,
    Team,
    Urgency,
)
from oncall.models.escalation import MAX_LEVEL_DELAY_MINUTES, MAX_REPEATS
from opsportal.core.bounds import MAX_ID, MAX_POSITION
from opsportal.core.serializer_fields import (
    BodySerializerField,
    InstantInRangeField,
    LineSerializerField,
    SlugReferenceField,
)
from opsportal.core.text import DESCRIPTION_MAX, NAME_MAX
from opsportal.core.time_zones import validate_time_zone
from opsportal.incidents.models import Severity

# An acknowledgement that lasts past a week is a forgotten alert, not a plan.
MAX_ACK_TIMEOUT_MINUTES = 7 * 24 * 60
MAX_LEVELS = 20
MAX_TARGETS = 50
MAX_ROUTES = 200
MAX_RULE_DELAY = RULE_MAX_DELAY_MINUTES
ADDRESS_MAX = 254


def _team_field(**kwargs):
    return SlugReferenceField(slug_field="slug", queryset=Team.objects.all(), **kwargs)


def _policy_field(**kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=EscalationPolicy.objects.all(), help_text="Escalation policy id", **kwargs
    )


# Inputs


def _whole_minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)


class HeartbeatInput(serializers.Serializer):
    """Bounds are oncall.heartbeat_schedule's (the service checks them again, with the cron and the zone)."""

    period_minutes = serializers.IntegerField(
        min_value=_whole_minutes(heartbeat_schedule.PERIOD_MIN),
        max_value=_whole_minutes(heartbeat_schedule.PERIOD_MAX),
        required=False,
        help_text="Expected time between pings (default: an hour, unless a cron expression is given)",
    )
    grace_minutes = serializers.IntegerField(
        min_value=_whole_minutes(heartbeat_schedule.GRACE_MIN),
        max_value=_whole_minutes(heartbeat_schedule.GRACE_MAX),
        default=5,
        help_text="How late a ping may be before the alert",
    )
    cron = LineSerializerField(
        max_length=100, required=False, help_text="Instead of a period: 'm h dom mon dow'"
    )
    time_zone = LineSerializerField(max_length=64, default="UTC", validators=[validate_time_zone])


class IntegrationCreateInput(serializers.Serializer):
    team = _team_field(help_text="Team slug")
    name = LineSerializerField(max_length=NAME_MAX)
    kind = serializers.ChoiceField(choices=IntegrationKind.choices)
    escalation_policy = _policy_field(required=False, allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.HIGH)
    ack_timeout_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ACK_TIMEOUT_MINUTES,
        required=False,
        allow_null=True,
        help_text="An acknowledged alert triggers again after this long; null: never",
    )
    declare_incident_for = serializers.ListField(
        child=serializers.ChoiceField(choices=Severity.choices),
        required=False,
        max_length=len(Severity.choices),
        help_text='Incident severities that declare an incident, e.g. ["P0"]',
    )
    heartbeat = HeartbeatInput(required=False, help_text="Only for kind heartbeat")


class IntegrationUpdateInput(serializers.Serializer):
    """Every field optional (read with partial=True): only those sent change. The kind and the team stay."""

    name = LineSerializerField(max_length=NAME_MAX)
    enabled = serializers.BooleanField()
    escalation_policy = _policy_field(allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    ack_timeout_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_ACK_TIMEOUT_MINUTES, allow_null=True
    )
    declare_incident_for = serializers.ListField(
        child=serializers.ChoiceField(choices=Severity.choices), max_length=len(Severity.choices)
    )


class ConditionInput(serializers.Serializer):
    field = LineSerializerField(
        max_length=len(routing.LABEL_PREFIX) + routing.MAX_LABEL_NAME,
        help_text=f"One of {', '.join(routing.FIELDS)}, or labels.<name>",
    )
    op = serializers.ChoiceField(choices=routing.OPERATORS)
    value = LineSerializerField(
        max_length=routing.MAX_VALUE, required=False, allow_blank=True, help_text="Not for in and exists"
    )
    values = serializers.ListField(
        child=LineSerializerField(max_length=routing.MAX_VALUE, allow_blank=True),
        required=False,
        max_length=routing.MAX_IN_VALUES,
        help_text="For in: any of these",
    )

    def validate(self, data):
        op = data["op"]
        if op == "in":
            if "values" not in data:
                raise serializers.ValidationError({"values": "The in operator takes a list of values."})
            return {"field": data["field"], "op": op, "value": list(data["values"])}
        if op == "exists":
            return {"field": data["field"], "op": op}
        if "value" not in data:
            raise serializers.ValidationError({"value": "This operator takes a value."})
        return {"field": data["field"], "op": op, "value": data["value"]}


class RouteCreateInput(serializers.Serializer):
    name = LineSerializerField(max_length=NAME_MAX)
    conditions = ConditionInput(
        many=True, required=False, max_length=routing.MAX_CONDITIONS, help_text="All must hold; none: always"
    )
    team = _team_field(help_text="The team the alert goes to (slug)")
    escalation_policy = _policy_field(required=False, allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.HIGH)
    severity_map = serializers.DictField(
        child=serializers.ChoiceField(choices=Severity.choices),
        required=False,
        help_text=f"Source severity ({', '.join(lifecycle.SOURCE_SEVERITIES)}) to incident severity",
    )
    declare_incident = serializers.BooleanField(default=False)
    suppress = serializers.BooleanField(default=False, help_text="Record matching alerts but page nobody")
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_POSITION, required=False, help_text="Default: last"
    )

    def validate_severity_map(self, value):
        unknown = sorted(set(value) - set(lifecycle.SOURCE_SEVERITIES))
        if unknown:
            raise serializers.ValidationError(
                f"Keys are source severities: {', '.join(lifecycle.SOURCE_SEVERITIES)}."
            )
        return value


class RouteUpdateInput(RouteCreateInput):
    """The same fields as a create but the position (see the order endpoint), all optional (partial=True)."""

    position = None


class RouteOrderInput(serializers.Serializer):
    routes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_ROUTES,
        help_text="Every route id of the integration, in the new order",
    )


class TimeConditionInput(serializers.Serializer):
    zone = LineSerializerField(
        max_length=64, help_text='"target" (each target\'s own zone), "region:<code>" or an IANA zone name'
    )
    days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        max_length=7,
        default=list(range(7)),
        help_text="Weekdays, 0 = Monday",
    )
    start = serializers.TimeField(format="%H:%M")
    end = serializers.TimeField(format="%H:%M")
    when = serializers.ChoiceField(
        choices=["inside", "outside"], default="inside", help_text="Page inside or outside the window"
    )

    def validate(self, data):
        if data["start"] == data["end"]:
            raise serializers.ValidationError({"end": "The window must end at another time than it starts."})
        return {
            "zone": data["zone"],
            "days": sorted(set(data["days"])),
            "start": data["start"].strftime("%H:%M"),
            "end": data["end"].strftime("%H:%M"),
            "when": data["when"],
        }


class TargetInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TargetKind.choices)
    user = SlugReferenceField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, help_text="For user"
    )
    schedule = SlugReferenceField(
        slug_field="slug",
        queryset=Schedule.objects.all(),
        required=False,
        help_text="For schedule(_secondary)",
    )
    team = _team_field(required=False, help_text="For team")


class LevelInput(serializers.Serializer):
    delay_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_LEVEL_DELAY_MINUTES, default=5, help_text="Wait this long for an ack"
    )
    round_robin = serializers.BooleanField(default=False)
    severities = serializers.ListField(
        child=serializers.ChoiceField(choices=Severity.choices), max_length=5, default=list
    )
    urgencies = serializers.ListField(
        child=serializers.ChoiceField(choices=Urgency.choices), max_length=2, default=list
    )
    time_condition = TimeConditionInput(required=False, allow_null=True)
    targets = TargetInput(many=True, max_length=MAX_TARGETS, min_length=1)


class PolicyCreateInput(serializers.Serializer):
    team = _team_field(help_text="Team slug")
    name = LineSerializerField(max_length=NAME_MAX)
    description = BodySerializerField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )
    repeat = serializers.IntegerField(min_value=0, max_value=MAX_REPEATS, default=0)
    repeat_from = serializers.IntegerField(
        min_value=1, max_value=MAX_LEVELS, default=1, help_text="Level number (1 = the first)"
    )
    levels = LevelInput(many=True, max_length=MAX_LEVELS, required=False, help_text="Replaces every level")


class PolicyUpdateInput(PolicyCreateInput):
    """The same fields as a create but the team, all optional (partial=True); levels, when sent, replace all."""

    team = None


class AlertGroupQueryInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertGroupStatus.choices, required=False)
    team = serializers.SlugField(required=False, max_length=100, help_text="Team slug")
    integration = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)


class SnoozeInput(serializers.Serializer):
    until = InstantInRangeField(help_text="ISO 8601 with a UTC offset; triggers again then unless resolved")

    def validate_until(self, value):
        if value.tzinfo is None:
            raise serializers.ValidationError("Give a time with a UTC offset.")
        return value


class ContactMethodCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    address = LineSerializerField(
        max_length=ADDRESS_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Email address or E.164 phone number; none for push",
    )
    label = LineSerializerField(max_length=NAME_MAX, required=False, allow_blank=True, default="")

    def validate(self, data):
        if data["kind"] == ContactKind.EMAIL and data["address"]:
            serializers.EmailField().run_validation(data["address"])
        if data["kind"] == ContactKind.SMS and data["address"]:
            digits = data["address"][1:]
            if not (
                data["address"].startswith("+")
                and digits.isascii()
                and digits.isdigit()
                and 8 <= len(digits) <= 15
            ):
                raise serializers.ValidationError(
                    {"address": "Give the phone number in E.164 form, e.g. +14165550101."}
                )
        return data


class VerifyInput(serializers.Serializer):
    code = LineSerializerField(
        max_length=20,
        validators=[RegexValidator(r"^\s*[0-9]{6}\s*$", "Give the six digits sent to you.")],
        help_text="The six digits sent",
    )


class NotificationRuleCreateInput(serializers.Serializer):
    contact_method = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="One of yours (id)")
    delay_minutes = serializers.IntegerField(min_value=0, max_value=MAX_RULE_DELAY, default=0)
    urgency = serializers.ChoiceField(
        choices=NotificationRule.ForUrgency.choices, default=NotificationRule.ForUrgency.ANY
    )


def minutes(value: int | None) -> timedelta | None:
    return timedelta(minutes=value) if value is not None else None


# Outputs


class HeartbeatOutput(serializers.Serializer):
    period_minutes = serializers.SerializerMethodField()
    grace_minutes = serializers.SerializerMethodField()
    cron = serializers.CharField()
    time_zone = serializers.CharField()
    status = serializers.CharField()
    last_ping_at = serializers.DateTimeField(allow_null=True)

    def get_period_minutes(self, heartbeat) -> int | None:
        return int(heartbeat.period.total_seconds() // 60) if heartbeat.period else None

    def get_grace_minutes(self, heartbeat) -> int:
        return int(heartbeat.grace.total_seconds() // 60)


class IntegrationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.CharField(source="team.slug")
    name = serializers.CharField()
    kind = serializers.CharField()
    enabled = serializers.BooleanField()
    escalation_policy = serializers.IntegerField(source="escalation_policy_id", allow_null=True)
    urgency = serializers.CharField()
    ack_timeout_minutes = serializers.SerializerMethodField()
    declare_incident_for = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    last_event_at = serializers.DateTimeField(allow_null=True)
    key = serializers.SerializerMethodField(
        help_text="The secret integration key: shown when created, and afterwards to admins only (null otherwise)"
    )
    heartbeat = serializers.SerializerMethodField()

    def get_ack_timeout_minutes(self, integration) -> int | None:
        timeout = integration.ack_timeout
        return int(timeout.total_seconds() // 60) if timeout else None

    def get_key(self, integration) -> str | None:
        return integration.key if self.context.get("show_key") else None

    def get_heartbeat(self, integration) -> HeartbeatOutput(allow_null=True):  # type: ignore[valid-type]
        beat = (
            getattr(integration, "heartbeat", None) if integration.kind == IntegrationKind.HEARTBEAT else None
        )
        return HeartbeatOutput(beat).data if beat is not None else None


class ConditionOutput(serializers.Serializer):
    field = serializers.CharField()
    op = serializers.CharField()
    value = serializers.JSONField(required=False, help_text="A text, or a list of texts for in")


class RouteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    integration = serializers.IntegerField(source="integration_id")
    position = serializers.IntegerField()
    name = serializers.CharField()
    conditions = ConditionOutput(many=True)
    team = serializers.CharField(source="team.slug")
    escalation_policy = serializers.IntegerField(source="escalation_policy_id", allow_null=True)
    urgency = serializers.CharField()
    severity_map = serializers.DictField(child=serializers.CharField())
    declare_incident = serializers.BooleanField()
    suppress = serializers.BooleanField()


class TimeConditionOutput(serializers.Serializer):
    zone = serializers.CharField()
    days = serializers.ListField(child=serializers.IntegerField())
    start = serializers.CharField()
    end = serializers.CharField()
    when = serializers.CharField()


class TargetOutput(serializers.Serializer):
    kind = serializers.CharField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    schedule = serializers.CharField(source="schedule.slug", allow_null=True, default=None)
    team = serializers.CharField(source="team.slug", allow_null=True, default=None)


class LevelOutput(serializers.Serializer):
    number = serializers.SerializerMethodField(help_text="1 = the first level")
    delay_minutes = serializers.IntegerField()
    round_robin = serializers.BooleanField()
    severities = serializers.ListField(child=serializers.CharField())
    urgencies = serializers.ListField(child=serializers.CharField())
    time_condition = serializers.SerializerMethodField()
    targets = TargetOutput(many=True, source="targets.all")

    def get_number(self, level) -> int:
        return level.position + 1

    def get_time_condition(self, level) -> TimeConditionOutput(allow_null=True):  # type: ignore[valid-type]
        return TimeConditionOutput(level.time_condition).data if level.time_condition else None


class PolicyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.CharField(source="team.slug")
    name = serializers.CharField()
    description = serializers.CharField()
    repeat = serializers.IntegerField()
    repeat_from = serializers.IntegerField()
    levels = LevelOutput(many=True, source="levels.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AlertIntegrationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class AlertGroupOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="Also the code in SMS replies: <id>a acknowledges")
    status = serializers.CharField()
    summary = serializers.CharField()
    source = serializers.CharField()
    severity = serializers.CharField(help_text="As the source said it")
    incident_severity = serializers.CharField()
    urgency = serializers.CharField()
    dedup_key = serializers.CharField()
    integration = AlertIntegrationOutput()
    team = serializers.CharField(source="team.slug")
    labels = serializers.DictField(child=serializers.CharField())
    occurrences = serializers.IntegerField()
    suppressed = serializers.BooleanField()
    suppressed_reason = serializers.CharField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True, default=None)
    snoozed_until = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.CharField(source="resolved_by.username", allow_null=True, default=None)
    resolved_by_source = serializers.BooleanField()
    incident = serializers.IntegerField(source="incident_id", allow_null=True)
    escalation_policy = serializers.IntegerField(source="escalation_policy_id", allow_null=True)


class AlertLogEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    text = serializers.CharField()
    data = serializers.JSONField()


class AlertGroupDetailOutput(AlertGroupOutput):
    details = serializers.JSONField(help_text="The source's details, as sent")
    links = serializers.JSONField()
    log = AlertLogEntryOutput(many=True, source="log.all", help_text="The timeline, oldest first")


class ContactMethodOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField()
    address = serializers.CharField()
    verified = serializers.BooleanField(source="is_verified")
    verified_at = serializers.DateTimeField(allow_null=True)
    enabled = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class NotificationRuleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    contact_method = serializers.IntegerField(source="contact_method_id")
    kind = serializers.CharField(source="contact_method.kind")
    delay_minutes = serializers.IntegerField()
    urgency = serializers.CharField()
