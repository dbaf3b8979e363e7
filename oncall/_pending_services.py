"""Stand-ins for services other branches are writing at the same time (integrations, routes and policies:
oncall/integration_services.py and oncall/escalation_services.py; contact methods: oncall/contacts.py; alert
group actions: oncall/alerting.py). Same names and keyword-only arguments; the lead points the API views at the
real modules when they merge and deletes this file. It lives in the domain (not in oncall/api/) because the
demo data and the benchmark need the same writes, and the layers let only the API door import oncall.api."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from oncall import alert_lifecycle as lifecycle
from oncall import routing
from oncall.models import (
    ContactKind,
    ContactMethod,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Heartbeat,
    Integration,
    IntegrationKind,
    NotificationRule,
    Route,
    TargetKind,
    Team,
)
from opsportal.core.exceptions import Conflict
from opsportal.core.roles import RESPOND
from opsportal.core.services import audit_record, require_permission, user_or_none
from opsportal.core.time_zones import is_iana_time_zone

logger = logging.getLogger(__name__)

INTEGRATION_FIELDS = (
    "name",
    "enabled",
    "escalation_policy",
    "urgency",
    "ack_timeout",
    "declare_incident_for",
)
ROUTE_FIELDS = (
    "name",
    "conditions",
    "team",
    "escalation_policy",
    "urgency",
    "severity_map",
    "declare_incident",
    "suppress",
)
POLICY_FIELDS = ("name", "description", "repeat", "repeat_from")
VERIFICATION_TTL = timedelta(minutes=15)
VERIFICATION_ATTEMPTS = 5


def _integration_snapshot(integration: Integration) -> dict:
    return {
        "team": integration.team.slug,
        "name": integration.name,
        "kind": integration.kind,
        "enabled": integration.enabled,
        "escalation_policy": integration.escalation_policy_id,
        "urgency": integration.urgency,
        "ack_timeout_seconds": integration.ack_timeout.total_seconds() if integration.ack_timeout else None,
        "declare_incident_for": integration.declare_incident_for,
    }


def _check_conditions(conditions) -> None:
    errors = routing.condition_errors(conditions)
    if errors:
        raise ValidationError({"conditions": errors})


def _check_policy_of_team(policy: EscalationPolicy | None, field: str = "escalation_policy") -> None:
    # Any team's policy may be named (a route can hand an alert to another team); it must simply exist.
    if policy is not None and not EscalationPolicy.objects.filter(pk=policy.pk).exists():
        raise ValidationError({field: "No such escalation policy."})


@transaction.atomic
def integration_create(
    *,
    actor,
    team: Team,
    name: str,
    kind: str,
    escalation_policy: EscalationPolicy | None = None,
    urgency: str = lifecycle.HIGH,
    ack_timeout: timedelta | None = None,
    declare_incident_for: list[str] | None = None,
    heartbeat: dict | None = None,
) -> Integration:
    require_permission(actor, RESPOND)
    if kind not in IntegrationKind.values:
        raise ValidationError({"kind": "Unknown integration kind."})
    if Integration.objects.filter(team=team, name=name).exists():
        raise ValidationError({"name": "This team already has an integration with this name."})
    _check_policy_of_team(escalation_policy)
    integration = Integration.objects.create(
        team=team,
        name=name,
        kind=kind,
        escalation_policy=escalation_policy,
        urgency=urgency,
        ack_timeout=ack_timeout,
        declare_incident_for=sorted(set(declare_incident_for or [])),
    )
    if kind == IntegrationKind.HEARTBEAT:
        beat = heartbeat or {}
        if not beat.get("period") and not beat.get("cron"):
            beat = {**beat, "period": timedelta(minutes=5)}
        if beat.get("time_zone") and not is_iana_time_zone(beat["time_zone"]):
            raise ValidationError({"heartbeat": "Give an IANA time zone name."})
        Heartbeat.objects.create(
            integration=integration,
            period=beat.get("period"),
            grace=beat.get("grace") or timedelta(minutes=5),
            cron=beat.get("cron", ""),
            time_zone=beat.get("time_zone") or "UTC",
        )
    elif heartbeat:
        raise ValidationError({"heartbeat": "Only a heartbeat integration has a heartbeat."})
    audit_record(
        actor=actor,
        action="oncall.integration_created",
        obj=integration,
        after=_integration_snapshot(integration),
    )
    return integration


@transaction.atomic
def integration_update(*, actor, integration: Integration, **changes) -> Integration:
    require_permission(actor, RESPOND)
    unknown = set(changes) - set(INTEGRATION_FIELDS)
    if unknown:
        raise ValueError(f"integration_update cannot change {', '.join(sorted(unknown))}")
    integration = Integration.objects.select_for_update().select_related("team").get(pk=integration.pk)
    if "name" in changes and (
        Integration.objects.filter(team=integration.team, name=changes["name"])
        .exclude(pk=integration.pk)
        .exists()
    ):
        raise ValidationError({"name": "This team already has an integration with this name."})
    if "escalation_policy" in changes:
        _check_policy_of_team(changes["escalation_policy"])
    if "declare_incident_for" in changes:
        changes["declare_incident_for"] = sorted(set(changes["declare_incident_for"]))
    before = _integration_snapshot(integration)
    for field, value in changes.items():
        setattr(integration, field, value)
    if changes:
        integration.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action="oncall.integration_updated",
        obj=integration,
        before=before,
        after=_integration_snapshot(integration),
    )
    return integration


def _route_snapshot(route: Route) -> dict:
    return {
        "name": route.name,
        "position": route.position,
        "conditions": route.conditions,
        "team": route.team_id,
        "escalation_policy": route.escalation_policy_id,
        "urgency": route.urgency,
        "severity_map": route.severity_map,
        "declare_incident": route.declare_incident,
        "suppress": route.suppress,
    }


@transaction.atomic
def route_create(
    *,
    actor,
    integration: Integration,
    name: str,
    team: Team,
    conditions: list[dict] | None = None,
    escalation_policy: EscalationPolicy | None = None,
    urgency: str = lifecycle.HIGH,
    severity_map: dict | None = None,
    declare_incident: bool = False,
    suppress: bool = False,
    position: int | None = None,
) -> Route:
    """A routing rule; without a position it goes last (rules are tried in order, first match wins)."""
    require_permission(actor, RESPOND)
    Integration.objects.select_for_update().get(pk=integration.pk)  # one writer of the order at a time
    _check_conditions(conditions or [])
    _check_policy_of_team(escalation_policy)
    if position is None:
        last = integration.routes.order_by("-position").values_list("position", flat=True).first()
        position = 0 if last is None else last + 1
    route = Route.objects.create(
        integration=integration,
        name=name,
        team=team,
        conditions=conditions or [],
        escalation_policy=escalation_policy,
        urgency=urgency,
        severity_map=severity_map or {},
        declare_incident=declare_incident,
        suppress=suppress,
        position=position,
    )
    audit_record(actor=actor, action="oncall.route_created", obj=route, after=_route_snapshot(route))
    return route


@transaction.atomic
def route_update(*, actor, route: Route, **changes) -> Route:
    require_permission(actor, RESPOND)
    unknown = set(changes) - set(ROUTE_FIELDS)
    if unknown:
        raise ValueError(f"route_update cannot change {', '.join(sorted(unknown))}")
    route = Route.objects.select_for_update().get(pk=route.pk)
    if "conditions" in changes:
        _check_conditions(changes["conditions"])
    if "escalation_policy" in changes:
        _check_policy_of_team(changes["escalation_policy"])
    before = _route_snapshot(route)
    for field, value in changes.items():
        setattr(route, field, value)
    if changes:
        route.save(update_fields=list(changes))
    audit_record(
        actor=actor, action="oncall.route_updated", obj=route, before=before, after=_route_snapshot(route)
    )
    return route


@transaction.atomic
def route_delete(*, actor, route: Route) -> None:
    require_permission(actor, RESPOND)
    before = _route_snapshot(route)
    audit_record(actor=actor, action="oncall.route_deleted", obj=route, before=before)
    route.delete()


@transaction.atomic
def routes_reorder(*, actor, integration: Integration, route_ids: list[int]) -> list[Route]:
    """Put an integration's rules in this order; the list must name each of them exactly once."""
    require_permission(actor, RESPOND)
    Integration.objects.select_for_update().get(pk=integration.pk)
    routes = {route.pk: route for route in integration.routes.all()}
    if sorted(route_ids) != sorted(routes):
        raise ValidationError({"routes": "Name every route of this integration exactly once."})
    before = [route.pk for route in sorted(routes.values(), key=lambda r: (r.position, r.pk))]
    for position, route_id in enumerate(route_ids):
        routes[route_id].position = position
    Route.objects.bulk_update(routes.values(), ["position"])
    audit_record(
        actor=actor,
        action="oncall.routes_reordered",
        obj=integration,
        before={"order": before},
        after={"order": route_ids},
    )
    return [routes[route_id] for route_id in route_ids]


