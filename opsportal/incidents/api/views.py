"""Partner API v1: incidents. Each view checks the request's shape, calls one service or selector with the
token's owner as the actor, and answers with the resource as it now is."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.core.inputs import valid_input
from opsportal.incidents import services
from opsportal.incidents.api import serializers as s
from opsportal.incidents.selectors import (
    IncidentFilters,
    incident_detail_or_404,
    incident_or_404,
    incident_public_updates,
    incident_timeline,
    incidents_for_api,
    timeline_markdown,
)

TAG = ["incidents"]
PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")
WRITE_ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM}


def _detail_response(request, incident_id: int, code: int = status.HTTP_200_OK) -> Response:
    incident = incident_detail_or_404(incident_id)
    return Response(s.IncidentDetailOutput(incident, context={"request": request}).data, status=code)


class IncidentBaseView(APIView):
    scope_area = "incidents"


class IncidentListView(generics.GenericAPIView):
    """Incidents, newest first, filtered; POST declares one."""

    scope_area = "incidents"
    serializer_class = s.IncidentOutput

    @extend_schema(
        tags=TAG,
        summary="List incidents",
        parameters=[s.IncidentFilterInput],
        responses={200: s.IncidentOutput(many=True), 400: PROBLEM},
    )
    def get(self, request):
        filters = valid_input(s.IncidentFilterInput, request.query_params)
        incidents = incidents_for_api(IncidentFilters(**filters))
        page = self.paginate_queryset(incidents)
        data = s.IncidentOutput(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        tags=TAG,
        summary="Declare an incident",
        request=s.IncidentDeclareInput,
        responses={201: s.IncidentDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request):
        data = valid_input(s.IncidentDeclareInput, request.data)
        components = [(item["id"], item["impact"]) for item in data.pop("components")]
        incident = services.incident_declare(actor=request.user, components=components, **data)
        return _detail_response(request, incident.pk, status.HTTP_201_CREATED)


class IncidentDetailView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Read an incident, with its roles, components and SLA clocks",
        responses={200: s.IncidentDetailOutput, 404: PROBLEM},
    )
    def get(self, request, incident_id: int):
        return _detail_response(request, incident_id)


class IncidentTransitionView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Move an incident to another status",
        request=s.TransitionInput,
        responses={200: s.IncidentDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        data = valid_input(s.TransitionInput, request.data)
        services.incident_transition(actor=request.user, incident=incident_or_404(incident_id), **data)
        return _detail_response(request, incident_id)


class IncidentAcknowledgeView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Acknowledge an incident (stops the respond clock; idempotent)",
        request=None,
        responses={200: s.IncidentDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        services.incident_acknowledge(actor=request.user, incident=incident_or_404(incident_id))
        return _detail_response(request, incident_id)


class IncidentSeverityView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Change an incident's severity",
        request=s.SeverityInput,
        responses={200: s.IncidentDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        data = valid_input(s.SeverityInput, request.data)
        services.incident_change_severity(actor=request.user, incident=incident_or_404(incident_id), **data)
        return _detail_response(request, incident_id)


class IncidentRoleAssignView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Give someone a role; a taken single-holder role needs replace=true",
        request=s.RoleAssignInput,
        responses={200: s.IncidentDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        data = valid_input(s.RoleAssignInput, request.data)
        services.incident_assign_role(actor=request.user, incident=incident_or_404(incident_id), **data)
        return _detail_response(request, incident_id)


class IncidentRoleRelieveView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Relieve someone of a role",
        request=s.RoleRelieveInput,
        responses={200: s.IncidentDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        data = valid_input(s.RoleRelieveInput, request.data)
        services.incident_relieve_role(actor=request.user, incident=incident_or_404(incident_id), **data)
        return _detail_response(request, incident_id)


class IncidentComponentView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Mark a component affected, change its impact, or (impact null) remove it",
        request=s.ComponentSetInput,
        responses={200: s.IncidentDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        data = valid_input(s.ComponentSetInput, request.data)
        services.incident_set_component(actor=request.user, incident=incident_or_404(incident_id), **data)
        return _detail_response(request, incident_id)


class IncidentNoteView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Add an internal note to the timeline (never public)",
        request=s.NoteInput,
        responses={201: s.TimelineEventOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        data = valid_input(s.NoteInput, request.data)
        event = services.incident_add_note(actor=request.user, incident=incident_or_404(incident_id), **data)
        return Response(s.TimelineEventOutput(event).data, status=status.HTTP_201_CREATED)


class IncidentUpdatesView(generics.GenericAPIView):
    """Public updates: what merchants see on the status page."""

    scope_area = "incidents"
    serializer_class = s.PublicUpdateOutput

    @extend_schema(
        tags=TAG,
        summary="List an incident's public updates, newest first",
        responses={200: s.PublicUpdateOutput(many=True), 404: PROBLEM},
    )
    def get(self, request, incident_id: int):
        page = self.paginate_queryset(incident_public_updates(incident_or_404(incident_id)))
        return self.get_paginated_response(s.PublicUpdateOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Post a public update; moves the incident and component statuses with it",
        request=s.PublicUpdateInput,
        responses={201: s.PublicUpdateOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        data = valid_input(s.PublicUpdateInput, request.data)
        update = services.incident_post_update(
            actor=request.user,
            incident=incident_or_404(incident_id),
            status=data["status"],
            body=data["body"],
            component_statuses=[(item["id"], item["status"]) for item in data["components"]],
        )
        return Response(s.PublicUpdateOutput(update).data, status=status.HTTP_201_CREATED)


class MarkdownRenderer(BaseRenderer):
    media_type = "text/markdown"
    format = "markdown"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode(self.charset)
        # Errors stay JSON problems even when markdown was asked for.
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


class IncidentTimelineView(generics.GenericAPIView):
    """The internal timeline, notes included; ?format=markdown (or Accept: text/markdown) exports it."""

    scope_area = "incidents"
    serializer_class = s.TimelineEventOutput
    renderer_classes = [JSONRenderer, MarkdownRenderer]

    @extend_schema(
        tags=TAG,
        summary="Read an incident's internal timeline (JSON, or markdown with ?format=markdown)",
        parameters=[
            OpenApiParameter("format", str, enum=["json", "markdown"], description="markdown: text export")
        ],
        responses={
            (200, "application/json"): s.TimelineEventOutput(many=True),
            (200, "text/markdown"): OpenApiTypes.STR,
            404: PROBLEM,
        },
    )
    def get(self, request, incident_id: int):
        incident = incident_or_404(incident_id)
        if request.accepted_renderer.format == MarkdownRenderer.format:
            return Response(timeline_markdown(incident), content_type="text/markdown; charset=utf-8")
        page = self.paginate_queryset(incident_timeline(incident))
        return self.get_paginated_response(s.TimelineEventOutput(page, many=True).data)


class IncidentMergeView(IncidentBaseView):
    @extend_schema(
        tags=TAG,
        summary="Merge this incident into another, active one",
        request=s.MergeInput,
        responses={200: s.IncidentDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        data = valid_input(s.MergeInput, request.data)
        services.incident_merge(actor=request.user, incident=incident_or_404(incident_id), into=data["into"])
        return _detail_response(request, incident_id)
