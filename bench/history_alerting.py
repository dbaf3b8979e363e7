"""Two years of alerting for bench/history.py (issue 11): what the alert pipeline would have written.

Each team has an escalation policy (its primary schedule, then the whole team after 5 minutes), an Events v2
integration and an Alertmanager one; every engineer has a verified email and SMS with rules for both. Over two
years, alert groups arrive at random (60,000 at full scale, ~82 a day), each with its stored events (the triggers
and, for most, the source's resolve), its log (triggered, routed, escalation step, pages, acknowledged,
resolved), its pages and its stopped escalation carrying the policy snapshot the engine would have taken. A few
groups are open now (triggered with a running escalation, or acknowledged), as on any afternoon.

Rows are plain inserts like the rest of the history (bulk_create, COPY for the large tables): a service per row
would take hours, and every row is one the pipeline could have written.
"""

from __future__ import annotations

import datetime
import functools
import random
from collections import Counter

from django.db.models import OuterRef, Subquery

from oncall.engine import policy_snapshot
from oncall.models import (
    AlertEvent,
    AlertGroup,
    AlertLogEntry,
    ContactMethod,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Integration,
    NotificationRule,
    Page,
    Schedule,
    TargetKind,
)

GROUPS = 60_000
OPEN_GROUPS = 20
ALERTS = [
    ("HighErrorRate", "critical", "Error rate above 5% on {c}"),
    ("LatencySLOBurn", "error", "p99 latency burning the SLO budget on {c}"),
    ("QueueBacklog", "warning", "{c} queue backlog above 10,000"),
    ("PodCrashLooping", "error", "Pods crash-looping in {c}"),
    ("DiskFillingUp", "warning", "Disk on {c} full within 4 hours"),
    ("CertificateExpiry", "info", "TLS certificate for {c} expires in 14 days"),
]
INCIDENT_SEVERITY = {"critical": "P1", "error": "P2", "warning": "P3", "info": "P4"}


def generate_alerting(
    *, users, teams, components, rng: random.Random, since, now, scale: float, counts, write
):
    """Write the alerting history; `teams` carry `.people` (history_data._teams), `write(model, rows)` inserts
    plain rows (history_data._write: COPY on PostgreSQL)."""
    methods = _contact_methods(users, since=since, counts=counts)
    policies = _policies(teams, since=since, counts=counts)
    integrations = _integrations(teams, policies, since=since, counts=counts)
    snapshots = {policy.pk: policy_snapshot(policy) for policy in policies.values()}
    n = max(40, round(GROUPS * scale))
    starts = sorted(
        since + datetime.timedelta(seconds=rng.uniform(0, (now - since).total_seconds() - 7200))
        for _ in range(n)
    )
    batch = functools.partial(
        _groups,
        teams=teams,
        components=components,
        integrations=integrations,
        policies=policies,
        snapshots=snapshots,
        methods=methods,
        rng=rng,
        now=now,
        counts=counts,
        write=write,
    )
    for offset in range(0, n, 5000):
        batch(starts[offset : offset + 5000], open_now=False)
    batch(
        sorted(now - datetime.timedelta(minutes=rng.uniform(2, 90)) for _ in range(OPEN_GROUPS)),
        open_now=True,
    )
    last = (
        AlertEvent.objects.filter(integration=OuterRef("pk"))
        .order_by("-received_at")
        .values("received_at")[:1]
    )
    Integration.objects.update(last_event_at=Subquery(last))


def _contact_methods(users, *, since, counts: Counter) -> dict[int, list[ContactMethod]]:
    rows = []
    for i, user in enumerate(users):
        rows.append(
            ContactMethod(
                user=user,
                kind="email",
                label="Work email",
                address=user.email,
                verified_at=since,
                created_at=since,
            )
        )
        rows.append(
            ContactMethod(
                user=user,
                kind="sms",
                label="Mobile",
                address=f"+1416555{i:04d}",
                verified_at=since,
                created_at=since,
            )
        )
    ContactMethod.objects.bulk_create(rows, batch_size=2000)
    NotificationRule.objects.bulk_create(
        [
            NotificationRule(user_id=m.user_id, contact_method=m, delay_minutes=0 if m.kind == "sms" else 2)
            for m in rows
        ],
        batch_size=2000,
    )
    by_user: dict[int, list[ContactMethod]] = {}
    for method in rows:
        by_user.setdefault(method.user_id, []).append(method)
    counts["contact_methods"] = len(rows)
    counts["notification_rules"] = len(rows)
    return by_user