def _policy_snapshot(policy: EscalationPolicy) -> dict:
    return {
        "team": policy.team_id,
        "name": policy.name,
        "description": policy.description,
        "repeat": policy.repeat,
        "repeat_from": policy.repeat_from,
        "levels": [
            {
                "delay_minutes": level.delay_minutes,
                "round_robin": level.round_robin,
                "severities": level.severities,
                "urgencies": level.urgencies,
                "time_condition": level.time_condition,
                "targets": [
                    {
                        "kind": target.kind,
                        "user": target.user_id,
                        "schedule": target.schedule_id,
                        "team": target.team_id,
                    }
                    for target in level.targets.all()
                ],
            }
            for level in policy.levels.prefetch_related("targets")
        ],
    }


def _check_levels(levels: list[dict], repeat_from: int) -> None:
    for number, level in enumerate(levels, start=1):
        if not level.get("targets"):
            raise ValidationError({"levels": f"Level {number} needs at least one target."})
        for target in level["targets"]:
            kind = target["kind"]
            needs = {
                TargetKind.USER: "user",
                TargetKind.SCHEDULE: "schedule",
                TargetKind.SCHEDULE_SECONDARY: "schedule",
                TargetKind.TEAM: "team",
            }[kind]
            if target.get(needs) is None:
                raise ValidationError({"levels": f"Level {number}: a {kind} target names a {needs}."})
        zone = (level.get("time_condition") or {}).get("zone")
        if zone and zone != "target" and not zone.startswith("region:") and not is_iana_time_zone(zone):
            raise ValidationError(
                {
                    "levels": f"Level {number}: the zone is 'target', 'region:<code>' or an IANA time zone name."
                }
            )
    if levels and repeat_from > len(levels):
        raise ValidationError({"repeat_from": "Repeat from a level the policy has."})


