"""Partner API v1: incidents as the status page tells them. Partners (and staff) read public titles, public
updates and the impact on public components here; internal titles, summaries, notes, staff names and the
timeline never reach these serializers, which are separate from the staff ones on purpose."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.incidents.lifecycle import PUBLIC_STATUSES, public_status
from opsportal.incidents.selectors import public_incident, public_incidents
from statuspage.subscriber_selectors import subscribable_components

TAG = ["status (public view)"]
PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")


def _public_component_ids() -> set[int]:
    return set(subscribable_components().values_list("pk", flat=True))


class PublicComponentImpactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="The component's status this update set")


class PublicIncidentUpdateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    components = serializers.SerializerMethodField()

    @extend_schema_field(PublicComponentImpactOutput(many=True))
    def get_components(self, update) -> list[dict]:
        public = self.context["public_component_ids"]
        return [
            {"id": item["component_id"], "name": item["name"], "status": item["status"]}
            for item in update.component_statuses or []
            if item.get("component_id") in public
        ]


class PublicAffectedComponentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    impact = serializers.CharField()


class PublicIncidentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="public_title")
    status = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    components = serializers.SerializerMethodField()
    postmortem = serializers.CharField(
        source="public_postmortem_summary", allow_null=True, default=None, help_text="Published summary"
    )
    updates = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=list(PUBLIC_STATUSES)))
    def get_status(self, incident) -> str:
        return public_status(incident.status, postmortem_published=bool(incident.public_postmortem_summary))

    @extend_schema_field(PublicAffectedComponentOutput(many=True))
    def get_components(self, incident) -> list[dict]:
        public = self.context["public_component_ids"]
        return [
            {"id": a.component.pk, "name": a.component.name, "impact": a.impact}
            for a in incident.affected_components.all()
            if a.component.pk in public
        ]

    @extend_schema_field(PublicIncidentUpdateOutput(many=True))
    def get_updates(self, incident) -> list[dict]:
        updates = sorted(incident.public_updates.all(), key=lambda u: (u.created_at, u.pk), reverse=True)
        return PublicIncidentUpdateOutput(updates, many=True, context=self.context).data


class PublicIncidentListView(generics.GenericAPIView):
    """Incidents that have said something in public, newest first."""

    scope_area = "statuspage"
    partner_access = True
    serializer_class = PublicIncidentOutput

    @extend_schema(
        tags=TAG,
        summary="List incidents as the status page shows them",
        responses={200: PublicIncidentOutput(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(public_incidents())
        context = {"public_component_ids": _public_component_ids()}
        return self.get_paginated_response(PublicIncidentOutput(page, many=True, context=context).data)


class PublicIncidentDetailView(APIView):
    scope_area = "statuspage"
    partner_access = True

    @extend_schema(
        tags=TAG,
        summary="Read one incident as the status page shows it",
        responses={200: PublicIncidentOutput, 404: PROBLEM},
    )
    def get(self, request, incident_id: int):
        incident = public_incident(incident_id)
        if incident is None:
            raise Http404("No public incident with this id.")
        context = {"public_component_ids": _public_component_ids()}
        return Response(PublicIncidentOutput(incident, context=context).data)
