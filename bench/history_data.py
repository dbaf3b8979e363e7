"""Two years of history for bench/history.py (issue 11), written with the project's own models.

Everything goes in with bulk_create in chunks (no services: a service per row would take hours), but every row is
one the services could have written: incidents walk triage → … → resolved (closed with a published post-mortem for
P0/P1), each status, role, component change and public update has its timeline event and audit entry, a public
incident's component changes are in the components' status history, schedules are follow-the-sun with three
regional layers, and subscribers carry the states the public door gives them.

`generate(scale=1.0)` at full scale: 20,000 resolved incidents (~280,000 timeline events, ~33,000 public updates),
200 components in 20 groups, 400 engineers in 100 teams, 500 schedules with layers and overrides, 100,000
subscribers and ~280,000 audit entries; then 400 maintenance windows (history_changes) and 60,000 alert groups with
their events, log, pages and escalations (history_alerting). People and schedules are in history_people. Returns
what it wrote, counted from the rows it built.
"""

from __future__ import annotations

import datetime
import json
import random
import secrets
from collections import Counter, defaultdict

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from history_alerting import generate_alerting
from history_changes import generate_maintenance
from history_people import AREAS, TEAM_SIZE, engineers_create, regions_create, schedules_create, teams_create

from opsportal.core.models import AuditEntry
from opsportal.core.roles import Role
from opsportal.incidents.models import (
    ActionItem,
    AffectedComponent,
    Incident,
    Postmortem,
    PublicUpdate,
    RoleAssignment,
    TimelineEvent,
)
from statuspage.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    Subscriber,
    SubscriberChannel,
)

DAYS = 730
FULL = {
    "incidents": 20_000,
    "components": 200,
    "engineers": 400,
    "teams": 100,
    "schedules": 500,
    "subscribers": 100_000,
}
COMPONENTS_PER_GROUP = 10
CHUNK = 500  # incidents per transaction

PARTS = [
    "API",
    "Web",
    "Workers",
    "Database",
    "Cache",
    "Queue",
    "Reports",
    "Exports",
    "Scheduler",
    "Gateway",
]
MARKETS = ["Americas", "Europe", "Asia-Pacific", "Oceania", "Africa", "Middle East"]
SYMPTOMS = [
    ("Elevated error rates on {c}", "Errors on {c}", "partial_outage"),
    ("{c} latency above SLO", "Slow responses from {c}", "degraded_performance"),
    ("{c} unavailable after deploy", "{c} unavailable", "major_outage"),
    ("Timeouts from {c} to upstream", "Intermittent failures on {c}", "partial_outage"),
    ("{c} backlog growing", "Delays on {c}", "degraded_performance"),
]
SEVERITIES = ["P0", "P1", "P2", "P3", "P4"]
SEVERITY_WEIGHTS = [3, 10, 35, 40, 12]
NOTES = [
    "Rolled back the last deploy on one canary; error rate unchanged.",
    "Dashboards show saturation on the primary; failing over the read replicas.",
    "Vendor confirms an issue on their side; ticket opened.",
    "Mitigation holding for 15 minutes; watching before we call it.",
    "Paged the database on-call for a second pair of eyes.",
    "Customer support reports the first tickets from merchants.",
]
PUBLIC_STEPS = [
    ("investigating", "We are investigating reports of {t}."),
    ("identified", "We have identified the cause of {t} and are applying a fix."),
    ("monitoring", "A fix is in place; we are monitoring {t}."),
    ("resolved", "This incident has been resolved."),
]


def scaled(scale: float) -> dict[str, int]:
    """How many of each thing a scale writes (never below what makes the pages meaningful)."""
    return {
        "incidents": max(20, round(FULL["incidents"] * scale)),
        "components": max(
            COMPONENTS_PER_GROUP * 2, round(FULL["components"] * scale / COMPONENTS_PER_GROUP) * 10
        ),
        "engineers": max(TEAM_SIZE * 2, round(FULL["engineers"] * scale)),
        "teams": max(2, round(FULL["teams"] * scale)),
        "schedules": max(4, round(FULL["schedules"] * scale)),
        "subscribers": max(50, round(FULL["subscribers"] * scale)),
    }