def _set_levels(policy: EscalationPolicy, levels: list[dict]) -> None:
    policy.levels.all().delete()
    for position, level in enumerate(levels):
        made = EscalationLevel.objects.create(
            policy=policy,
            position=position,
            delay_minutes=level.get("delay_minutes", 5),
            round_robin=level.get("round_robin", False),
            severities=level.get("severities", []),
            urgencies=level.get("urgencies", []),
            time_condition=level.get("time_condition") or {},
        )
        EscalationTarget.objects.bulk_create(
            EscalationTarget(
                level=made,
                position=n,
                kind=target["kind"],
                user=target.get("user") if target["kind"] == TargetKind.USER else None,
                schedule=target.get("schedule")
                if target["kind"] in (TargetKind.SCHEDULE, TargetKind.SCHEDULE_SECONDARY)
                else None,
                team=target.get("team") if target["kind"] == TargetKind.TEAM else None,
            )
            for n, target in enumerate(level["targets"])
        )


@transaction.atomic
def policy_create(
    *,
    actor,
    team: Team,
    name: str,
    repeat: int = 0,
    repeat_from: int = 1,
    description: str = "",
    levels: list[dict] | None = None,
) -> EscalationPolicy:
    require_permission(actor, RESPOND)
    if EscalationPolicy.objects.filter(team=team, name=name).exists():
        raise ValidationError({"name": "This team already has a policy with this name."})
    _check_levels(levels or [], repeat_from)
    policy = EscalationPolicy.objects.create(
        team=team, name=name, repeat=repeat, repeat_from=repeat_from, description=description
    )
    _set_levels(policy, levels or [])
    audit_record(actor=actor, action="oncall.policy_created", obj=policy, after=_policy_snapshot(policy))
    return policy


@transaction.atomic
def policy_update(*, actor, policy: EscalationPolicy, levels: list[dict] | None = None, **changes):
    """Change some fields; `levels`, when given, replace every level. Running escalations keep their
    snapshot."""
    require_permission(actor, RESPOND)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"policy_update cannot change {', '.join(sorted(unknown))}")
    policy = EscalationPolicy.objects.select_for_update().get(pk=policy.pk)
    if "name" in changes and (
        EscalationPolicy.objects.filter(team_id=policy.team_id, name=changes["name"])
        .exclude(pk=policy.pk)
        .exists()
    ):
        raise ValidationError({"name": "This team already has a policy with this name."})
    before = _policy_snapshot(policy)
    for field, value in changes.items():
        setattr(policy, field, value)
    if levels is not None:
        _check_levels(levels, policy.repeat_from)
    elif before["levels"] and policy.repeat_from > len(before["levels"]):
        raise ValidationError({"repeat_from": "Repeat from a level the policy has."})
    policy.save()
    if levels is not None:
        _set_levels(policy, levels)
    audit_record(
        actor=actor,
        action="oncall.policy_updated",
        obj=policy,
        before=before,
        after=_policy_snapshot(policy),
    )
    return policy


