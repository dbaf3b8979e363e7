"""API v1 plumbing views: the index, the caller's own token, the schema and the docs page."""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from opsportal.core.problems import problem_response


class TokenInfoSerializer(serializers.Serializer):
    name = serializers.CharField(source="token.name")
    prefix = serializers.CharField(source="token.prefix")
    user = serializers.CharField(source="account.username")
    partner = serializers.CharField(source="partner.name", allow_null=True, default=None)
    role = serializers.CharField(allow_null=True, help_text="The staff role the token acts with now")
    scopes = serializers.ListField(child=serializers.CharField(), source="token.scopes")
    expires_at = serializers.DateTimeField(allow_null=True, source="token.expires_at")
    last_used_at = serializers.DateTimeField(allow_null=True, source="token.last_used_at")
    created_at = serializers.DateTimeField(source="token.created_at")


class ApiIndexView(APIView):
    partner_access = True

    @extend_schema(
        summary="List the API's areas",
        responses=inline_serializer(
            "ApiIndex", fields={"version": serializers.CharField(), "links": serializers.DictField()}
        ),
    )
    def get(self, request):
        return Response(
            {
                "version": "v1",
                "links": {
                    "me": reverse("api:me", request=request),
                    "incidents": reverse("api:incidents", request=request),
                    "status_incidents": reverse("api:status-incidents", request=request),
                    "status_maintenance": reverse("api:status-maintenance", request=request),
                    "maintenance": reverse("api:maintenance", request=request),
                    "components": reverse("api:statuspage-components", request=request),
                    "subscribers": reverse("api:subscribers", request=request),
                    "teams": reverse("api:oncall-teams", request=request),
                    "alert_groups": reverse("api:alerts-groups", request=request),
                    "integrations": reverse("api:alerts-integrations", request=request),
                    "escalation_policies": reverse("api:alerts-policies", request=request),
                    "schema": reverse("api:schema", request=request),
                    "docs": reverse("api:docs", request=request),
                },
            }
        )


class TokenInfoView(APIView):
    """The token making this request: its scopes, expiry, owner and current role. Handy to check a token."""

    partner_access = True

    @extend_schema(summary="Describe the calling token", responses=TokenInfoSerializer)
    def get(self, request):
        return Response(TokenInfoSerializer(request.auth).data)


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer with a problem for every method, in DEBUG too (no CSRF page: there is
    nothing here to protect, and API clients read problems, not HTML)."""
    return problem_response(request, 404, "There is no API endpoint at this path.")