def _policies(teams, *, since, counts: Counter) -> dict[int, EscalationPolicy]:
    primary = {}
    for schedule in Schedule.objects.order_by("pk").only("pk", "team_id"):
        primary.setdefault(schedule.team_id, schedule.pk)
    policies = EscalationPolicy.objects.bulk_create(
        [
            EscalationPolicy(team=team, name=f"{team.name} default", repeat=1, created_at=since)
            for team in teams
        ]
    )
    levels = EscalationLevel.objects.bulk_create(
        [
            EscalationLevel(policy=policy, position=position, delay_minutes=5)
            for policy in policies
            for position in (0, 1)
        ]
    )
    targets = []
    for level in levels:
        team_id = level.policy.team_id
        if level.position == 0 and team_id in primary:
            targets.append(
                EscalationTarget(level=level, kind=TargetKind.SCHEDULE, schedule_id=primary[team_id])
            )
        else:
            targets.append(EscalationTarget(level=level, kind=TargetKind.TEAM, team_id=team_id))
    EscalationTarget.objects.bulk_create(targets)
    counts["escalation_policies"] = len(policies)
    return {policy.team_id: policy for policy in policies}


def _integrations(teams, policies, *, since, counts: Counter) -> dict[int, list[Integration]]:
    rows = []
    for team in teams:
        for name, kind in (("Production monitoring", "pagerduty"), ("Prometheus", "alertmanager")):
            rows.append(
                Integration(
                    team=team,
                    name=name,
                    kind=kind,
                    escalation_policy=policies[team.pk],
                    declare_incident_for=["P0"],
                    created_at=since,
                )
            )
    Integration.objects.bulk_create(rows)
    by_team: dict[int, list[Integration]] = {}
    for integration in rows:
        by_team.setdefault(integration.team_id, []).append(integration)
    counts["integrations"] = len(rows)
    return by_team


