"""Incidents API serializers: *Input ones check a request's shape (and resolve ids and usernames), *Output
ones describe responses. Meaning (may this happen now?) is the services' job."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from oncall.models import Team
from opsportal.core.bounds import MAX_ID
from opsportal.core.serializer_fields import (
    BodySerializerField,
    DateInRangeField,
    InstantInRangeField,
    LineSerializerField,
    SlugReferenceField,
)
from opsportal.core.text import BODY_MAX, DOCUMENT_MAX, LINE_MAX, NOTE_MAX, TITLE_MAX
from opsportal.incidents.lifecycle import PUBLIC_STATUSES, IncidentStatus, public_status
from opsportal.incidents.models import Incident, IncidentRole, Postmortem, Severity
from opsportal.incidents.postmortems import EDITABLE_FIELDS
from opsportal.incidents.selectors import incident_clocks
from statuspage.models import Component, ComponentStatus

STATUS_CHOICES = [s.value for s in IncidentStatus]
PUBLIC_UPDATE_STATUSES = list(PUBLIC_STATUSES[:4])


def _username_field(**kwargs) -> SlugReferenceField:
    return SlugReferenceField(slug_field="username", queryset=get_user_model().objects.all(), **kwargs)


# Inputs


class IncidentFilterInput(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.values, required=False)
    status = serializers.ChoiceField(choices=STATUS_CHOICES, required=False)
    team = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Team id")
    component = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Component id"
    )
    since = DateInRangeField(required=False, help_text="Started on or after this day (UTC)")
    until = DateInRangeField(required=False, help_text="Started on or before this day (UTC)")
    q = LineSerializerField(
        max_length=TITLE_MAX, required=False, allow_blank=True, help_text="Search titles, summary, INC-n"
    )

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": "until must not come before since."})
        return attrs


class ComponentImpactInput(serializers.Serializer):
    id = serializers.PrimaryKeyRelatedField(queryset=Component.objects.all(), help_text="Component id")
    impact = serializers.ChoiceField(choices=ComponentStatus.choices)


class IncidentDeclareInput(serializers.Serializer):
    title = LineSerializerField(max_length=TITLE_MAX)
    severity = serializers.ChoiceField(choices=Severity.values)
    public_title = LineSerializerField(max_length=TITLE_MAX, required=False, allow_blank=True, default="")
    summary = BodySerializerField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    started_at = InstantInRangeField(required=False, allow_null=True, default=None)
    detected_at = InstantInRangeField(required=False, allow_null=True, default=None)
    components = ComponentImpactInput(many=True, required=False, default=list)
    commander = _username_field(required=False, allow_null=True, default=None)


class TransitionInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    note = LineSerializerField(max_length=LINE_MAX, required=False, allow_blank=True, default="")


class SeverityInput(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.values)
    reason = LineSerializerField(max_length=LINE_MAX, required=False, allow_blank=True, default="")


class RoleAssignInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=IncidentRole.values)
    user = _username_field()
    replace = serializers.BooleanField(
        required=False, default=False, help_text="Hand over a single-holder role that someone holds"
    )


class RoleRelieveInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=IncidentRole.values)
    user = _username_field()


class ComponentSetInput(serializers.Serializer):
    component = serializers.PrimaryKeyRelatedField(queryset=Component.objects.all())
    impact = serializers.ChoiceField(
        choices=ComponentStatus.values, allow_null=True, help_text="null: no longer affected"
    )


class NoteInput(serializers.Serializer):
    body = BodySerializerField(max_length=NOTE_MAX)
    pinned = serializers.BooleanField(required=False, default=False)


class ComponentStatusInput(serializers.Serializer):
    id = serializers.PrimaryKeyRelatedField(queryset=Component.objects.all(), help_text="Component id")
    status = serializers.ChoiceField(choices=ComponentStatus.choices)


class PublicUpdateInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=PUBLIC_UPDATE_STATUSES)
    body = BodySerializerField(max_length=BODY_MAX)
    components = ComponentStatusInput(many=True, required=False, default=list)


class MergeInput(serializers.Serializer):
    into = serializers.PrimaryKeyRelatedField(
        queryset=Incident.objects.all(), help_text="Id of the incident this one joins"
    )


class PostmortemEditInput(serializers.Serializer):
    summary = BodySerializerField(max_length=DOCUMENT_MAX, required=False, allow_blank=True)
    customer_impact = BodySerializerField(max_length=DOCUMENT_MAX, required=False, allow_blank=True)
    timeline = BodySerializerField(max_length=DOCUMENT_MAX, required=False, allow_blank=True)
    root_cause = BodySerializerField(max_length=DOCUMENT_MAX, required=False, allow_blank=True)
    went_well = BodySerializerField(max_length=DOCUMENT_MAX, required=False, allow_blank=True)
    went_badly = BodySerializerField(max_length=DOCUMENT_MAX, required=False, allow_blank=True)
    public_summary = BodySerializerField(max_length=DOCUMENT_MAX, required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(f"Send at least one of: {', '.join(EDITABLE_FIELDS)}.")
        return attrs


class PostmortemTransitionInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Postmortem.Status.values)


class ActionItemInput(serializers.Serializer):
    title = LineSerializerField(max_length=TITLE_MAX)
    owner = _username_field(required=False, allow_null=True, default=None)
    due_date = DateInRangeField(required=False, allow_null=True, default=None)


# Outputs


class TeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RoleOutput(serializers.Serializer):
    role = serializers.CharField()
    user = serializers.CharField(source="user.username")
    assigned_at = serializers.DateTimeField()


class AffectedComponentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="component.id")
    name = serializers.CharField(source="component.name")
    impact = serializers.CharField()


class SlaClockOutput(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.CharField()
    target_seconds = serializers.SerializerMethodField()
    elapsed_seconds = serializers.SerializerMethodField()
    remaining_seconds = serializers.SerializerMethodField()
    warning_at = serializers.DateTimeField(allow_null=True)
    breach_at = serializers.DateTimeField(allow_null=True)

    def get_target_seconds(self, clock) -> int:
        return int(clock.target.total_seconds())

    def get_elapsed_seconds(self, clock) -> int:
        return int(clock.elapsed.total_seconds())

    def get_remaining_seconds(self, clock) -> int:
        return int(clock.remaining.total_seconds())


def _postmortem_published(incident: Incident) -> bool:
    try:
        return incident.postmortem.status == Postmortem.Status.PUBLISHED
    except ObjectDoesNotExist:
        return False


LINK_PLACEHOLDER = 987_654_321  # an id no URL has otherwise


class IncidentOutput(serializers.Serializer):
    """One incident as a list row; the detail adds SLA clocks."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    public_title = serializers.CharField()
    summary = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    public_status = serializers.SerializerMethodField()
    team = TeamOutput(allow_null=True)
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    started_at = serializers.DateTimeField()
    detected_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    mitigated_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    roles = RoleOutput(many=True, source="role_assignments.all")
    components = AffectedComponentOutput(many=True, source="affected_components.all")
    links = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=list(PUBLIC_STATUSES), allow_null=True))
    def get_public_status(self, incident) -> str | None:
        return public_status(incident.status, postmortem_published=_postmortem_published(incident))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_links(self, incident) -> dict:
        # Reversed once per list, not four times a row: on a page of 50 that was a third of the time (issue 11).
        if not hasattr(self, "_link_patterns"):
            request = self.context.get("request")
            kwargs = {"incident_id": LINK_PLACEHOLDER}
            self._link_patterns = {
                name: reverse(f"api:incident{suffix}", kwargs=kwargs, request=request).replace(
                    str(LINK_PLACEHOLDER), "{}"
                )
                for name, suffix in (
                    ("self", ""),
                    ("timeline", "-timeline"),
                    ("updates", "-updates"),
                    ("postmortem", "-postmortem"),
                )
            }
        return {name: pattern.format(incident.pk) for name, pattern in self._link_patterns.items()}


