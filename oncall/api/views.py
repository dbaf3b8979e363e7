"""Partner API v1: regions, teams, schedules, overrides, swaps and who is on call. Each view checks the
request's shape, calls one service or selector with the token's owner as the actor, and answers."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from oncall import rotation, selectors, services
from oncall.api import serializers as s
from oncall.selectors import regions
from opsportal.core.exceptions import Conflict
from opsportal.core.inputs import valid_input

TAG = ["oncall"]
SCOPE_AREA = "oncall"
PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")
WRITE_ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM}


class RegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    business_day_start = serializers.TimeField()
    business_day_end = serializers.TimeField()


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(help_text="Full name; empty when none is on record")
    region = serializers.CharField(help_text="Code of the region the member works from in this team")


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    members = MemberSerializer(many=True)


class RegionListView(generics.ListAPIView):
    scope_area = SCOPE_AREA
    serializer_class = RegionSerializer

    def get_queryset(self):
        return regions()


class TeamListView(generics.GenericAPIView):
    """Teams by name with their members, a page at a time (the project's page, as every list of the API)."""

    scope_area = SCOPE_AREA
    serializer_class = TeamSerializer
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=TAG,
        summary="Teams with their members (username, name, region), by name",
        parameters=[s.TeamQueryInput],
        responses={200: TeamSerializer(many=True), 400: PROBLEM},
    )
    def get(self, request):
        query = valid_input(s.TeamQueryInput, request.query_params)
        # Members are read for this page's teams only.
        page = self.paginate_queryset(selectors.teams_filtered(**query))
        members = selectors.members_of_teams(team.pk for team in page)
        rows = [{"id": t.pk, "name": t.name, "slug": t.slug, "members": members[t.pk]} for t in page]
        return self.get_paginated_response(TeamSerializer(rows, many=True).data)


def _on_call_row(schedule, engine, at) -> dict:
    cover = rotation.cover_at(engine, at)
    return {
        "schedule": schedule.slug,
        "team": schedule.team.slug,
        "person": cover[0] if cover else None,
        "source": cover[1] if cover else None,
        "next_handoff": rotation.next_handoff(engine, at),
    }


class OnCallPagination(api_settings.DEFAULT_PAGINATION_CLASS):
    """The project's page of schedules (taken from the settings: a domain app does not import the API door),
    and beside it the instant asked about and the schedules of this page the engine could not read."""

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["at"] = {"type": "string", "format": "date-time"}
        answer["properties"]["broken"] = {
            "type": "array",
            "description": "Schedules of this page that could not be evaluated; the others are answered regardless",
            "items": BROKEN_SCHEMA,
        }
        answer["required"] = [*answer.get("required", []), "at", "broken"]
        return answer


BROKEN_SCHEMA = {
    "type": "object",
    "properties": {
        "schedule": {"type": "string"},
        "name": {"type": "string"},
        "problem": {"type": "string", "description": "Why the engine could not evaluate it"},
    },
    "required": ["schedule", "name", "problem"],
}


class OnCallView(generics.GenericAPIView):
    """Who is on call in every schedule at one instant, a page of schedules at a time."""

    scope_area = SCOPE_AREA
    serializer_class = s.OnCallOutput
    pagination_class = OnCallPagination

    @extend_schema(
        tags=TAG,
        summary="Who is on call at an instant (default now), with the source and the next handoff",
        parameters=[s.OnCallQueryInput],
        responses={200: s.OnCallOutput(many=True), 400: PROBLEM},
    )
    def get(self, request):
        query = valid_input(s.OnCallQueryInput, request.query_params)
        at = query.pop("at", None) or timezone.now()
        # Only this page's schedules are read and evaluated.
        schedules = self.paginate_queryset(selectors.schedules_filtered(overrides_ending_after=at, **query))
        rows, broken = selectors.each_listed_schedule(
            schedules, lambda schedule, engine: _on_call_row(schedule, engine, at), overrides_ending_after=at
        )
        response = self.get_paginated_response(s.OnCallOutput(rows, many=True).data)
        response.data["at"] = serializers.DateTimeField().to_representation(at)
        # Schedules whose rows the engine cannot read; every other schedule is still answered.
        response.data["broken"] = s.BrokenScheduleOutput(broken, many=True).data
        return response


class ScheduleListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.ScheduleOutput

    @extend_schema(tags=TAG, summary="List schedules", responses={200: s.ScheduleOutput(many=True)})
    def get(self, request):
        page = self.paginate_queryset(selectors.schedule_list())
        return self.get_paginated_response(s.ScheduleOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Create a schedule (add layers in the portal)",
        request=s.ScheduleCreateInput,
        responses={201: s.ScheduleDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request):
        data = valid_input(s.ScheduleCreateInput, request.data)
        schedule = services.schedule_create(actor=request.user, **data)
        detail = selectors.schedule_detail(schedule.slug)
        return Response(s.ScheduleDetailOutput(detail).data, status=status.HTTP_201_CREATED)


class ScheduleDetailView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG, summary="A schedule with its layers", responses={200: s.ScheduleDetailOutput, 404: PROBLEM}
    )
    def get(self, request, slug: str):
        return Response(s.ScheduleDetailOutput(selectors.schedule_detail(slug)).data)


