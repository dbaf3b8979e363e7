"""Reads for the alerting pages: the alert stream, one alert group with its escalation so far, escalation
policies with their levels and targets, integrations with their routes and last events."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Prefetch, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from oncall import alert_lifecycle as lifecycle
from oncall.models import (
    AlertEvent,
    AlertGroup,
    AlertLogEntry,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Integration,
    Route,
    Schedule,
    Team,
)

OPEN = "open"
SEARCH_MAX = 200
LAST_EVENTS = 20

# --- the alert stream ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamFilters:
    status: str = OPEN  # "open", one of the states, or "" for all
    team: Team | None = None
    integration: Integration | None = None
    urgency: str = ""
    severity: str = ""  # incident severity, P0…P4
    text: str = ""


def alert_stream(filters: StreamFilters | None = None) -> QuerySet[AlertGroup]:
    """Open groups first (triggered, then acknowledged), then resolved; newest first within each. Every row's
    team, integration and acknowledger come in the same query, so a page costs the same for 5 or 50 rows."""
    filters = filters or StreamFilters()
    groups = AlertGroup.objects.select_related("team", "integration", "acknowledged_by", "resolved_by")
    if filters.status == OPEN:
        groups = groups.exclude(status=lifecycle.RESOLVED)
    elif filters.status:
        groups = groups.filter(status=filters.status)
    if filters.team is not None:
        groups = groups.filter(team=filters.team)
    if filters.integration is not None:
        groups = groups.filter(integration=filters.integration)
    if filters.urgency:
        groups = groups.filter(urgency=filters.urgency)
    if filters.severity:
        groups = groups.filter(incident_severity=filters.severity)
    if filters.text:
        groups = groups.filter(summary__icontains=filters.text[:SEARCH_MAX])
    rank = Case(
        When(status=lifecycle.TRIGGERED, then=Value(0)),
        When(status=lifecycle.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return groups.annotate(status_rank=rank).order_by("status_rank", "-last_seen_at", "-id")


def triggered_count() -> int:
    return AlertGroup.objects.filter(status=lifecycle.TRIGGERED).count()


def teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def integrations_for_choice() -> QuerySet[Integration]:
    return Integration.objects.select_related("team").order_by("team__name", "name")


# --- one alert group --------------------------------------------------------------------------------------------


def alert_group_or_404(group_id: int) -> AlertGroup:
    groups = AlertGroup.objects.select_related(
        "team",
        "integration",
        "acknowledged_by",
        "resolved_by",
        "incident",
        "escalation_policy",
        "component",
        "route",
    )
    return get_object_or_404(groups, pk=group_id)


def alert_group_log(group: AlertGroup) -> list[AlertLogEntry]:
    return list(AlertLogEntry.objects.filter(group=group).select_related("actor").order_by("at", "id"))


# Its pages, each with its delivery's status: oncall.paging.pages_of.


def alert_group_escalation(group: AlertGroup) -> Escalation | None:
    return Escalation.objects.filter(group=group).first()


def alert_group_events(group: AlertGroup, *, limit: int = LAST_EVENTS) -> list[AlertEvent]:
    return list(AlertEvent.objects.filter(group=group).order_by("-received_at", "-id")[:limit])


def alert_groups_of_incident(incident) -> list[AlertGroup]:
    return list(AlertGroup.objects.filter(incident=incident).select_related("integration").order_by("id"))


# --- escalation policies --------------------------------------------------------------------------------------


def policies() -> QuerySet[EscalationPolicy]:
    targets = EscalationTarget.objects.select_related("user", "schedule", "team").order_by("position", "id")
    levels = EscalationLevel.objects.order_by("position", "id").prefetch_related(
        Prefetch("targets", queryset=targets)
    )
    return EscalationPolicy.objects.select_related("team").prefetch_related(
        Prefetch("levels", queryset=levels)
    )


def policy_or_404(policy_id: int) -> EscalationPolicy:
    return get_object_or_404(policies(), pk=policy_id)


def level_of_policy_or_404(policy: EscalationPolicy, level_id: int) -> EscalationLevel:
    return get_object_or_404(
        EscalationLevel.objects.select_related("policy__team"), pk=level_id, policy=policy
    )


def target_of_policy_or_404(policy: EscalationPolicy, target_id: int) -> EscalationTarget:
    return get_object_or_404(
        EscalationTarget.objects.select_related("level__policy"), pk=target_id, level__policy=policy
    )


def team_members(team: Team):
    """The people a policy of `team` may page by name: the team's own members."""
    return get_user_model().objects.filter(team_memberships__team=team, is_active=True).order_by("username")


def team_schedules(team: Team) -> QuerySet[Schedule]:
    return Schedule.objects.filter(team=team).order_by("name")


def policies_of_team(team: Team) -> QuerySet[EscalationPolicy]:
    return EscalationPolicy.objects.filter(team=team).order_by("name")


def policies_for_choice() -> QuerySet[EscalationPolicy]:
    return EscalationPolicy.objects.select_related("team").order_by("team__name", "name")


# --- integrations ---------------------------------------------------------------------------------------------


def integrations() -> QuerySet[Integration]:
    return Integration.objects.select_related("team", "escalation_policy").order_by("team__name", "name")


def integration_or_404(integration_id: int) -> Integration:
    return get_object_or_404(
        Integration.objects.select_related("team", "escalation_policy", "heartbeat"), pk=integration_id
    )


def routes_of(integration: Integration) -> list[Route]:
    return list(
        Route.objects.filter(integration=integration)
        .select_related("team", "escalation_policy")
        .order_by("position", "id")
    )


def route_of_integration_or_404(integration: Integration, route_id: int) -> Route:
    return get_object_or_404(
        Route.objects.select_related("integration"), pk=route_id, integration=integration
    )


def last_events_of(integration: Integration, *, limit: int = LAST_EVENTS) -> list[AlertEvent]:
    return list(
        AlertEvent.objects.filter(integration=integration)
        .select_related("group")
        .order_by("-received_at", "-id")[:limit]
    )


def open_groups_count_by_integration() -> dict[int, int]:
    rows = (
        AlertGroup.objects.exclude(status=lifecycle.RESOLVED)
        .values("integration")
        .annotate(n=Count("id"))
        .values_list("integration", "n")
    )
    return dict(rows)
