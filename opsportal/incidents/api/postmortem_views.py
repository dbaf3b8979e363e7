"""Partner API v1: an incident's post-mortem and its action items."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.core.inputs import valid_input
from opsportal.incidents import postmortems
from opsportal.incidents.api import serializers as s
from opsportal.incidents.api.views import PROBLEM, WRITE_ERRORS
from opsportal.incidents.selectors import incident_or_404, postmortem_for_incident, postmortem_or_404

TAG = ["incident post-mortems"]


def _postmortem_response(incident_id: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(s.PostmortemOutput(postmortem_or_404(incident_id)).data, status=code)


class PostmortemView(APIView):
    scope_area = "incidents"

    @extend_schema(
        tags=TAG, summary="Read an incident's post-mortem", responses={200: s.PostmortemOutput, 404: PROBLEM}
    )
    def get(self, request, incident_id: int):
        return _postmortem_response(incident_id)

    @extend_schema(
        tags=TAG,
        summary="Start the post-mortem (pre-filled from pinned timeline events); 200 if it exists",
        request=None,
        responses={201: s.PostmortemOutput, 200: s.PostmortemOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        incident = incident_or_404(incident_id)
        existed = postmortem_for_incident(incident_id) is not None
        postmortems.postmortem_start(actor=request.user, incident=incident)
        return _postmortem_response(incident_id, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAG,
        summary="Edit post-mortem sections (only the ones sent change)",
        request=s.PostmortemEditInput,
        responses={200: s.PostmortemOutput, **WRITE_ERRORS},
    )
    def patch(self, request, incident_id: int):
        postmortem = postmortem_or_404(incident_id)
        data = valid_input(s.PostmortemEditInput, request.data)
        postmortems.postmortem_edit(actor=request.user, postmortem=postmortem, **data)
        return _postmortem_response(incident_id)


class PostmortemTransitionView(APIView):
    scope_area = "incidents"

    @extend_schema(
        tags=TAG,
        summary="Move the post-mortem: draft -> in_review -> published (publishing needs a commander)",
        request=s.PostmortemTransitionInput,
        responses={200: s.PostmortemOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        postmortem = postmortem_or_404(incident_id)
        data = valid_input(s.PostmortemTransitionInput, request.data)
        postmortems.postmortem_transition(actor=request.user, postmortem=postmortem, **data)
        return _postmortem_response(incident_id)


class ActionItemListView(APIView):
    scope_area = "incidents"

    @extend_schema(
        tags=TAG,
        summary="Add an action item; answers with the post-mortem and all its items",
        request=s.ActionItemInput,
        responses={201: s.PostmortemOutput, **WRITE_ERRORS},
    )
    def post(self, request, incident_id: int):
        postmortem = postmortem_or_404(incident_id)
        data = valid_input(s.ActionItemInput, request.data)
        postmortems.action_item_add(actor=request.user, postmortem=postmortem, **data)
        return _postmortem_response(incident_id, status.HTTP_201_CREATED)
