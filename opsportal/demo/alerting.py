"""Demo alerting: per team an Alertmanager, a PagerDuty and a heartbeat integration with routes and an escalation
policy; a follow-the-sun policy over regional schedules that skips people at night; verified contact methods and
rules for the responders; and a few past alert groups with their timelines. Called by demo_load once."""

from __future__ import annotations

import datetime

from oncall import alerting, contacts, integration_services
from oncall import escalation_services as policy_services
from oncall import services as oncall_services
from oncall.events import InboundEvent
from oncall.models import ContactKind, Integration, Region, Schedule, Team
from opsportal.core.roles import RESPOND
from opsportal.core.services import SYSTEM

# Who leads each team (paged at level 3 for a P0, with the exec where they are on the team).
TEAM_LEADS = {"Checkout SRE": "ben", "Payments": "iris", "Platform": "freya"}
EXEC = "ana"
# Night in the person's own zone: the follow-the-sun level pages only outside it.
NIGHT = {"zone": "target", "days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "07:00", "when": "outside"}
FOLLOW_THE_SUN_TEAM = "Platform"

# (minutes ago it fired, team, integration kind, key, summary, severity, labels, acked after, resolved after, by)
HISTORY = [
    (
        6 * 24 * 60,
        "Checkout SRE",
        "alertmanager",
        "checkout-5xx",
        "Checkout 5xx rate above 2 %",
        "critical",
        {"alertname": "Checkout5xx", "region": "NA"},
        3,
        41,
        "chloe",
    ),
    (
        3 * 24 * 60,
        "Payments",
        "pagerduty",
        "acquirer-latency",
        "Card acquirer p99 latency above 3 s",
        "error",
        {"region": "EU"},
        6,
        95,
        "goran",
    ),
    (
        26 * 60,
        "Platform",
        "alertmanager",
        "disk-db-2",
        "Disk 90 % full on db-2",
        "warning",
        {"alertname": "DiskFilling", "region": "APAC"},
        12,
        180,
        "jun",
    ),
    (
        9,
        "Payments",
        "alertmanager",
        "payout-queue",
        "Payout queue older than 15 minutes",
        "error",
        {"alertname": "PayoutQueueAge", "region": "EU"},
        2,
        None,
        "goran",
    ),
]


def demo_alerting(users: dict, *, now: datetime.datetime) -> dict[str, int]:
    """Create the demo's alerting, unless some integration already exists. Returns counts of what was made."""
    made = {"integrations": 0, "escalation_policies": 0, "contact_methods": 0, "alert_groups": 0}
    if Integration.objects.exists():
        return made
    teams = {team.name: team for team in Team.objects.prefetch_related("memberships__user")}
    eu_team = teams["Payments"]  # labels.region=EU goes to the team with the most people in Europe
    integrations: dict[tuple[str, str], Integration] = {}
    for name, team in teams.items():
        schedule = Schedule.objects.filter(team=team, slug=f"{team.slug}-follow-the-sun").first()
        policy = _team_policy(team, schedule, users, name)
        made["escalation_policies"] += 1
        for kind, label in (
            ("alertmanager", "Prometheus Alertmanager"),
            ("pagerduty", "Grafana (PagerDuty)"),
        ):
            integration = integration_services.integration_create(
                actor=SYSTEM,
                team=team,
                name=label,
                kind=kind,
                escalation_policy=policy,
                urgency="low",  # what no rule claims waits for the team's support hours
                ack_timeout=datetime.timedelta(hours=4) if kind == "pagerduty" else None,
            )
            integration_services.route_create(
                actor=SYSTEM,
                integration=integration,
                name="Critical pages now",
                team=team,
                conditions=[{"field": "severity", "op": "equals", "value": "critical"}],
                escalation_policy=policy,
                urgency="high",
                severity_map={"critical": "P0"},
            )
            if team != eu_team:
                integration_services.route_create(
                    actor=SYSTEM,
                    integration=integration,
                    name="Europe goes to the EU team",
                    team=eu_team,
                    conditions=[{"field": "labels.region", "op": "equals", "value": "EU"}],
                    escalation_policy=None,  # the EU team's own policy is set below, once it exists
                    urgency="high",
                )
            integrations[(name, kind)] = integration
            made["integrations"] += 1
        integration_services.integration_create(
            actor=SYSTEM,
            team=team,
            name="Nightly backup heartbeat",
            kind="heartbeat",
            escalation_policy=policy,
            urgency="low",
            heartbeat_period=datetime.timedelta(days=1),
            heartbeat_grace=datetime.timedelta(hours=1),
        )
        made["integrations"] += 1
    _point_eu_routes_at_the_eu_policy(eu_team)
    _follow_the_sun(teams[FOLLOW_THE_SUN_TEAM], now=now)
    made["escalation_policies"] += 1
    made["contact_methods"] = _contact_methods(users)
    made["alert_groups"] = _history(integrations, users, now=now)
    return made


def _team_policy(team: Team, schedule: Schedule | None, users: dict, name: str):
    levels = []
    if schedule is not None:
        levels.append({"delay_minutes": 5, "targets": [{"kind": "schedule", "schedule": schedule}]})
        levels.append(
            {"delay_minutes": 10, "targets": [{"kind": "schedule_secondary", "schedule": schedule}]}
        )
    # A policy names only its own team's people: the exec is paged by the teams they belong to.
    members = {membership.user_id for membership in team.memberships.all()}
    chiefs = [users[TEAM_LEADS.get(name, EXEC)], users[EXEC]]
    targets = [{"kind": "user", "user": user} for user in dict.fromkeys(chiefs) if user.pk in members]
    levels.append({"delay_minutes": 10, "severities": ["P0"], "targets": targets})
    return _policy(
        team=team,
        name=f"{team.name} default",
        description="The on-call person, then the next layer's, then for a P0 the team lead (and the exec, "
        "where they are on the team).",
        repeat=2,
        levels=levels,
    )


def _policy(*, team: Team, name: str, description: str, repeat: int, levels: list[dict]):
    policy = policy_services.policy_create(
        actor=SYSTEM, team=team, name=name, description=description, repeat=repeat
    )
    return policy_services.policy_set_levels(actor=SYSTEM, policy=policy, levels=levels)


def _point_eu_routes_at_the_eu_policy(eu_team: Team) -> None:
    from oncall.models import EscalationPolicy, Route

    policy = EscalationPolicy.objects.get(team=eu_team, name=f"{eu_team.name} default")
    for route in Route.objects.filter(team=eu_team, escalation_policy__isnull=True).select_related("team"):
        integration_services.route_update(
            actor=SYSTEM,
            route=route,
            name=route.name,
            conditions=route.conditions,
            team=route.team,
            escalation_policy=policy,
            urgency=route.urgency,
            severity_map=route.severity_map,
            declare_incident=route.declare_incident,
            suppress=route.suppress,
        )


def _follow_the_sun(team: Team, *, now: datetime.datetime):
    """One schedule per region (a weekly rotation of the team's people there, around the clock) and a policy
    that pages each region's on-call person only outside their own night, then, if nobody answered, everyone's."""
    monday = now.date() - datetime.timedelta(days=now.weekday())
    by_region: dict[str, list] = {}
    for membership in sorted(team.memberships.all(), key=lambda m: m.user.username):
        by_region.setdefault(membership.region_id, []).append(membership.user)
    schedules = []
    for region in Region.objects.order_by("position"):
        people = by_region.get(region.pk)
        if not people:
            continue
        schedule = oncall_services.schedule_create(
            actor=SYSTEM,
            name=f"{team.name} {region.code}",
            slug=f"{team.slug}-{region.code.lower()}",
            team=team,
            time_zone=region.time_zone,
        )
        oncall_services.layer_create(
            actor=SYSTEM,
            schedule=schedule,
            name=region.code,
            participants=people,
            start=monday - datetime.timedelta(weeks=2),
            time_zone=region.time_zone,
        )
        schedules.append(schedule)
    targets = [{"kind": "schedule", "schedule": schedule} for schedule in schedules]
    return _policy(
        team=team,
        name=f"{team.name} follow the sun",
        description="Each region's on-call person, unless it is night where they are (22:00-07:00 their time); "
        "after 10 minutes without an answer, every region's, night or not.",
        repeat=1,
        levels=[
            {"delay_minutes": 10, "time_condition": dict(NIGHT), "targets": targets},
            {"delay_minutes": 15, "targets": targets},
        ],
    )


def _contact_methods(users: dict) -> int:
    """Responders get push (now) and email (after a minute), both verified: the demo's addresses are its own,
    so they are added verified as trusted system work rather than by mailing codes nobody reads."""
    made = 0
    for user in users.values():
        if not user.has_perm(RESPOND):
            continue
        push = contacts.contact_method_add(actor=SYSTEM, user=user, kind=ContactKind.PUSH, label="Phone app")
        email = contacts.contact_method_add(
            actor=SYSTEM,
            user=user,
            kind=ContactKind.EMAIL,
            address=user.email,
            label="Work email",
            verified=True,
        )
        contacts.notification_rule_add(actor=SYSTEM, user=user, method=push, delay_minutes=0)
        contacts.notification_rule_add(actor=SYSTEM, user=user, method=email, delay_minutes=1)
        made += 2
    return made


def _history(integrations: dict, users: dict, *, now: datetime.datetime) -> int:
    made = 0
    for ago, team, kind, key, summary, severity, labels, ack_after, resolve_after, by in HISTORY:
        fired = now - datetime.timedelta(minutes=ago)
        integration = integrations[(team, kind)]
        event = InboundEvent(
            action="trigger",
            dedup_key=key,
            summary=summary,
            severity=severity,
            source="prometheus" if kind == "alertmanager" else "grafana",
            labels=labels,
        )
        (stored,) = alerting.alert_events_ingest(integration=integration, events=[event], now=fired)
        group = stored.group
        responder = users[by]
        alerting.alert_group_acknowledge(
            actor=responder, group=group, via="sms", now=fired + datetime.timedelta(minutes=ack_after)
        )
        if resolve_after is not None:
            resolve = InboundEvent(action="resolve", dedup_key=key)
            alerting.alert_events_ingest(
                integration=integration,
                events=[resolve],
                now=fired + datetime.timedelta(minutes=resolve_after),
            )
        made += 1
    return made
