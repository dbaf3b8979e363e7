"""Alerting reads for the doors: integrations, routes, escalation policies, alert groups with their log, and a
person's own contact methods and notification rules."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from oncall.models import (
    AlertGroup,
    AlertLogEntry,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Integration,
    NotificationRule,
    Route,
)


def integrations() -> QuerySet[Integration]:
    return Integration.objects.select_related("team", "escalation_policy", "heartbeat").order_by(
        "team__name", "name", "id"
    )


def integration_or_404(integration_id: int) -> Integration:
    return get_object_or_404(integrations(), pk=integration_id)


def routes_of(integration: Integration) -> QuerySet[Route]:
    return integration.routes.select_related("team", "escalation_policy").order_by("position", "id")


def route_of_integration_or_404(integration_id: int, route_id: int) -> Route:
    return get_object_or_404(
        Route.objects.select_related("team", "escalation_policy", "integration"),
        pk=route_id,
        integration_id=integration_id,
    )


def policies() -> QuerySet[EscalationPolicy]:
    targets = EscalationTarget.objects.select_related("user", "schedule", "team").order_by("position", "id")
    levels = EscalationLevel.objects.prefetch_related(Prefetch("targets", queryset=targets)).order_by(
        "position", "id"
    )
    return (
        EscalationPolicy.objects.select_related("team")
        .prefetch_related(Prefetch("levels", queryset=levels))
        .order_by("team__name", "name", "id")
    )


def policy_or_404(policy_id: int) -> EscalationPolicy:
    return get_object_or_404(policies(), pk=policy_id)


def alert_groups(
    *,
    status: str | None = None,
    team: str | None = None,
    integration: int | None = None,
    urgency: str | None = None,
) -> QuerySet[AlertGroup]:
    """Newest first; each filter is optional (team by slug, integration by id)."""
    groups = AlertGroup.objects.select_related(
        "integration", "team", "acknowledged_by", "resolved_by"
    ).order_by("-first_seen_at", "-id")
    if status:
        groups = groups.filter(status=status)
    if team:
        groups = groups.filter(team__slug=team)
    if integration:
        groups = groups.filter(integration_id=integration)
    if urgency:
        groups = groups.filter(urgency=urgency)
    return groups


def alert_group_or_404(group_id: int) -> AlertGroup:
    return get_object_or_404(alert_groups(), pk=group_id)


def alert_group_with_log_or_404(group_id: int) -> AlertGroup:
    log = AlertLogEntry.objects.select_related("actor").order_by("at", "id")
    return get_object_or_404(alert_groups().prefetch_related(Prefetch("log", queryset=log)), pk=group_id)


def contact_methods_of(user) -> QuerySet[ContactMethod]:
    return ContactMethod.objects.filter(user=user).order_by("kind", "id")


def contact_method_of_or_404(user, contact_method_id: int) -> ContactMethod:
    """Someone else's contact method does not exist, as far as this person can tell."""
    return get_object_or_404(contact_methods_of(user), pk=contact_method_id)


def notification_rules_of(user) -> QuerySet[NotificationRule]:
    return (
        NotificationRule.objects.filter(user=user)
        .select_related("contact_method")
        .order_by("delay_minutes", "id")
    )


def notification_rule_of_or_404(user, rule_id: int) -> NotificationRule:
    return get_object_or_404(notification_rules_of(user), pk=rule_id)