def generate(*, scale: float = 1.0, now: datetime.datetime | None = None, seed: int = 11) -> dict[str, int]:
    """Write the history into an empty database (after migrate). Returns row counts per kind."""
    now = now or timezone.now()
    rng = random.Random(seed)
    target = scaled(scale)
    counts: Counter = Counter()
    since = now - datetime.timedelta(days=DAYS)

    with transaction.atomic():
        regions = regions_create()
        users = engineers_create(target["engineers"], regions, counts)
        teams = teams_create(target["teams"], users, regions, counts)
        schedules_create(target["schedules"], teams, rng, now=now, days=DAYS, counts=counts)
        components = _components(target["components"], since=since, counts=counts)
        _subscribers(target["subscribers"], components, rng, since=since, now=now, counts=counts)

    # The incidents, in time order, a chunk per transaction; status history is written once at the end so
    # each component's changes chain (previous_status) in time order.
    status_events: dict[int, list] = defaultdict(list)
    starts = sorted(
        since + datetime.timedelta(seconds=rng.uniform(0, DAYS * 86400 - 86400))
        for _ in range(target["incidents"])
    )
    for offset in range(0, len(starts), CHUNK):
        with transaction.atomic():
            _incidents(starts[offset : offset + CHUNK], users, teams, components, rng, status_events, counts)
    with transaction.atomic():
        generate_maintenance(
            users=users,
            components=components,
            rng=rng,
            since=since,
            now=now,
            scale=scale,
            status_events=status_events,
            counts=counts,
        )
        _status_history(components, status_events, since=since, counts=counts)
        _live_incident(users, teams, components, now=now, counts=counts)
    with transaction.atomic():
        generate_alerting(
            users=users,
            teams=teams,
            components=components,
            rng=rng,
            since=since,
            now=now,
            scale=scale,
            counts=counts,
            write=_write,
        )
    return dict(counts)


