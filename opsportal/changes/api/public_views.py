"""Partner API v1: maintenance windows as the status page tells them: what, when, which public components,
and the updates posted, without who scheduled or wrote them (staff names stay inside)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.changes import selectors
from opsportal.changes.api.serializers import STATUS_CHOICES, MaintenanceFilterInput
from opsportal.core.inputs import valid_input

TAG = ["status (public view)"]
PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")


class PublicMaintenanceComponentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PublicMaintenanceUpdateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class PublicMaintenanceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    scheduled_for = serializers.DateTimeField()
    scheduled_until = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    components = serializers.SerializerMethodField()
    updates = PublicMaintenanceUpdateOutput(many=True, source="updates.all")

    @extend_schema_field(PublicMaintenanceComponentOutput(many=True))
    def get_components(self, window) -> list[dict]:
        return [{"id": c.pk, "name": c.name} for c in window.components.all() if c.showcase]


class PublicMaintenanceListView(generics.GenericAPIView):
    scope_area = "statuspage"
    partner_access = True
    serializer_class = PublicMaintenanceOutput

    @extend_schema(
        tags=TAG,
        summary="List maintenance windows as the status page shows them",
        parameters=[MaintenanceFilterInput],
        responses={200: PublicMaintenanceOutput(many=True), 400: PROBLEM},
    )
    def get(self, request):
        filters = valid_input(MaintenanceFilterInput, request.query_params)
        windows = selectors.maintenance_list(status=filters.get("status", "")).prefetch_related("updates")
        page = self.paginate_queryset(windows)
        return self.get_paginated_response(PublicMaintenanceOutput(page, many=True).data)


class PublicMaintenanceDetailView(APIView):
    scope_area = "statuspage"
    partner_access = True

    @extend_schema(
        tags=TAG,
        summary="Read one maintenance window as the status page shows it",
        responses={200: PublicMaintenanceOutput, 404: PROBLEM},
    )
    def get(self, request, window_id: int):
        return Response(PublicMaintenanceOutput(selectors.maintenance_detail(window_id)).data)
