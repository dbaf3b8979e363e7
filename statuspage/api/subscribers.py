"""Partner API v1: a partner's own subscriptions. Other owners' subscribers do not exist for them (404).
Reads need subscribers:read, writes subscribers:write."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.core.inputs import valid_input
from opsportal.core.serializer_fields import LineSerializerField
from statuspage import subscriptions
from statuspage.models import SubscriberChannel
from statuspage.subscriber_selectors import (
    partner_subscriber_or_404,
    partner_subscribers,
    subscribable_components,
)

TAG = ["subscribers"]
SCOPE_AREA = "subscribers"
PROBLEM = OpenApiResponse(description="Problem details (application/problem+json)")


class SubscriberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    address = serializers.CharField()
    components = serializers.SerializerMethodField(help_text="Component ids; empty means every component")
    status = serializers.CharField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    unsubscribed_at = serializers.DateTimeField(allow_null=True)
    quarantined_at = serializers.DateTimeField(allow_null=True)
    quarantine_reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_components(self, obj) -> list[int]:
        return [component.pk for component in obj.components.all()]


class SubscriberCreatedOutput(SubscriberOutput):
    secret = serializers.CharField(
        help_text="Webhook signing secret (HMAC-SHA256). Shown only in this response: store it now."
    )


class SubscriptionRequestedOutput(serializers.Serializer):
    channel = serializers.CharField()
    address = serializers.CharField()
    status = serializers.CharField(help_text="Always 'confirmation_requested'")
    detail = serializers.CharField()


class ComponentsInput(serializers.Serializer):
    components = serializers.PrimaryKeyRelatedField(
        queryset=subscribable_components(),
        many=True,
        help_text="Public component ids to follow; an empty list follows every component",
    )


class SubscriberCreateInput(serializers.Serializer):
    components = serializers.PrimaryKeyRelatedField(
        queryset=subscribable_components(), many=True, required=False, default=list
    )
    channel = serializers.ChoiceField(choices=SubscriberChannel.choices)
    address = LineSerializerField(max_length=500)


class SubscriberListView(generics.GenericAPIView):
    """Your subscriptions (cancelled ones, and email/SMS ones their recipient has not confirmed yet, are left
    out); POST adds one: a webhook is confirmed at once, an email address or phone number is asked first."""

    scope_area = SCOPE_AREA
    partner_access = True
    serializer_class = SubscriberOutput

    @extend_schema(tags=TAG, summary="List your subscriptions", responses={200: SubscriberOutput(many=True)})
    def get(self, request):
        rows = partner_subscribers(request.user).filter(unsubscribed_at__isnull=True)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SubscriberOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Subscribe a webhook URL (201, at once) or an email address or phone number (202: the "
        "recipient is asked to confirm; the answer is the same whether or not they were already subscribed)",
        request=SubscriberCreateInput,
        responses={
            201: SubscriberCreatedOutput,
            202: SubscriptionRequestedOutput,
            400: PROBLEM,
            403: PROBLEM,
            409: PROBLEM,
        },
    )
    def post(self, request):
        data = valid_input(SubscriberCreateInput, request.data)
        subscriber = subscriptions.subscriber_subscribe_for_partner(actor=request.user, **data)
        if subscriber is not None:
            subscriber = partner_subscriber_or_404(request.user, subscriber.pk)
            return Response(SubscriberCreatedOutput(subscriber).data, status=status.HTTP_201_CREATED)
        address = subscriptions.subscriber_normalise_address(channel=data["channel"], address=data["address"])
        body = {
            "channel": data["channel"],
            "address": address,
            "status": "confirmation_requested",
            "detail": "We asked the recipient to confirm. The subscription is listed here once they do.",
        }
        return Response(SubscriptionRequestedOutput(body).data, status=status.HTTP_202_ACCEPTED)


class SubscriberDetailView(APIView):
    scope_area = SCOPE_AREA
    partner_access = True

    @extend_schema(
        tags=TAG, summary="Read one of your subscriptions", responses={200: SubscriberOutput, 404: PROBLEM}
    )
    def get(self, request, subscriber_id: int):
        return Response(SubscriberOutput(partner_subscriber_or_404(request.user, subscriber_id)).data)

    @extend_schema(
        tags=TAG,
        summary="Change which components a subscription follows (empty list: all)",
        request=ComponentsInput,
        responses={200: SubscriberOutput, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    )
    def patch(self, request, subscriber_id: int):
        subscriber = partner_subscriber_or_404(request.user, subscriber_id)
        data = valid_input(ComponentsInput, request.data)
        subscriptions.subscriber_update_components(
            actor=request.user, subscriber=subscriber, components=data["components"]
        )
        return Response(SubscriberOutput(partner_subscriber_or_404(request.user, subscriber_id)).data)

    @extend_schema(tags=TAG, summary="Unsubscribe", responses={204: None, 404: PROBLEM})
    def delete(self, request, subscriber_id: int):
        subscriber = partner_subscriber_or_404(request.user, subscriber_id)
        subscriptions.subscriber_unsubscribe(actor=request.user, subscriber=subscriber)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriberResumeView(APIView):
    """Resume a subscription that was paused (a webhook disabled after repeated failures, a hard bounce)."""

    scope_area = SCOPE_AREA
    partner_access = True

    @extend_schema(
        tags=TAG,
        summary="Resume a paused subscription",
        request=None,
        responses={200: SubscriberOutput, 404: PROBLEM, 409: PROBLEM},
    )
    def post(self, request, subscriber_id: int):
        subscriber = partner_subscriber_or_404(request.user, subscriber_id)
        subscriptions.subscriber_resume(actor=request.user, subscriber=subscriber)
        return Response(SubscriberOutput(partner_subscriber_or_404(request.user, subscriber_id)).data)