class IncidentDetailOutput(IncidentOutput):
    sla = serializers.SerializerMethodField()

    @extend_schema_field(SlaClockOutput(many=True))
    def get_sla(self, incident) -> list[dict]:
        return SlaClockOutput(incident_clocks(incident), many=True).data


class TimelineEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    body = serializers.CharField()
    data = serializers.JSONField()
    is_public = serializers.BooleanField()
    pinned = serializers.BooleanField()


class PublicUpdateComponentOutput(serializers.Serializer):
    component_id = serializers.IntegerField()
    name = serializers.CharField()
    old_status = serializers.CharField(allow_null=True, default=None)
    status = serializers.CharField()


class PublicUpdateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    body = serializers.CharField()
    components = PublicUpdateComponentOutput(many=True, source="component_statuses")
    created_at = serializers.DateTimeField()
    author = serializers.CharField(source="author.username", allow_null=True, default=None)


class ActionItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    due_date = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class PostmortemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    incident = serializers.IntegerField(source="incident_id")
    status = serializers.CharField()
    summary = serializers.CharField()
    customer_impact = serializers.CharField()
    timeline = serializers.CharField()
    root_cause = serializers.CharField()
    went_well = serializers.CharField()
    went_badly = serializers.CharField()
    public_summary = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    action_items = ActionItemOutput(many=True, source="action_items.all")