@transaction.atomic
def policy_delete(*, actor, policy: EscalationPolicy) -> None:
    require_permission(actor, RESPOND)
    if Escalation.objects.filter(policy=policy, status=Escalation.Status.ACTIVE).exists():
        raise Conflict("An escalation is running on this policy; wait for it to end or acknowledge it.")
    before = _policy_snapshot(policy)
    audit_record(actor=actor, action="oncall.policy_deleted", obj=policy, before=before)
    policy.delete()


# Contact methods and notification rules (oncall/contacts.py on the paging branch).


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def contact_method_send_code(*, contact_method: ContactMethod, now: datetime | None = None) -> str:
    """A new six-digit code for the address; only its hash is kept. The real service sends it through the
    address's own channel; this stand-in logs it."""
    now = now or timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    contact_method.verification_code_hash = _code_hash(code)
    contact_method.verification_expires_at = now + VERIFICATION_TTL
    contact_method.verification_attempts = 0
    contact_method.save(
        update_fields=["verification_code_hash", "verification_expires_at", "verification_attempts"]
    )
    logger.info("verification code for %s %s: %s", contact_method.kind, contact_method.address, code)
    return code


@transaction.atomic
def contact_method_create(*, actor, kind: str, address: str = "", label: str = "") -> ContactMethod:
    """A new address of the actor's own, unverified until its code comes back (push needs no code)."""
    user = user_or_none(actor)
    if user is None:
        raise ValidationError({"kind": "Contact methods belong to a person."})
    if kind == ContactKind.PUSH:
        address = ""
    elif not address:
        raise ValidationError({"address": "Give the address to reach you at."})
    if ContactMethod.objects.filter(user=user, kind=kind, address=address).exists():
        raise ValidationError({"address": "You already have this contact method."})
    method = ContactMethod.objects.create(user=user, kind=kind, address=address, label=label)
    if kind == ContactKind.PUSH:
        method.verified_at = timezone.now()
        method.save(update_fields=["verified_at"])
    else:
        contact_method_send_code(contact_method=method)
    audit_record(actor=actor, action="oncall.contact_method_created", obj=method, after={"kind": kind})
    return method


def contact_method_verify(*, actor, contact_method: ContactMethod, code: str, now=None) -> ContactMethod:
    now = now or timezone.now()
    # A wrong code is counted and committed before the refusal, so guessing stops after a few tries.
    with transaction.atomic():
        method = ContactMethod.objects.select_for_update().get(pk=contact_method.pk)
        if method.user_id != getattr(actor, "pk", None):
            raise ValidationError({"code": "Only the owner verifies a contact method."})
        if method.verified_at is not None:
            return method
        expired = method.verification_expires_at is None or method.verification_expires_at < now
        if expired or method.verification_attempts >= VERIFICATION_ATTEMPTS:
            raise Conflict("This code has expired or was tried too often; ask for a new one.")
        right = hmac.compare_digest(method.verification_code_hash, _code_hash(code.strip()))
        if right:
            method.verified_at = now
            method.verification_code_hash = ""
            method.save(update_fields=["verified_at", "verification_code_hash"])
            audit_record(actor=actor, action="oncall.contact_method_verified", obj=method)
        else:
            method.verification_attempts += 1
            method.save(update_fields=["verification_attempts"])
    if not right:
        raise ValidationError({"code": "That code is not right."})
    return method


@transaction.atomic
def contact_method_delete(*, actor, contact_method: ContactMethod) -> None:
    if contact_method.user_id != getattr(actor, "pk", None):
        raise ValidationError({"contact_method": "Only the owner removes a contact method."})
    audit_record(actor=actor, action="oncall.contact_method_deleted", obj=contact_method)
    contact_method.delete()


@transaction.atomic
def notification_rule_create(
    *, actor, contact_method: ContactMethod, delay_minutes: int = 0, urgency: str = "any"
) -> NotificationRule:
    if contact_method.user_id != getattr(actor, "pk", None):
        raise ValidationError({"contact_method": "Use one of your own contact methods."})
    rule = NotificationRule.objects.create(
        user=contact_method.user, contact_method=contact_method, delay_minutes=delay_minutes, urgency=urgency
    )
    audit_record(
        actor=actor,
        action="oncall.notification_rule_created",
        obj=rule,
        after={"contact_method": contact_method.pk, "delay_minutes": delay_minutes, "urgency": urgency},
    )
    return rule


@transaction.atomic
def notification_rule_delete(*, actor, rule: NotificationRule) -> None:
    if rule.user_id != getattr(actor, "pk", None):
        raise ValidationError({"rule": "Only the owner removes a rule."})
    audit_record(actor=actor, action="oncall.notification_rule_deleted", obj=rule)
    rule.delete()
