"""Alerting API v1: integrations and their routes, escalation policies, alert groups (acknowledge, resolve, snooze,
escalate) and the caller's own contact methods and notification rules. Each view checks the request's shape, calls
one service or selector with the token's holder as the actor, and answers. Scopes alerts:read / alerts:write."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from oncall import alerting, contacts, integration_services
from oncall import alerting_selectors as selectors
from oncall import escalation_services as policy_services
from oncall.api import alert_serializers as s
from opsportal.core.identity_selectors import request_principal
from opsportal.core.inputs import valid_input
from opsportal.core.roles import ADMINISTER, role_allows

TAG = ["alerts"]
SCOPE_AREA = "alerts"
VIA = "api"
PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")
WRITE_ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM}
DELETED = OpenApiResponse(description="Deleted; no body")


def _shows_keys(request) -> bool:
    """Integration keys are secrets: admins see them (as the holder's role is now); others only on create."""
    principal = request_principal(request)
    return principal is not None and role_allows(principal.role, ADMINISTER)


def _integration_answer(integration, *, show_key: bool, code=status.HTTP_200_OK) -> Response:
    fresh = selectors.integration_or_404(integration.pk)
    return Response(s.IntegrationOutput(fresh, context={"show_key": show_key}).data, status=code)


def _minutes(value):
    return timedelta(minutes=value) if value is not None else None


# Integrations and routes


class IntegrationListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.IntegrationOutput

    @extend_schema(
        tags=TAG,
        summary="List integrations (doors in for monitoring); keys only for admins",
        responses={200: s.IntegrationOutput(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.integrations())
        context = {"show_key": _shows_keys(request)}
        return self.get_paginated_response(s.IntegrationOutput(page, many=True, context=context).data)

    @extend_schema(
        tags=TAG,
        summary="Create an integration; the answer holds its secret key",
        request=s.IntegrationCreateInput,
        responses={201: s.IntegrationOutput, **WRITE_ERRORS},
    )
    def post(self, request):
        data = dict(valid_input(s.IntegrationCreateInput, request.data))
        data["ack_timeout"] = _minutes(data.pop("ack_timeout_minutes", None))
        heartbeat = data.pop("heartbeat", None)
        if heartbeat is not None:
            data.update(
                heartbeat_period=_minutes(heartbeat.get("period_minutes")),
                heartbeat_grace=_minutes(heartbeat["grace_minutes"]),
                heartbeat_cron=heartbeat.get("cron", ""),
                heartbeat_time_zone=heartbeat["time_zone"],
            )
        integration = integration_services.integration_create(actor=request.user, **data)
        return _integration_answer(integration, show_key=True, code=status.HTTP_201_CREATED)


class IntegrationDetailView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(tags=TAG, summary="An integration", responses={200: s.IntegrationOutput, 404: PROBLEM})
    def get(self, request, integration_id: int):
        return _integration_answer(
            selectors.integration_or_404(integration_id), show_key=_shows_keys(request)
        )

    @extend_schema(
        tags=TAG,
        summary="Change some of an integration's fields (its default route, urgency, ack timeout, on/off)",
        request=s.IntegrationUpdateInput(partial=True),
        responses={200: s.IntegrationOutput, **WRITE_ERRORS},
    )
    def patch(self, request, integration_id: int):
        integration = selectors.integration_or_404(integration_id)
        data = dict(valid_input(s.IntegrationUpdateInput, request.data, partial=True))
        if "ack_timeout_minutes" in data:
            data["ack_timeout"] = _minutes(data.pop("ack_timeout_minutes"))
        # A PATCH: what was not sent stays as it is.
        current = {
            "name": integration.name,
            "enabled": integration.enabled,
            "escalation_policy": integration.escalation_policy,
            "urgency": integration.urgency,
            "ack_timeout": integration.ack_timeout,
            "declare_incident_for": integration.declare_incident_for,
        }
        integration = integration_services.integration_update(
            actor=request.user, integration=integration, **{**current, **data}
        )
        return _integration_answer(integration, show_key=_shows_keys(request))


class RouteListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.RouteOutput

    @extend_schema(
        tags=TAG,
        summary="An integration's routing rules, in the order they are tried",
        responses={200: s.RouteOutput(many=True), 404: PROBLEM},
    )
    def get(self, request, integration_id: int):
        integration = selectors.integration_or_404(integration_id)
        page = self.paginate_queryset(selectors.routes_of(integration))
        return self.get_paginated_response(s.RouteOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Add a routing rule (last unless a position is given)",
        request=s.RouteCreateInput,
        responses={201: s.RouteOutput, **WRITE_ERRORS},
    )
    def post(self, request, integration_id: int):
        integration = selectors.integration_or_404(integration_id)
        data = {"conditions": [], **valid_input(s.RouteCreateInput, request.data)}
        route = integration_services.route_create(actor=request.user, integration=integration, **data)
        fresh = selectors.route_of_integration_or_404(integration.pk, route.pk)
        return Response(s.RouteOutput(fresh).data, status=status.HTTP_201_CREATED)


class RouteOrderView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="Put an integration's routing rules in a new order (name each exactly once)",
        request=s.RouteOrderInput,
        responses={200: s.RouteOutput(many=True), **WRITE_ERRORS},
    )
    def post(self, request, integration_id: int):
        integration = selectors.integration_or_404(integration_id)
        data = valid_input(s.RouteOrderInput, request.data)
        integration_services.routes_reorder(
            actor=request.user, integration=integration, route_ids=data["routes"]
        )
        return Response(s.RouteOutput(selectors.routes_of(integration), many=True).data)


class RouteDetailView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="Change some of a routing rule's fields",
        request=s.RouteUpdateInput(partial=True),
        responses={200: s.RouteOutput, **WRITE_ERRORS},
    )
    def patch(self, request, integration_id: int, route_id: int):
        route = selectors.route_of_integration_or_404(integration_id, route_id)
        data = valid_input(s.RouteUpdateInput, request.data, partial=True)
        current = {
            "name": route.name,
            "conditions": route.conditions,
            "team": route.team,
            "escalation_policy": route.escalation_policy,
            "urgency": route.urgency,
            "severity_map": route.severity_map,
            "declare_incident": route.declare_incident,
            "suppress": route.suppress,
        }
        integration_services.route_update(actor=request.user, route=route, **{**current, **data})
        return Response(s.RouteOutput(selectors.route_of_integration_or_404(integration_id, route_id)).data)

    @extend_schema(tags=TAG, summary="Delete a routing rule", responses={204: DELETED, **WRITE_ERRORS})
    def delete(self, request, integration_id: int, route_id: int):
        route = selectors.route_of_integration_or_404(integration_id, route_id)
        integration_services.route_delete(actor=request.user, route=route)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Escalation policies


def _levels(raw: list[dict] | None) -> list[dict] | None:
    if raw is None:
        return None
    return [{**level, "time_condition": level.get("time_condition") or {}} for level in raw]


class PolicyListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.PolicyOutput

    @extend_schema(
        tags=TAG,
        summary="List escalation policies with their levels",
        responses={200: s.PolicyOutput(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.policies())
        return self.get_paginated_response(s.PolicyOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Create an escalation policy with its levels and targets",
        request=s.PolicyCreateInput,
        responses={201: s.PolicyOutput, **WRITE_ERRORS},
    )
    def post(self, request):
        data = dict(valid_input(s.PolicyCreateInput, request.data))
        levels = _levels(data.pop("levels", None)) or []
        repeat_from = data.pop("repeat_from")
        # A policy arrives whole: created with its levels, or not at all.
        with transaction.atomic():
            policy = policy_services.policy_create(actor=request.user, **data)
            if levels or repeat_from != 1:
                policy_services.policy_set_levels(
                    actor=request.user, policy=policy, levels=levels, repeat_from=repeat_from
                )
        return Response(
            s.PolicyOutput(selectors.policy_or_404(policy.pk)).data, status=status.HTTP_201_CREATED
        )


class PolicyDetailView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(tags=TAG, summary="An escalation policy", responses={200: s.PolicyOutput, 404: PROBLEM})
    def get(self, request, policy_id: int):
        return Response(s.PolicyOutput(selectors.policy_or_404(policy_id)).data)

    @extend_schema(
        tags=TAG,
        summary="Change some of a policy's fields; levels, when sent, replace every level (running escalations "
        "keep the policy as it was when they started)",
        request=s.PolicyUpdateInput(partial=True),
        responses={200: s.PolicyOutput, **WRITE_ERRORS},
    )
    def patch(self, request, policy_id: int):
        policy = selectors.policy_or_404(policy_id)
        data = dict(valid_input(s.PolicyUpdateInput, request.data, partial=True))
        levels = _levels(data.pop("levels", None))
        with transaction.atomic():
            if levels is not None:
                # First the levels, so that a repeat_from sent with them is read against the new ones.
                policy = policy_services.policy_set_levels(
                    actor=request.user,
                    policy=policy,
                    levels=levels,
                    repeat_from=data.pop("repeat_from", None),
                )
            if data:
                current = {
                    "name": policy.name,
                    "description": policy.description,
                    "repeat": policy.repeat,
                    "repeat_from": policy.repeat_from,
                }
                policy_services.policy_update(actor=request.user, policy=policy, **{**current, **data})
        return Response(s.PolicyOutput(selectors.policy_or_404(policy_id)).data)

    @extend_schema(
        tags=TAG,
        summary="Delete an escalation policy (refused while an escalation runs on it)",
        responses={204: DELETED, **WRITE_ERRORS},
    )
    def delete(self, request, policy_id: int):
        policy_services.policy_delete(actor=request.user, policy=selectors.policy_or_404(policy_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Alert groups


class AlertGroupListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.AlertGroupOutput

    @extend_schema(
        tags=TAG,
        summary="Alert groups, newest first, filtered by status, team, integration and urgency",
        parameters=[s.AlertGroupQueryInput],
        responses={200: s.AlertGroupOutput(many=True), 400: PROBLEM},
    )
    def get(self, request):
        query = valid_input(s.AlertGroupQueryInput, request.query_params)
        page = self.paginate_queryset(selectors.alert_groups(**query))
        return self.get_paginated_response(s.AlertGroupOutput(page, many=True).data)


class AlertGroupDetailView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="An alert group with its details and timeline",
        responses={200: s.AlertGroupDetailOutput, 404: PROBLEM},
    )
    def get(self, request, group_id: int):
        return Response(s.AlertGroupDetailOutput(selectors.alert_group_with_log_or_404(group_id)).data)


class AlertGroupActionView(APIView):
    """acknowledge / resolve / escalate: no body; the responder role is checked as the holder's role is now."""

    scope_area = SCOPE_AREA
    act = None  # the service

    @extend_schema(tags=TAG, request=None, responses={200: s.AlertGroupDetailOutput, **WRITE_ERRORS})
    def post(self, request, group_id: int):
        group = selectors.alert_group_or_404(group_id)
        type(self).act(actor=request.user, group=group, via=VIA)
        return Response(s.AlertGroupDetailOutput(selectors.alert_group_with_log_or_404(group_id)).data)


class AlertGroupAcknowledgeView(AlertGroupActionView):
    """Stop paging about the group; acknowledging again restarts the integration's ack timeout."""

    act = staticmethod(alerting.alert_group_acknowledge)


class AlertGroupResolveView(AlertGroupActionView):
    act = staticmethod(alerting.alert_group_resolve)


class AlertGroupEscalateView(AlertGroupActionView):
    """Page the next level now."""

    act = staticmethod(alerting.alert_group_escalate)


class AlertGroupSnoozeView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="Acknowledge until a time, then trigger again unless resolved",
        request=s.SnoozeInput,
        responses={200: s.AlertGroupDetailOutput, **WRITE_ERRORS},
    )
    def post(self, request, group_id: int):
        group = selectors.alert_group_or_404(group_id)
        data = valid_input(s.SnoozeInput, request.data)
        alerting.alert_group_snooze(actor=request.user, group=group, until=data["until"], via=VIA)
        return Response(s.AlertGroupDetailOutput(selectors.alert_group_with_log_or_404(group_id)).data)


# The caller's own contact methods and notification rules


class ContactMethodListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.ContactMethodOutput

    @extend_schema(
        tags=TAG, summary="Your contact methods", responses={200: s.ContactMethodOutput(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.contact_methods_of(request.user))
        return self.get_paginated_response(s.ContactMethodOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Add a contact method; email and SMS get a code to send back to verify/",
        request=s.ContactMethodCreateInput,
        responses={201: s.ContactMethodOutput, **WRITE_ERRORS},
    )
    def post(self, request):
        data = valid_input(s.ContactMethodCreateInput, request.data)
        method = contacts.contact_method_add(actor=request.user, user=request.user, **data)
        if not method.is_verified:
            # As the portal does: the code goes out at once (the add is committed whatever happens here).
            contacts.contact_method_send_code(actor=request.user, method=method)
        return Response(s.ContactMethodOutput(method).data, status=status.HTTP_201_CREATED)


class ContactMethodDetailView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="Remove one of your contact methods (and the rules that use it)",
        responses={204: DELETED, **WRITE_ERRORS},
    )
    def delete(self, request, contact_method_id: int):
        method = selectors.contact_method_of_or_404(request.user, contact_method_id)
        contacts.contact_method_remove(actor=request.user, method=method)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactMethodVerifyView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="Verify a contact method with the code sent to it",
        request=s.VerifyInput,
        responses={200: s.ContactMethodOutput, **WRITE_ERRORS},
    )
    def post(self, request, contact_method_id: int):
        method = selectors.contact_method_of_or_404(request.user, contact_method_id)
        data = valid_input(s.VerifyInput, request.data)
        method = contacts.contact_method_verify(actor=request.user, method=method, code=data["code"])
        return Response(s.ContactMethodOutput(method).data)


class ContactMethodResendView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(
        tags=TAG,
        summary="Send a new verification code to an email or SMS method (at most one a minute)",
        request=None,
        responses={202: s.ContactMethodOutput, **WRITE_ERRORS},
    )
    def post(self, request, contact_method_id: int):
        method = selectors.contact_method_of_or_404(request.user, contact_method_id)
        contacts.contact_method_send_code(actor=request.user, method=method)
        method.refresh_from_db()
        return Response(s.ContactMethodOutput(method).data, status=status.HTTP_202_ACCEPTED)


class NotificationRuleListView(generics.GenericAPIView):
    scope_area = SCOPE_AREA
    serializer_class = s.NotificationRuleOutput

    @extend_schema(
        tags=TAG,
        summary="Your notification rules (push now, SMS after 1 min, …), by delay",
        responses={200: s.NotificationRuleOutput(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.notification_rules_of(request.user))
        return self.get_paginated_response(s.NotificationRuleOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Add a notification rule on one of your contact methods",
        request=s.NotificationRuleCreateInput,
        responses={201: s.NotificationRuleOutput, **WRITE_ERRORS},
    )
    def post(self, request):
        data = dict(valid_input(s.NotificationRuleCreateInput, request.data))
        method = selectors.contact_methods_of(request.user).filter(pk=data.pop("contact_method")).first()
        if method is None:
            raise serializers.ValidationError(
                {"contact_method": ["You have no contact method with this id."]}
            )
        rule = contacts.notification_rule_add(actor=request.user, user=request.user, method=method, **data)
        return Response(s.NotificationRuleOutput(rule).data, status=status.HTTP_201_CREATED)


class NotificationRuleDetailView(APIView):
    scope_area = SCOPE_AREA

    @extend_schema(tags=TAG, summary="Remove one of your rules", responses={204: DELETED, **WRITE_ERRORS})
    def delete(self, request, rule_id: int):
        rule = selectors.notification_rule_of_or_404(request.user, rule_id)
        contacts.notification_rule_remove(actor=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)
