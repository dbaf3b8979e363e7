"""Partner API v1: status page components."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.core.identity_selectors import request_is_partner
from opsportal.core.inputs import valid_input
from statuspage.models import ComponentStatus
from statuspage.selectors import components_for_listing
from statuspage.services import component_set_status
from statuspage.subscriber_selectors import subscribable_components


def _components(request):
    # Partners see the components the public page shows; staff see every one.
    return subscribable_components() if request_is_partner(request) else components_for_listing()


class ComponentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    group = serializers.CharField(source="group.name", allow_null=True, default=None)
    position = serializers.IntegerField()
    showcase = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class ComponentListView(generics.ListAPIView):
    """Components and their current status."""

    scope_area = "statuspage"
    partner_access = True
    serializer_class = ComponentSerializer

    def get_queryset(self):
        return _components(self.request)


class ComponentStatusSetInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ComponentStatus.choices)


class ComponentDetailView(APIView):
    """One component; PATCH its status (recorded for uptime and audited)."""

    scope_area = "statuspage"
    partner_access = True  # reading; changing a status needs statuspage:write, which partners never hold

    @extend_schema(responses=ComponentSerializer)
    def get(self, request, component_id: int):
        component = get_object_or_404(_components(request), pk=component_id)
        return Response(ComponentSerializer(component).data)

    @extend_schema(request=ComponentStatusSetInput, responses=ComponentSerializer)
    def patch(self, request, component_id: int):
        component = get_object_or_404(components_for_listing(), pk=component_id)
        payload = valid_input(ComponentStatusSetInput, request.data)
        component = component_set_status(actor=request.user, component=component, status=payload["status"])
        return Response(ComponentSerializer(components_for_listing().get(pk=component.pk)).data)