def _components(n: int, *, since, counts: Counter) -> list:
    groups = ComponentGroup.objects.bulk_create(
        [
            ComponentGroup(
                name=f"{AREAS[g % len(AREAS)]} ({MARKETS[g // len(AREAS) % len(MARKETS)]})",
                position=g,
                created_at=since,
            )
            for g in range(n // COMPONENTS_PER_GROUP)
        ]
    )
    components = Component.objects.bulk_create(
        [
            Component(
                name=f"{group.name.split(' (')[0]} {PARTS[p]} ({group.name.split(' (')[1]}",
                group=group,
                position=p,
                start_date=(since - datetime.timedelta(days=30)).date(),
                created_at=since - datetime.timedelta(days=30),
            )
            for group in groups
            for p in range(COMPONENTS_PER_GROUP)
        ]
    )
    counts["component_groups"] = len(groups)
    counts["components"] = len(components)
    return components


def _subscribers(n: int, components: list, rng: random.Random, *, since, now, counts: Counter) -> None:
    rows = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.7:
            channel, address, secret = SubscriberChannel.EMAIL, f"merchant{i:06d}@shop.example.com", ""
        elif roll < 0.9:
            channel = SubscriberChannel.WEBHOOK
            address, secret = f"https://hooks{i % 97}.example.net/status/{i}", secrets.token_hex(16)
        else:
            channel, address, secret = SubscriberChannel.SMS, f"+1555{i:07d}", ""
        created = since + (now - since) * (i / n)
        state = rng.random()
        rows.append(
            Subscriber(
                channel=channel,
                address=address,
                secret=secret,
                created_at=created,
                confirmed_at=created + datetime.timedelta(minutes=5) if state < 0.9 else None,
                unsubscribed_at=created + datetime.timedelta(days=30) if 0.8 <= state < 0.87 else None,
                quarantined_at=created + datetime.timedelta(days=7) if 0.87 <= state < 0.9 else None,
                quarantine_reason="Mailbox does not exist" if 0.87 <= state < 0.9 else "",
            )
        )
    subscribers = Subscriber.objects.bulk_create(rows, batch_size=5000)
    through = Subscriber.components.through
    links = []
    for subscriber in subscribers:
        if rng.random() < 0.25:  # the rest follow everything
            links += [
                through(subscriber_id=subscriber.pk, component_id=c.pk)
                for c in rng.sample(components, rng.randint(1, 5))
            ]
    through.objects.bulk_create(links, batch_size=10000)
    counts["subscribers"] = len(subscribers)
    counts["subscriber_components"] = len(links)


def _incidents(starts, users, teams, components, rng, status_events, counts: Counter) -> None:
    """One chunk of resolved incidents with everything the services would have written for them."""
    minutes = datetime.timedelta(minutes=1)
    plans, incidents = [], []
    for started in starts:
        severity = rng.choices(SEVERITIES, weights=SEVERITY_WEIGHTS)[0]
        team = rng.choice(teams)
        commander = rng.choice([u for u in team.people if u.role != Role.VIEWER] or team.people)
        hit = rng.sample(components, rng.choice([1, 1, 1, 2, 2, 3]))
        title, public_title, impact = rng.choice(SYMPTOMS)
        detected = started + minutes * rng.randint(1, 10)
        acknowledged = detected + minutes * rng.randint(2, 45)
        resolved = acknowledged + minutes * rng.randint(15, 600)
        mitigated = resolved - minutes * rng.randint(5, 30)
        mitigated = max(mitigated, acknowledged)
        closed = resolved + datetime.timedelta(days=rng.randint(2, 10)) if severity in ("P0", "P1") else None
        public = severity in ("P0", "P1") or rng.random() < 0.4
        incident = Incident(
            title=title.format(c=hit[0].name),
            public_title=public_title.format(c=hit[0].name),
            summary=f"Impact on {', '.join(c.name for c in hit)}.",
            severity=severity,
            status="closed" if closed else "resolved",
            team=team,
            started_at=started,
            detected_at=detected,
            acknowledged_at=acknowledged,
            mitigated_at=mitigated,
            resolved_at=resolved,
            closed_at=closed,
            declared_by=commander,
        )
        incidents.append(incident)
        plans.append((incident, commander, hit, impact, public, team))
    Incident.objects.bulk_create(incidents)
    # auto_now_add stamped them now; an incident was created when it was declared.
    Incident.objects.filter(pk__in=[i.pk for i in incidents]).update(created_at=F("detected_at"))

    events, audits, updates, roles, affected, postmortems = [], [], [], [], [], []

    def event(incident, kind, at, actor, body, action, *, is_public=False, data=None):
        # Plain rows, not model instances: these two tables are most of the history (see _write).
        events.append(
            {
                "incident_id": incident.pk,
                "kind": kind,
                "at": at,
                "actor_id": actor.pk,
                "actor_label": actor.username,
                "body": body,
                "data": data or {},
                "is_public": is_public,
                "pinned": False,
                "dedupe_key": None,
            }
        )
        audits.append(
            {
                "at": at,
                "actor_id": actor.pk,
                "actor_label": actor.username,
                "action": action,
                "object_type": "incident",
                "object_id": str(incident.pk),
                "object_repr": f"INC-{incident.pk} {incident.title}"[:200],
                "before": None,
                "after": data or {"kind": kind},
                "request_id": "",
            }
        )

    for incident, commander, hit, impact, public, team in plans:
        span = incident.resolved_at - incident.detected_at
        at = incident.detected_at
        event(
            incident,
            "declared",
            at,
            commander,
            f"Declared {incident.severity}: {incident.title}",
            "incident.declared",
        )
        roles.append(RoleAssignment(incident=incident, role="commander", user=commander, assigned_at=at))
        event(
            incident,
            "role_assigned",
            at,
            commander,
            f"{commander.username} is incident commander",
            "incident.role_assigned",
            data={"role": "commander"},
        )
        for component in hit:
            affected.append(
                AffectedComponent(incident=incident, component=component, impact=impact, added_at=at)
            )
        if public:
            comms = rng.choice(team.people)
            roles.append(
                RoleAssignment(incident=incident, role="comms_lead", user=comms, assigned_at=at + span * 0.05)
            )
            event(
                incident,
                "role_assigned",
                at + span * 0.05,
                commander,
                f"{comms.username} is comms lead",
                "incident.role_assigned",
                data={"role": "comms_lead"},
            )
        steps = PUBLIC_STEPS if rng.random() < 0.7 else [PUBLIC_STEPS[0], PUBLIC_STEPS[1], PUBLIC_STEPS[3]]
        previous = "triage"
        for index, (status, body) in enumerate(steps):
            moment = max(
                incident.detected_at + span * (index + 1) / len(steps),
                incident.acknowledged_at + minutes * index,
            )
            moment = min(moment, incident.resolved_at) if status != "resolved" else incident.resolved_at
            event(
                incident,
                "status",
                moment,
                commander,
                f"{previous} → {status}",
                "incident.status_changed",
                data={"from": previous, "to": status},
            )
            previous = status
            if not public:
                continue
            component_status = ComponentStatus.OPERATIONAL if status == "resolved" else impact
            shown = [{"component_id": c.pk, "name": c.name, "status": component_status} for c in hit]
            updates.append(
                PublicUpdate(
                    incident=incident,
                    status=status,
                    body=body.format(t=incident.public_title.lower()),
                    component_statuses=shown,
                    created_at=moment,
                    author=commander,
                )
            )
            event(
                incident,
                "public_update",
                moment,
                commander,
                body.format(t=incident.public_title.lower()),
                "incident.public_update",
                is_public=True,
                data={"status": status},
            )
            if index == 0 or status == "resolved":
                for c in hit:
                    event(
                        incident,
                        "component",
                        moment,
                        commander,
                        f"{c.name}: {component_status}",
                        "incident.component_changed",
                        is_public=True,
                        data={"component_id": c.pk, "status": component_status},
                    )
                    status_events[c.pk].append((moment, component_status))
        for _ in range(rng.randint(2, 7)):
            moment = incident.detected_at + span * rng.random()
            event(incident, "note", moment, rng.choice(team.people), rng.choice(NOTES), "incident.note_added")
        if rng.random() < 0.2:
            event(
                incident,
                "sla_warning",
                incident.detected_at + span * 0.5,
                commander,
                "Resolve target at 80 %",
                "incident.sla_warning",
            )
        if incident.closed_at:
            postmortems.append(
                Postmortem(
                    incident=incident,
                    status=Postmortem.Status.PUBLISHED,
                    summary=f"{incident.public_title} for {span.seconds // 60} minutes.",
                    customer_impact="Merchants saw errors or delays; no data was lost.",
                    root_cause="A change reached production without a staged rollout.",
                    public_summary="A change rolled out too widely; we now stage such changes.",
                    published_at=incident.resolved_at + datetime.timedelta(days=1),
                )
            )
            for moment, what in (
                (incident.resolved_at, "started"),
                (incident.resolved_at + datetime.timedelta(days=1), "published"),
            ):
                event(
                    incident,
                    "postmortem",
                    moment,
                    commander,
                    f"Post-mortem {what}",
                    f"postmortem.{'started' if what == 'started' else 'status_changed'}",
                )
            event(
                incident,
                "status",
                incident.closed_at,
                commander,
                "resolved → closed",
                "incident.status_changed",
                data={"from": "resolved", "to": "closed"},
            )
    _write(TimelineEvent, events)
    _write(AuditEntry, audits)
    PublicUpdate.objects.bulk_create(updates, batch_size=5000)
    RoleAssignment.objects.bulk_create(roles, batch_size=5000)
    AffectedComponent.objects.bulk_create(affected, batch_size=5000)
    Postmortem.objects.bulk_create(postmortems)
    ActionItem.objects.bulk_create(
        [
            ActionItem(
                postmortem=p,
                title="Stage the rollout of such changes",
                owner=p.incident.declared_by,
                status=ActionItem.Status.DONE,
            )
            for p in postmortems
        ]
    )
    counts["incidents"] += len(incidents)
    counts["public_incidents"] += sum(1 for plan in plans if plan[4])
    counts["timeline_events"] += len(events)
    counts["audit_entries"] += len(audits)
    counts["public_updates"] += len(updates)
    counts["role_assignments"] += len(roles)
    counts["affected_components"] += len(affected)
    counts["postmortems"] += len(postmortems)


def _write(model, rows: list[dict]) -> None:
    """Insert plain rows: COPY on PostgreSQL (several times faster than bulk_create for the ~580,000 timeline and
    audit rows), bulk_create elsewhere (the tests' SQLite)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
        return
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    statement = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            values = [row[name] for name in names]
            for i in json_at:
                values[i] = None if values[i] is None else json.dumps(values[i])
            copy.write_row(values)


def _status_history(components, status_events, *, since, counts: Counter) -> None:
    rows = []
    for component in components:
        previous = ""
        for at, status in [
            (since - datetime.timedelta(days=30), ComponentStatus.OPERATIONAL),
            *sorted(status_events[component.pk]),
        ]:
            if status == previous:
                continue  # overlapping incidents: the component was already there
            rows.append(
                ComponentStatusChange(component=component, status=status, previous_status=previous, at=at)
            )
            previous = status
    ComponentStatusChange.objects.bulk_create(rows, batch_size=5000)
    counts["status_changes"] = len(rows)


def _live_incident(users, teams, components, *, now, counts: Counter) -> None:
    """One P1 in progress, as the demo has: the war-room page is measured on it."""
    team = teams[0]
    commander = next(u for u in team.people if u.role != Role.VIEWER)
    component = components[2]
    incident = Incident.objects.create(
        title=f"Elevated declines on {component.name}",
        public_title=f"Errors on {component.name}",
        summary="Declines concentrated on one BIN range; ticket open with the acquirer.",
        severity="P1",
        status="investigating",
        team=team,
        started_at=now - datetime.timedelta(minutes=50),
        detected_at=now - datetime.timedelta(minutes=45),
        acknowledged_at=now - datetime.timedelta(minutes=40),
        declared_by=commander,
    )
    AffectedComponent.objects.create(
        incident=incident, component=component, impact=ComponentStatus.PARTIAL_OUTAGE
    )
    RoleAssignment.objects.create(incident=incident, role="commander", user=commander)
    PublicUpdate.objects.create(
        incident=incident,
        status="investigating",
        body="Some payments are failing. We are investigating.",
        component_statuses=[
            {"component_id": component.pk, "name": component.name, "status": "partial_outage"}
        ],
        author=commander,
    )
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                incident=incident,
                kind="declared",
                actor=commander,
                actor_label=commander.username,
                body="Declared P1",
            ),
            TimelineEvent(
                incident=incident,
                kind="public_update",
                actor=commander,
                actor_label=commander.username,
                body="Some payments are failing.",
                is_public=True,
            ),
        ]
    )
    Component.objects.filter(pk=component.pk).update(status=ComponentStatus.PARTIAL_OUTAGE)
    ComponentStatusChange.objects.create(
        component=component,
        status=ComponentStatus.PARTIAL_OUTAGE,
        previous_status=ComponentStatus.OPERATIONAL,
        at=now - datetime.timedelta(minutes=44),
    )
    counts["live_incidents"] = 1
