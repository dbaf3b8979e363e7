"""Integration writes: create and update an integration (a team's door in), rotate its secret key, and its
ordered routing rules. Each checks meaning, writes, and audits; the key itself never enters the audit log.

Who may: the responder role for integrations and routes (the team that owns the alerts wires them up, as
with schedules and policies); rotating a key is for admins, because it breaks every sender at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from oncall import alert_lifecycle, routing
from oncall.heartbeats import heartbeat_configure
from oncall.models import EscalationPolicy, Integration, IntegrationKind, Route, Team
from oncall.models.alerts import new_integration_key
from opsportal.core.roles import ADMINISTER, RESPOND
from opsportal.core.services import audit_record, require_permission
from opsportal.core.text import NAME_MAX, validate_line
from opsportal.incidents.models import Severity

MAX_ROUTES = 100
MAX_ACK_TIMEOUT = timedelta(days=7)
# A new heartbeat integration without a schedule expects a ping every hour; its bounds are
# oncall.heartbeat_schedule's, checked by heartbeats.heartbeat_configure.
DEFAULT_HEARTBEAT_PERIOD = timedelta(hours=1)
DEFAULT_HEARTBEAT_GRACE = timedelta(minutes=5)


def _check_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"name": "Give a name."})
    value = value.strip()
    if len(value) > NAME_MAX:
        raise ValidationError({"name": f"At most {NAME_MAX} characters."})
    try:
        validate_line(value)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    return value


def _check_urgency(value: Any) -> str:
    if value not in alert_lifecycle.URGENCIES:
        raise ValidationError({"urgency": f"One of {', '.join(alert_lifecycle.URGENCIES)}."})
    return value


def _check_severities(field: str, values: Any) -> list[str]:
    if not isinstance(values, (list, tuple)) or any(v not in Severity.values for v in values):
        raise ValidationError({field: f"Each is one of {', '.join(Severity.values)}."})
    return sorted(set(values), key=Severity.values.index)


def _check_duration(
    field: str, value: Any, *, low: timedelta, high: timedelta, optional: bool
) -> timedelta | None:
    if value is None and optional:
        return None
    if not isinstance(value, timedelta) or not low <= value <= high:
        raise ValidationError({field: f"Give a duration from {low} to {high}."})
    return value


def _check_policy(field: str, policy: EscalationPolicy | None, team: Team) -> EscalationPolicy | None:
    if policy is not None and policy.team_id != team.pk:
        raise ValidationError({field: f"Choose one of {team.name}'s escalation policies."})
    return policy


def _integration_snapshot(integration: Integration) -> dict:
    return {
        "team": integration.team.slug,
        "name": integration.name,
        "kind": integration.kind,
        "enabled": integration.enabled,
        "escalation_policy": integration.escalation_policy_id,
        "urgency": integration.urgency,
        "ack_timeout_seconds": int(integration.ack_timeout.total_seconds())
        if integration.ack_timeout
        else None,
        "declare_incident_for": integration.declare_incident_for,
    }


@transaction.atomic
def integration_create(
    *,
    actor,
    team: Team,
    name: str,
    kind: str,
    escalation_policy: EscalationPolicy | None = None,
    urgency: str = alert_lifecycle.HIGH,
    ack_timeout: timedelta | None = None,
    declare_incident_for: list[str] | None = None,
    heartbeat_period: timedelta | None = None,
    heartbeat_grace: timedelta | None = None,
    heartbeat_cron: str = "",
    heartbeat_time_zone: str = "UTC",
) -> Integration:
    """A heartbeat integration gets its schedule through heartbeats.heartbeat_configure (a period, or a cron
    expression read in a time zone; an hour and five minutes' grace when neither is given); heartbeat settings
    for any other kind are refused."""
    require_permission(actor, RESPOND)
    name = _check_name(name)
    if kind not in IntegrationKind.values:
        raise ValidationError({"kind": f"One of {', '.join(IntegrationKind.values)}."})
    if Integration.objects.filter(team=team, name=name).exists():
        raise ValidationError({"name": "This team already has an integration with that name."})
    cron_given = bool((heartbeat_cron or "").strip()) if isinstance(heartbeat_cron, str) else True
    beat_given = (
        heartbeat_period is not None
        or heartbeat_grace is not None
        or cron_given
        or heartbeat_time_zone != "UTC"
    )
    if kind != IntegrationKind.HEARTBEAT and beat_given:
        raise ValidationError({"heartbeat": "Only a heartbeat integration has a heartbeat schedule."})
    integration = Integration.objects.create(
        team=team,
        name=name,
        kind=kind,
        escalation_policy=_check_policy("escalation_policy", escalation_policy, team),
        urgency=_check_urgency(urgency),
        ack_timeout=_check_duration(
            "ack_timeout", ack_timeout, low=timedelta(minutes=1), high=MAX_ACK_TIMEOUT, optional=True
        ),
        declare_incident_for=_check_severities("declare_incident_for", declare_incident_for or []),
    )
    audit_record(
        actor=actor,
        action="oncall.integration_created",
        obj=integration,
        after=_integration_snapshot(integration),
    )
    if kind == IntegrationKind.HEARTBEAT:
        heartbeat_configure(
            actor=actor,
            integration=integration,
            period=heartbeat_period
            if heartbeat_period is not None or cron_given
            else DEFAULT_HEARTBEAT_PERIOD,
            grace=heartbeat_grace if heartbeat_grace is not None else DEFAULT_HEARTBEAT_GRACE,
            cron=heartbeat_cron,
            time_zone=heartbeat_time_zone,
        )
    return integration


@transaction.atomic
def integration_update(
    *,
    actor,
    integration: Integration,
    name: str,
    enabled: bool,
    escalation_policy: EscalationPolicy | None,
    urgency: str,
    ack_timeout: timedelta | None,
    declare_incident_for: list[str],
) -> Integration:
    require_permission(actor, RESPOND)
    integration = Integration.objects.select_for_update().select_related("team").get(pk=integration.pk)
    before = _integration_snapshot(integration)
    name = _check_name(name)
    if Integration.objects.filter(team=integration.team, name=name).exclude(pk=integration.pk).exists():
        raise ValidationError({"name": "This team already has an integration with that name."})
    if not isinstance(enabled, bool):
        raise ValidationError({"enabled": "Yes or no."})
    integration.name = name
    integration.enabled = enabled
    integration.escalation_policy = _check_policy("escalation_policy", escalation_policy, integration.team)
    integration.urgency = _check_urgency(urgency)
    integration.ack_timeout = _check_duration(
        "ack_timeout", ack_timeout, low=timedelta(minutes=1), high=MAX_ACK_TIMEOUT, optional=True
    )
    integration.declare_incident_for = _check_severities("declare_incident_for", declare_incident_for)
    integration.save(
        update_fields=[
            "name",
            "enabled",
            "escalation_policy",
            "urgency",
            "ack_timeout",
            "declare_incident_for",
        ]
    )
    audit_record(
        actor=actor,
        action="oncall.integration_updated",
        obj=integration,
        before=before,
        after=_integration_snapshot(integration),
    )
    return integration


@transaction.atomic
def integration_rotate_key(*, actor, integration: Integration) -> Integration:
    """A new secret key: senders using the old one get 4xx from now on. The audit says it happened, never
    what either key was."""
    require_permission(actor, ADMINISTER)
    integration = Integration.objects.select_for_update().select_related("team").get(pk=integration.pk)
    integration.key = new_integration_key()
    integration.save(update_fields=["key"])
    audit_record(actor=actor, action="oncall.integration_key_rotated", obj=integration)
    return integration


# --- routes ---------------------------------------------------------------------------------------------------


def _check_conditions(conditions: Any) -> list:
    # The same checks the router relies on (a bad pattern never reaches an alert).
    problems = routing.condition_errors(conditions)
    if problems:
        raise ValidationError({"conditions": problems})
    return conditions


def _check_severity_map(value: Any) -> dict:
    if not isinstance(value, dict) or len(value) > len(alert_lifecycle.SOURCE_SEVERITIES):
        raise ValidationError({"severity_map": "Map source severities to incident severities."})
    for source, target in value.items():
        if source not in alert_lifecycle.SOURCE_SEVERITIES or target not in Severity.values:
            raise ValidationError(
                {
                    "severity_map": f"Map {', '.join(alert_lifecycle.SOURCE_SEVERITIES)} to one of "
                    f"{', '.join(Severity.values)}."
                }
            )
    return dict(value)


def _route_snapshot(route: Route) -> dict:
    return {
        "integration": route.integration_id,
        "position": route.position,
        "name": route.name,
        "conditions": route.conditions,
        "team": route.team.slug,
        "escalation_policy": route.escalation_policy_id,
        "urgency": route.urgency,
        "severity_map": route.severity_map,
        "declare_incident": route.declare_incident,
        "suppress": route.suppress,
    }


def _apply_route_fields(
    route: Route,
    *,
    name: Any,
    conditions: Any,
    team: Team,
    escalation_policy: EscalationPolicy | None,
    urgency: Any,
    severity_map: Any,
    declare_incident: Any,
    suppress: Any,
) -> None:
    if not isinstance(declare_incident, bool) or not isinstance(suppress, bool):
        raise ValidationError("Declare incident and suppress are yes or no.")
    route.name = _check_name(name)
    route.conditions = _check_conditions(conditions)
    route.team = team
    route.escalation_policy = _check_policy("escalation_policy", escalation_policy, team)
    route.urgency = _check_urgency(urgency)
    route.severity_map = _check_severity_map(severity_map)
    route.declare_incident = declare_incident
    route.suppress = suppress


def _renumber(ordered: list[Route]) -> None:
    # Dense positions in list order: positions may have gaps after deletes, and two equal ones would not sort.
    for position, row in enumerate(ordered):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])


def _locked_integration(integration: Integration) -> Integration:
    return Integration.objects.select_for_update().get(pk=integration.pk)


@transaction.atomic
def route_create(
    *,
    actor,
    integration: Integration,
    name: str,
    conditions: list,
    team: Team,
    escalation_policy: EscalationPolicy | None = None,
    urgency: str = alert_lifecycle.HIGH,
    severity_map: dict | None = None,
    declare_incident: bool = False,
    suppress: bool = False,
    position: int | None = None,
) -> Route:
    """Appended after the integration's other rules (first match wins; move it up to make it win sooner), or
    put at `position` (0 = tried first), the rules from there on moving down one."""
    require_permission(actor, RESPOND)
    integration = _locked_integration(integration)
    existing = Route.objects.filter(integration=integration)
    if existing.count() >= MAX_ROUTES:
        raise ValidationError(f"An integration has at most {MAX_ROUTES} routing rules.")
    route = Route(integration=integration)
    _apply_route_fields(
        route,
        name=name,
        conditions=conditions,
        team=team,
        escalation_policy=escalation_policy,
        urgency=urgency,
        severity_map=severity_map or {},
        declare_incident=declare_incident,
        suppress=suppress,
    )
    if position is None:
        last = existing.aggregate(top=Max("position"))["top"]
        route.position = 0 if last is None else last + 1
        route.save()
    else:
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise ValidationError({"position": "Give a position from 0 (tried first)."})
        ordered = list(existing.order_by("position", "id"))
        route.position = min(position, len(ordered))
        route.save()
        ordered.insert(route.position, route)
        _renumber(ordered)
    audit_record(actor=actor, action="oncall.route_created", obj=route, after=_route_snapshot(route))
    return route


@transaction.atomic
def route_update(
    *,
    actor,
    route: Route,
    name: str,
    conditions: list,
    team: Team,
    escalation_policy: EscalationPolicy | None,
    urgency: str,
    severity_map: dict,
    declare_incident: bool,
    suppress: bool,
) -> Route:
    require_permission(actor, RESPOND)
    _locked_integration(route.integration)
    route = Route.objects.select_related("team").get(pk=route.pk)
    before = _route_snapshot(route)
    _apply_route_fields(
        route,
        name=name,
        conditions=conditions,
        team=team,
        escalation_policy=escalation_policy,
        urgency=urgency,
        severity_map=severity_map,
        declare_incident=declare_incident,
        suppress=suppress,
    )
    route.save()
    audit_record(
        actor=actor, action="oncall.route_updated", obj=route, before=before, after=_route_snapshot(route)
    )
    return route


@transaction.atomic
def route_delete(*, actor, route: Route) -> None:
    require_permission(actor, RESPOND)
    _locked_integration(route.integration)
    before = _route_snapshot(route)
    audit_record(actor=actor, action="oncall.route_deleted", obj=route, before=before)
    route.delete()


@transaction.atomic
def route_move(*, actor, route: Route, direction: str) -> Route:
    """Swap a rule with the one before ("up") or after ("down") it; at either end nothing moves."""
    require_permission(actor, RESPOND)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Up or down."})
    integration = _locked_integration(route.integration)
    ordered = list(Route.objects.filter(integration=integration).order_by("position", "id"))
    index = next(n for n, candidate in enumerate(ordered) if candidate.pk == route.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return ordered[index]
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(ordered)
    moved = ordered[other]
    audit_record(
        actor=actor,
        action="oncall.route_moved",
        obj=moved,
        after={"integration": integration.pk, "direction": direction, "position": moved.position},
    )
    return moved


@transaction.atomic
def routes_reorder(*, actor, integration: Integration, route_ids: list[int]) -> list[Route]:
    """Put an integration's rules in this order (the API sends the whole order); the list names each of them
    exactly once."""
    require_permission(actor, RESPOND)
    integration = _locked_integration(integration)
    routes = {route.pk: route for route in Route.objects.filter(integration=integration)}
    if (
        not isinstance(route_ids, (list, tuple))
        or len(route_ids) != len(routes)
        or set(route_ids) != set(routes)
    ):
        raise ValidationError({"routes": "Name every routing rule of this integration exactly once."})
    before = [route.pk for route in sorted(routes.values(), key=lambda r: (r.position, r.pk))]
    ordered = [routes[route_id] for route_id in route_ids]
    _renumber(ordered)
    audit_record(
        actor=actor,
        action="oncall.routes_reordered",
        obj=integration,
        before={"order": before},
        after={"order": list(route_ids)},
    )
    return ordered
