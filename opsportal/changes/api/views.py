"""Partner API v1: maintenance windows. Each view checks the request's shape, calls one service or selector
with the token's owner as the actor, and answers with the window as it now is. Windows live on the status
page, so the statuspage:read and statuspage:write scopes cover them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.changes import selectors, services
from opsportal.changes.api import serializers as s
from opsportal.core.inputs import valid_input

TAG = ["maintenance"]
SCOPE_AREA = "statuspage"
PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")
WRITE_ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM}


def _detail_response(request, window_id: int, code: int = status.HTTP_200_OK) -> Response:
    window = selectors.maintenance_detail(window_id)
    return Response(s.MaintenanceDetailOutput(window, context={"request": request}).data, status=code)


class MaintenanceListView(generics.GenericAPIView):
    """Maintenance windows, latest start first; POST schedules one."""

    scope_area = SCOPE_AREA
    serializer_class = s.MaintenanceOutput

    @extend_schema(
        tags=TAG,
        summary="List maintenance windows",
        parameters=[s.MaintenanceFilterInput],
        responses={200: s.MaintenanceOutput(many=True), 400: PROBLEM},
    )
    def get(self, request):
        filters = valid_input(s.MaintenanceFilterInput, request.query_params)
        page = self.paginate_queryset(selectors.maintenance_list(status=filters.get("status", "")))
        data = s.MaintenanceOutput(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        tags=TAG,
        summary="Schedule a maintenance window (it starts and completes on time by itself)",
        request=s.MaintenanceScheduleInput,
        responses={201: s.MaintenanceDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request):
        data = valid_input(s.MaintenanceScheduleInput, request.data)
        window = services.maintenance_schedule(actor=request.user, **data)
        return _detail_response(request, window.pk, status.HTTP_201_CREATED)


class MaintenanceBaseView(APIView):
    scope_area = SCOPE_AREA


class MaintenanceDetailView(MaintenanceBaseView):
    @extend_schema(
        tags=TAG,
        summary="Read a maintenance window with its components and updates",
        responses={200: s.MaintenanceDetailOutput, 404: PROBLEM},
    )
    def get(self, request, window_id: int):
        return _detail_response(request, window_id)


class MaintenanceTransitionView(MaintenanceBaseView):
    @extend_schema(
        tags=TAG,
        summary="Move a window on: start early, verify, complete, or cancel",
        request=s.MaintenanceTransitionInput,
        responses={200: s.MaintenanceDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, window_id: int):
        data = valid_input(s.MaintenanceTransitionInput, request.data)
        window = selectors.maintenance_or_404(window_id)
        services.maintenance_transition(actor=request.user, window=window, **data)
        return _detail_response(request, window_id)


class MaintenanceUpdatesView(MaintenanceBaseView):
    @extend_schema(
        tags=TAG,
        summary="Post an update on a window (public on the status page)",
        request=s.MaintenanceUpdateInput,
        responses={201: s.MaintenanceUpdateOutput, **WRITE_ERRORS},
    )
    def post(self, request, window_id: int):
        data = valid_input(s.MaintenanceUpdateInput, request.data)
        window = selectors.maintenance_or_404(window_id)
        update = services.maintenance_post_update(actor=request.user, window=window, body=data["body"])
        return Response(s.MaintenanceUpdateOutput(update).data, status=status.HTTP_201_CREATED)


class MaintenanceRescheduleView(MaintenanceBaseView):
    @extend_schema(
        tags=TAG,
        summary="Move a window that has not started to new times",
        request=s.MaintenanceRescheduleInput,
        responses={200: s.MaintenanceDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, window_id: int):
        data = valid_input(s.MaintenanceRescheduleInput, request.data)
        window = selectors.maintenance_or_404(window_id)
        services.maintenance_reschedule(actor=request.user, window=window, **data)
        return _detail_response(request, window_id)