class FinalScheduleView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary=f"The final schedule over [start, end): UTC shifts, at most {s.MAX_FINAL_RANGE.days} days",
        parameters=[s.RangeInput],
        responses={200: s.ShiftOutput(many=True), 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    )
    def get(self, request, slug: str):
        span = valid_input(s.RangeInput, request.query_params)
        schedule = selectors.schedule_for_engine_or_404(slug, overrides_ending_after=span["start"])
        answers, broken = selectors.each_schedule(
            [schedule], lambda _, engine: rotation.final_schedule(engine, span["start"], span["end"])
        )
        if broken:
            raise Conflict(f"Schedule {slug} cannot be evaluated: {broken[0].problem}")
        shifts = answers[0]
        return Response(
            {"start": span["start"], "end": span["end"], "shifts": s.ShiftOutput(shifts, many=True).data}
        )


class LayerListView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="Add a rotation layer to a schedule (on top unless a position is given)",
        request=s.LayerCreateInput,
        responses={201: s.LayerOutput, **WRITE_ERRORS},
    )
    def post(self, request, slug: str):
        data = valid_input(s.LayerCreateInput, request.data)
        layer = services.layer_create(actor=request.user, schedule=selectors.schedule_or_404(slug), **data)
        return Response(
            s.LayerOutput(selectors.layer_with_participants(layer.pk)).data, status=status.HTTP_201_CREATED
        )


class LayerDetailView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="Change some of a layer's fields; participants, when sent, replace the rotation order",
        request=s.LayerUpdateInput(partial=True),
        responses={200: s.LayerOutput, **WRITE_ERRORS},
    )
    def patch(self, request, slug: str, layer_id: int):
        layer = selectors.layer_of_schedule_or_404(slug, layer_id)
        data = dict(valid_input(s.LayerUpdateInput, request.data, partial=True))
        layer = services.layer_update(actor=request.user, layer=layer, **data)
        return Response(s.LayerOutput(selectors.layer_with_participants(layer.pk)).data)


class OverrideListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.OverrideOutput

    @extend_schema(
        tags=TAG, summary="A schedule's overrides, latest first", responses={200: s.OverrideOutput(many=True)}
    )
    def get(self, request, slug: str):
        page = self.paginate_queryset(selectors.overrides_of(selectors.schedule_or_404(slug)))
        return self.get_paginated_response(s.OverrideOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Someone covers a stretch, beating every layer",
        request=s.OverrideCreateInput,
        responses={201: s.OverrideOutput, **WRITE_ERRORS},
    )
    def post(self, request, slug: str):
        data = valid_input(s.OverrideCreateInput, request.data)
        override = services.override_create(
            actor=request.user, schedule=selectors.schedule_or_404(slug), **data
        )
        return Response(s.OverrideOutput(override).data, status=status.HTTP_201_CREATED)


class SwapListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.SwapOutput

    @extend_schema(
        tags=TAG, summary="A schedule's shift swaps, latest first", responses={200: s.SwapOutput(many=True)}
    )
    def get(self, request, slug: str):
        page = self.paginate_queryset(selectors.swaps_of(selectors.schedule_or_404(slug)))
        return self.get_paginated_response(s.SwapOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Ask someone to take a stretch of your shift",
        request=s.SwapProposeInput,
        responses={201: s.SwapOutput, **WRITE_ERRORS},
    )
    def post(self, request, slug: str):
        data = valid_input(s.SwapProposeInput, request.data)
        swap = services.swap_propose(actor=request.user, schedule=selectors.schedule_or_404(slug), **data)
        return Response(s.SwapOutput(swap).data, status=status.HTTP_201_CREATED)


class SwapDecisionView(APIView):
    scope_area = SCOPE_AREA
    decide = None  # the service

    @extend_schema(tags=TAG, request=None, responses={200: s.SwapOutput, **WRITE_ERRORS})
    def post(self, request, swap_id: int):
        swap = type(self).decide(actor=request.user, swap=selectors.swap_or_404(swap_id))
        return Response(s.SwapOutput(swap).data)


class SwapAcceptView(SwapDecisionView):
    """The counterpart takes the shift (an override for them); only the counterpart may."""

    decide = staticmethod(services.swap_accept)


class SwapDeclineView(SwapDecisionView):
    decide = staticmethod(services.swap_decline)


class SwapCancelView(SwapDecisionView):
    """The requester withdraws the request."""

    decide = staticmethod(services.swap_cancel)