def _groups(
    starts,
    *,
    teams,
    components,
    integrations,
    policies,
    snapshots,
    methods,
    rng,
    now,
    counts,
    open_now,
    write,
):

    minute = datetime.timedelta(minutes=1)
    plans, groups = [], []
    for first in starts:
        team = rng.choice(teams)
        integration = rng.choice(integrations[team.pk])
        component = rng.choice(components) if rng.random() < 0.7 else None
        alertname, severity, text = rng.choice(ALERTS)
        where = component.name if component else team.name
        occurrences = rng.choice([1, 1, 1, 2, 3, 5, 12])
        responder = rng.choice([u for u in team.people if u.role != "viewer"] or team.people)
        acked = first + minute * rng.uniform(0.5, 12) if rng.random() < (0.5 if open_now else 0.85) else None
        if open_now:
            resolved = None
            status = "acknowledged" if acked else "triggered"
        else:
            resolved = (acked or first) + minute * rng.uniform(3, 180)
            status = "resolved"
        by_source = resolved is not None and rng.random() < 0.65
        last_seen = first + minute * (occurrences - 1) * 2
        # Open groups hold one key each (one open group per key); past ones may share, as repeats do.
        subject = f"component-{component.pk}" if component else team.slug
        dedup_key = f"{alertname}/{subject}/{first:%Y%m%d%H%M}"
        if open_now:
            dedup_key += f"/{len(groups)}"
        groups.append(
            AlertGroup(
                integration=integration,
                dedup_key=dedup_key[:255],
                status=status,
                summary=text.format(c=where),
                source=f"prometheus-{team.slug}" if integration.kind == "alertmanager" else "datadog",
                severity=severity,
                incident_severity=INCIDENT_SEVERITY[severity],
                labels={"alertname": alertname, "severity": severity, "team": team.slug},
                component=component,
                team=team,
                escalation_policy=policies[team.pk],
                occurrences=occurrences,
                first_seen_at=first,
                last_seen_at=last_seen,
                acknowledged_at=acked,
                acknowledged_by=responder if acked else None,
                resolved_at=resolved,
                resolved_by=None if by_source or resolved is None else responder,
                resolved_by_source=by_source,
            )
        )
        plans.append((first, acked, resolved, by_source, occurrences, responder, alertname))
    AlertGroup.objects.bulk_create(groups, batch_size=2000)

    events, log, pages, escalations = [], [], [], []
    for group, (first, acked, resolved, by_source, occurrences, responder, _alertname) in zip(
        groups, plans, strict=True
    ):
        labels = group.labels
        for k in range(occurrences):
            at = first + minute * 2 * k
            events.append(
                {
                    "integration_id": group.integration_id,
                    "received_at": at,
                    "action": "trigger",
                    "dedup_key": group.dedup_key,
                    "summary": group.summary,
                    "severity": group.severity,
                    "source": group.source,
                    "labels": labels,
                    "payload": {"payload": {"summary": group.summary, "severity": group.severity}},
                    "group_id": group.pk,
                    "outcome": "new group" if k == 0 else "deduplicated",
                    "pending": None,
                }
            )
        if by_source:
            events.append(
                {
                    "integration_id": group.integration_id,
                    "received_at": resolved,
                    "action": "resolve",
                    "dedup_key": group.dedup_key,
                    "summary": "",
                    "severity": "",
                    "source": group.source,
                    "labels": labels,
                    "payload": {"event_action": "resolve", "dedup_key": group.dedup_key},
                    "group_id": group.pk,
                    "outcome": "resolved",
                    "pending": None,
                }
            )
        entry = {"group_id": group.pk, "actor_id": None, "actor_label": "system", "data": {}}
        log.append(
            {**entry, "at": first, "kind": "triggered", "actor_label": "source", "text": group.summary}
        )
        log.append({**entry, "at": first, "kind": "routed", "text": f"Default route → {group.team.name}"})
        if occurrences > 1:
            log.append(
                {
                    **entry,
                    "at": group.last_seen_at,
                    "kind": "repeated",
                    "actor_label": "source",
                    "text": f"{occurrences} occurrences",
                }
            )
        log.append({**entry, "at": first, "kind": "escalated", "text": "Level 1: primary on call"})
        people = [responder] + ([rng.choice(group.team.people)] if rng.random() < 0.3 else [])
        for p, person in enumerate(people):
            for m, method in enumerate(methods.get(person.pk, [])):
                due = first + minute * (0 if method.kind == "sms" else 2)
                sent = acked is None or due < acked
                pages.append(
                    {
                        "group_id": group.pk,
                        "user_id": person.pk,
                        "contact_method_id": method.pk,
                        "step": 1,
                        "level": 0,
                        "due_at": due,
                        "status": "sent" if sent else "cancelled",
                        "sent_at": due if sent else None,
                        "note": "",
                        "created_at": first,
                        "dedupe_key": f"{group.pk}:1:{person.pk}:{method.pk}:{p}{m}",
                    }
                )
                if sent:
                    log.append(
                        {
                            **entry,
                            "at": due,
                            "kind": "paged",
                            "actor_id": person.pk,
                            "actor_label": person.username,
                            "text": f"Paged {person.username} by {method.kind}",
                        }
                    )
        if acked:
            log.append(
                {
                    **entry,
                    "at": acked,
                    "kind": "acknowledged",
                    "actor_id": responder.pk,
                    "actor_label": responder.username,
                    "text": "",
                }
            )
        if resolved:
            who = ("source", None) if by_source else (responder.username, responder.pk)
            log.append(
                {
                    **entry,
                    "at": resolved,
                    "kind": "resolved",
                    "actor_id": who[1],
                    "actor_label": who[0],
                    "text": "",
                }
            )
        running = resolved is None and acked is None
        escalations.append(
            {
                "group_id": group.pk,
                "policy_id": group.escalation_policy_id,
                "snapshot": snapshots[group.escalation_policy_id],
                "status": "active" if running else "stopped",
                "level_index": 1,
                "pass_number": 0,
                "steps_taken": 1,
                "next_step_at": first + minute * 5 if running else None,
                "started_at": first,
                "last_step_at": first,
            }
        )
    write(AlertEvent, events)
    write(AlertLogEntry, log)
    write(Page, pages)
    write(Escalation, escalations)
    counts["alert_groups"] += len(groups)
    counts["open_alert_groups"] += sum(1 for g in groups if g.status != "resolved")
    counts["alert_events"] += len(events)
    counts["alert_log_entries"] += len(log)
    counts["pages"] += len(pages)
