"""Alert writes: store and apply inbound events (dedup, routing, maintenance suppression, escalation start),
and what people do to an alert group (acknowledge, resolve, snooze, escalate, declare an incident)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from psycopg.types.json import Jsonb

from oncall import alert_lifecycle as lifecycle
from oncall import escalation as maths
from oncall import paging, tasks
from oncall.events import InboundEvent
from oncall.models import (
    AlertEvent,
    AlertGroup,
    AlertLogEntry,
    Escalation,
    Integration,
    Route,
)
from oncall.routing import fields_of_event, route_for
from opsportal.changes.lifecycle import ACTIVE as MAINTENANCE_ACTIVE
from opsportal.changes.models import MaintenanceWindow
from opsportal.core.exceptions import Conflict
from opsportal.core.roles import RESPOND
from opsportal.core.services import SYSTEM, audit_record, require_permission, user_or_none
from opsportal.incidents.models import Severity
from statuspage.models import Component

logger = logging.getLogger(__name__)

SNOOZE_MAX = timedelta(days=7)
DEDUPLICATED = "deduplicated"
NEW_GROUP = "new group"
DECLARABLE = ("P0", "P1")
# How much of an event's raw body the event log keeps (the door has already bounded the request).
RAW_KEEP_BYTES = 64 * 1024


# --- events in ---------------------------------------------------------------------------------------------


def alert_events_ingest(
    *, integration: Integration, events: list[InboundEvent], now: datetime | None = None
) -> list[AlertEvent]:
    """Store each event and apply it to its group, one short transaction per event, so a storm of one key
    never holds a lock for long. Paging is left to the tick (started on commit): ingestion never waits on it."""
    now = now or timezone.now()

    @functools.cache
    def routes_of_integration() -> list[Route]:  # read once, and only when an event opens a new group
        return list(Route.objects.filter(integration=integration).select_related("team"))

    stored = [_ingest_one(integration, event, now, routes_of_integration) for event in events]
    # At most one write a second: a storm on one integration must not queue on this row.
    seen = integration.last_event_at
    if seen is None or seen < now - timedelta(seconds=1):
        Integration.objects.filter(pk=integration.pk).filter(
            Q(last_event_at__isnull=True) | Q(last_event_at__lt=now - timedelta(seconds=1))
        ).update(last_event_at=now)
    if any(event.outcome == NEW_GROUP for event in stored):
        tasks.escalations_tick_soon()
    return stored


def raw_for_log(event: InboundEvent) -> dict:
    """The event's body as the event log keeps it: whole up to RAW_KEEP_BYTES, else a note of its size."""
    text = json.dumps(event.raw, default=str)
    return event.raw if len(text) <= RAW_KEEP_BYTES else {"truncated": True, "bytes": len(text)}


def _open_group(integration: Integration, dedup_key: str) -> AlertGroup | None:
    return (
        AlertGroup.objects.select_for_update(of=("self",))
        .filter(integration=integration, dedup_key=dedup_key)
        .exclude(status=lifecycle.RESOLVED)
        .first()
    )


def _repeat_in_one_statement(
    integration: Integration, event: InboundEvent, now: datetime
) -> AlertEvent | None:
    """PostgreSQL: a trigger for an open group (most of a storm) counted and stored in ONE statement, which
    takes the same row lock as the general path. None when no group is open (the general path opens one)."""
    groups, events = AlertGroup._meta.db_table, AlertEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH grp AS (UPDATE {groups} SET occurrences = occurrences + 1, last_seen_at = %(now)s "  # noqa: S608
            f"WHERE integration_id = %(integration)s AND dedup_key = %(key)s AND status <> %(resolved)s "
            f"RETURNING id) "
            f"INSERT INTO {events} (integration_id, received_at, action, dedup_key, summary, severity, source, "
            f"labels, payload, group_id, outcome) SELECT %(integration)s, %(now)s, %(action)s, %(key)s, "
            f"%(summary)s, %(severity)s, %(source)s, %(labels)s, %(payload)s, grp.id, %(outcome)s FROM grp "
            f"RETURNING id, group_id",
            {
                "now": now,
                "integration": integration.pk,
                "key": event.dedup_key,
                "resolved": lifecycle.RESOLVED,
                "action": event.action,
                "summary": event.summary,
                "severity": event.severity,
                "source": event.source,
                "labels": Jsonb(event.labels),
                "payload": Jsonb(raw_for_log(event)),
                "outcome": DEDUPLICATED,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    stored = _event_row(integration, event, now, group_id=row[1], outcome=DEDUPLICATED)
    stored.pk = row[0]
    return stored


def _event_row(
    integration: Integration, event: InboundEvent, now: datetime, *, group_id, outcome
) -> AlertEvent:
    """The event log's row for `event` (unsaved)."""
    return AlertEvent(
        integration=integration,
        received_at=now,
        action=event.action,
        dedup_key=event.dedup_key,
        summary=event.summary,
        severity=event.severity,
        source=event.source,
        labels=event.labels,
        payload=raw_for_log(event),
        group_id=group_id,
        outcome=outcome,
    )


def _ingest_one(
    integration: Integration, event: InboundEvent, now: datetime, routes: Callable[[], list[Route]]
) -> AlertEvent:
    """Apply the event to its group, then store it with what happened, in one transaction."""
    if event.action == lifecycle.TRIGGER and connection.vendor == "postgresql":
        stored = _repeat_in_one_statement(integration, event, now)
        if stored is not None:
            return stored
    with transaction.atomic():
        group, outcome = alert_event_apply(integration, event, now, routes)
        stored = _event_row(integration, event, now, group_id=group.pk if group else None, outcome=outcome)
        stored.group = group
        stored.save(force_insert=True)
        return stored


def alert_event_apply(
    integration: Integration, event: InboundEvent, now: datetime, routes: Callable[[], list[Route]]
) -> tuple[AlertGroup | None, str]:
    """Apply one event to its group (opening one for a new trigger): the group and what happened. The caller
    holds a transaction and stores the event (oncall.alerting for the webhooks, oncall.intake for the queue)."""
    group = _open_group(integration, event.dedup_key)
    if event.action == lifecycle.TRIGGER:
        created = False
        if group is None:
            group, created = _group_create(integration, event, now, routes)
        if created:
            return group, NEW_GROUP
        AlertGroup.objects.filter(pk=group.pk).update(occurrences=F("occurrences") + 1, last_seen_at=now)
        return group, DEDUPLICATED
    if group is None:
        return None, f"ignored: no open alert with key {event.dedup_key[:60]}"
    if event.action == lifecycle.ACKNOWLEDGE:
        if group.status != lifecycle.TRIGGERED:
            return group, "already acknowledged"
        _acknowledge(group, None, "source", now)
        return group, "acknowledged"
    _resolve(group, None, "source", now)
    return group, "resolved"


def _group_create(
    integration: Integration, event: InboundEvent, now: datetime, routes: Callable[[], list[Route]]
) -> tuple[AlertGroup, bool]:
    """A new open group, or the one a racing trigger with the same key has just committed."""
    route = route_for(routes(), fields_of_event(event))
    component = component_named(event.component or event.labels.get("component", ""))
    group = alert_group_build(
        integration, event, now, route, component=component, window=maintenance_for(component, now)
    )
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        existing = _open_group(integration, event.dedup_key)
        if existing is None:
            raise
        return existing, False
    alert_groups_opened([(group, route)])
    return group, True


def alert_group_build(
    integration: Integration,
    event: InboundEvent,
    now: datetime,
    route: Route | None,
    *,
    component: Component | None,
    window: MaintenanceWindow | None,
) -> AlertGroup:
    """The (unsaved) group a new trigger opens, routed by `route` (None: the integration's defaults)."""
    severity_map = {**lifecycle.DEFAULT_SEVERITY_MAP, **((route.severity_map if route else None) or {})}
    incident_severity = severity_map.get(event.severity, "P2")
    if incident_severity not in Severity.values:
        incident_severity = "P2"
    group = AlertGroup(
        integration=integration,
        dedup_key=event.dedup_key,
        summary=(event.summary or event.dedup_key)[:1024],
        source=event.source,
        severity=event.severity,
        incident_severity=incident_severity,
        urgency=route.urgency if route else integration.urgency,
        labels=event.labels,
        details=event.details,
        links=event.links,
        component=component,
        team=route.team if route else integration.team,
        route=route,
        escalation_policy_id=(route.escalation_policy_id if route else integration.escalation_policy_id),
        first_seen_at=now,
        last_seen_at=now,
    )
    if window is not None:
        group.suppressed, group.maintenance = True, window
        group.suppressed_reason = f"{component.name} is under maintenance: {window.title}"[:200]
    elif route is not None and route.suppress:
        group.suppressed, group.suppressed_reason = True, f"Route '{route.name}' records without paging"
    return group


def alert_groups_opened(opened: list[tuple[AlertGroup, Route | None]]) -> None:
    """What opening saved groups writes, each as of its first_seen_at: their first log lines and escalations,
    in a constant number of statements for any number of groups (the intake opens a storm's new alerts
    together), then an incident for each group that declares one."""
    lines: list[AlertLogEntry] = []
    escalations: list[Escalation] = []
    for group, route in opened:
        now = group.first_seen_at
        lines.append(
            AlertLogEntry(
                group=group,
                kind=AlertLogEntry.Kind.TRIGGERED,
                actor_label="source",
                text=f"Triggered: {group.summary}"[:2000],
                at=now,
            )
        )
        lines.append(
            AlertLogEntry(
                group=group,
                kind=AlertLogEntry.Kind.ROUTED,
                actor_label="system",
                text=f"Routed by {'rule ' + repr(route.name) if route else 'the default route'} to "
                f"{group.team.name}, {group.incident_severity}, {group.urgency} urgency",
                data={"route_id": route.pk if route else None},
                at=now,
            )
        )
        if group.suppressed:
            lines.append(
                AlertLogEntry(
                    group=group,
                    kind=AlertLogEntry.Kind.SUPPRESSED,
                    actor_label="system",
                    text=group.suppressed_reason,
                    at=now,
                )
            )
            continue
        state, note = _escalation_state(group, now)
        if state is not None:
            escalations.append(Escalation(group=group, **state))
        if note is not None:
            lines.append(note)
    AlertLogEntry.objects.bulk_create(lines)
    Escalation.objects.bulk_create(escalations)
    for group, route in opened:
        if group.suppressed or group.incident_severity not in DECLARABLE:
            continue
        if (route is not None and route.declare_incident) or (
            group.incident_severity in (group.integration.declare_incident_for or [])
        ):
            _declare_incident(group, SYSTEM, group.first_seen_at)


def component_named(name: str) -> Component | None:
    name = (name or "").strip()
    if not name:
        return None
    return Component.objects.filter(name__iexact=name[:200]).first()


def maintenance_windows_active(component: Component | None) -> list[MaintenanceWindow]:
    """The component's active maintenance windows, earliest first."""
    if component is None:
        return []
    return list(
        MaintenanceWindow.objects.filter(
            components=component, status__in=[str(s) for s in MAINTENANCE_ACTIVE]
        ).order_by("scheduled_for")
    )


def maintenance_for(component: Component | None, now: datetime) -> MaintenanceWindow | None:
    """The active window the component is under at `now`, if any: its alerts are recorded and page nobody."""
    return next((w for w in maintenance_windows_active(component) if w.scheduled_for <= now), None)


# --- escalation start and stop ----------------------------------------------------------------------------------


def _first_step_at(group: AlertGroup, now: datetime) -> datetime:
    """High urgency pages now; low urgency waits for the team's support hours in its region."""
    if group.urgency != lifecycle.LOW:
        return now
    region = group.team.support_region
    if region is None:
        return now
    from zoneinfo import ZoneInfo

    return maths.next_support_instant(
        now, ZoneInfo(region.time_zone), region.business_day_start, region.business_day_end
    )


def _escalation_state(group: AlertGroup, now: datetime) -> tuple[dict | None, AlertLogEntry | None]:
    """The escalation a group starts (None without a policy) and the log line that says so, if any."""
    if group.escalation_policy_id is None:
        note = AlertLogEntry(
            group=group,
            kind=AlertLogEntry.Kind.ESCALATION_DONE,
            actor_label="system",
            text="No escalation policy: nobody paged",
            at=now,
        )
        return None, note
    first = _first_step_at(group, now)
    # The policy snapshot is taken by the first step (engine), which follows at once: a storm of new alerts
    # does not rebuild the same snapshot in every request, and the tick builds it once per policy.
    state = {
        "policy_id": group.escalation_policy_id,
        "snapshot": {},
        "status": Escalation.Status.ACTIVE,
        "level_index": 0,
        "pass_number": 0,
        "next_step_at": first,
        "started_at": now,
    }
    note = None
    if first > now:
        note = AlertLogEntry(
            group=group,
            kind=AlertLogEntry.Kind.ESCALATED,
            actor_label="system",
            text=f"Low urgency: escalation waits for support hours, until {first:%Y-%m-%d %H:%M} UTC",
            at=now,
        )
    return state, note


def _escalation_start(group: AlertGroup, now: datetime) -> None:
    """(Re)start the group's escalation from its first level: a retrigger, or a person's "escalate"."""
    state, note = _escalation_state(group, now)
    if state is not None and not Escalation.objects.filter(group=group).update(**state):
        Escalation.objects.create(group=group, **state)
    if note is not None:
        _log(group, note.kind, None, "system", note.text, at=now)


def _escalation_stop(group: AlertGroup) -> None:
    """Nobody is paged about this group after this commits: the escalation stops, waiting pages and unsent
    outbox rows go (a rate-limit summary stays while another of its alerts still needs it)."""
    Escalation.objects.filter(group=group, status=Escalation.Status.ACTIVE).update(
        status=Escalation.Status.STOPPED, next_step_at=None
    )
    paging.pages_cancel(group=group)


# --- what people (and sources) do ---------------------------------------------------------------------------


# Log lines that also go on a linked incident's timeline (internal, never public).
INCIDENT_KINDS = frozenset(
    {
        AlertLogEntry.Kind.ESCALATED,
        AlertLogEntry.Kind.PAGED,
        AlertLogEntry.Kind.ACKNOWLEDGED,
        AlertLogEntry.Kind.SNOOZED,
        AlertLogEntry.Kind.RETRIGGERED,
        AlertLogEntry.Kind.RESOLVED,
        AlertLogEntry.Kind.ESCALATION_DONE,
    }
)


def alert_log_write(group, kind, actor, via: str, text: str, *, data=None, at=None) -> AlertLogEntry:
    """Append to the group's timeline, and to its incident's when it has one."""
    user = user_or_none(actor)
    label = user.get_username() if user is not None else via
    if user is not None and via not in ("portal", ""):
        label = f"{label} (via {via})"
    entry = AlertLogEntry.objects.create(
        group=group,
        kind=kind,
        actor=user,
        actor_label=label[:150],
        text=text[:2000],
        data=data or {},
        at=at or timezone.now(),
    )
    if group.incident_id is not None and kind in INCIDENT_KINDS:
        from opsportal.incidents.services import incident_record_alert_activity

        incident_record_alert_activity(
            incident=group.incident,
            text=f"Alert #{group.pk}: {text} ({label})",
            data={"alert_group": group.pk},
        )
    return entry


_log = alert_log_write


def _locked(group: AlertGroup) -> AlertGroup:
    return (
        AlertGroup.objects.select_for_update(of=("self",))
        .select_related("integration", "team")
        .get(pk=group.pk)
    )


def _acknowledge(group: AlertGroup, actor, via: str, now: datetime, *, until: datetime | None = None) -> None:
    timeout = group.integration.ack_timeout
    group.status = lifecycle.ACKNOWLEDGED
    group.acknowledged_at, group.acknowledged_by = now, user_or_none(actor)
    group.snoozed_until = until
    group.retrigger_at = until or ((now + timeout) if timeout else None)
    group.save(
        update_fields=["status", "acknowledged_at", "acknowledged_by", "snoozed_until", "retrigger_at"]
    )
    _escalation_stop(group)
    if until is not None:
        _log(
            group, AlertLogEntry.Kind.SNOOZED, actor, via, f"Snoozed until {until:%Y-%m-%d %H:%M} UTC", at=now
        )
    else:
        _log(group, AlertLogEntry.Kind.ACKNOWLEDGED, actor, via, "Acknowledged", at=now)


def _resolve(group: AlertGroup, actor, via: str, now: datetime) -> None:
    group.status = lifecycle.RESOLVED
    group.resolved_at, group.resolved_by = now, user_or_none(actor)
    group.resolved_by_source = actor is None
    group.retrigger_at = group.snoozed_until = None
    group.save(
        update_fields=[
            "status",
            "resolved_at",
            "resolved_by",
            "resolved_by_source",
            "retrigger_at",
            "snoozed_until",
        ]
    )
    _escalation_stop(group)
    _log(group, AlertLogEntry.Kind.RESOLVED, actor, via, "Resolved", at=now)


def _require_open(group: AlertGroup) -> None:
    if not group.is_open:
        raise Conflict(f"Alert #{group.pk} is already resolved.")


def _person_acts(actor, group: AlertGroup, via: str, now: datetime | None, apply, action: str, after=None):
    """What every person's action shares: their current role, the group locked and still open, the audit."""
    require_permission(actor, RESPOND)
    now = now or timezone.now()
    with transaction.atomic():
        group = _locked(group)
        _require_open(group)
        apply(group, actor, via, now)
        audit_record(actor=actor, action=action, obj=group, after={"via": via, **(after or {})})
    return group


def alert_group_acknowledge(
    *, actor, group: AlertGroup, via: str = "portal", now: datetime | None = None
) -> AlertGroup:
    """Stop paging about the group. Acknowledging again restarts the ack timeout."""
    return _person_acts(actor, group, via, now, _acknowledge, "alert.acknowledged")


def alert_group_resolve(
    *, actor, group: AlertGroup, via: str = "portal", now: datetime | None = None
) -> AlertGroup:
    return _person_acts(actor, group, via, now, _resolve, "alert.resolved")


def alert_group_snooze(
    *, actor, group: AlertGroup, until: datetime, via: str = "portal", now: datetime | None = None
) -> AlertGroup:
    """Acknowledged until `until`, then triggered again (and paged again) unless resolved by then."""
    require_permission(actor, RESPOND)
    now = now or timezone.now()
    if until.tzinfo is None:
        raise ValidationError({"until": "Give a time with a UTC offset."})
    if until <= now:
        raise ValidationError({"until": "Snooze until a time in the future."})
    if until - now > SNOOZE_MAX:
        raise ValidationError({"until": f"Snooze for at most {SNOOZE_MAX.days} days."})
    return _person_acts(
        actor,
        group,
        via,
        now,
        lambda group, actor, via, now: _acknowledge(group, actor, via, now, until=until),
        "alert.snoozed",
        after={"until": until.isoformat()},
    )


def alert_group_escalate(
    *, actor, group: AlertGroup, via: str = "portal", now: datetime | None = None
) -> AlertGroup:
    """Page the next level now (GoAlert's 'e' reply): a triggered group moves on at once, an acknowledged
    one is triggered again and escalated from where it stopped."""
    require_permission(actor, RESPOND)
    now = now or timezone.now()
    with transaction.atomic():
        group = _locked(group)
        _require_open(group)
        escalation = Escalation.objects.select_for_update().filter(group=group).first()
        if escalation is None:
            raise Conflict(f"Alert #{group.pk} has no escalation policy to escalate through.")
        if group.status != lifecycle.TRIGGERED:
            group.status, group.retrigger_at, group.snoozed_until = lifecycle.TRIGGERED, None, None
            group.save(update_fields=["status", "retrigger_at", "snoozed_until"])
        # level_index already names the level the next step pages; past the last one, start again at the top.
        if escalation.level_index >= len(escalation.snapshot.get("levels") or []):
            escalation.level_index = 0
        escalation.status, escalation.next_step_at = Escalation.Status.ACTIVE, now
        escalation.save(update_fields=["status", "next_step_at", "level_index"])
        _log(
            group,
            AlertLogEntry.Kind.ESCALATED,
            actor,
            via,
            f"Escalated by hand to level {escalation.level_index + 1}",
            at=now,
        )
        audit_record(actor=actor, action="alert.escalated", obj=group, after={"via": via})

        tasks.escalations_tick_soon()
    return group


def alert_group_declare_incident(*, actor, group: AlertGroup, now: datetime | None = None):
    """Declare an incident for a P0/P1 group, linked both ways; the group's pages join its timeline."""
    require_permission(actor, RESPOND)
    now = now or timezone.now()
    with transaction.atomic():
        group = _locked(group)
        if group.incident_id is not None:
            raise Conflict(f"Alert #{group.pk} already has incident {group.incident.reference}.")
        if group.incident_severity not in DECLARABLE:
            raise ValidationError(
                {"severity": f"Only {' and '.join(DECLARABLE)} alerts declare an incident here."}
            )
        return _declare_incident(group, actor, now)


def _declare_incident(group: AlertGroup, actor, now: datetime):
    from opsportal.incidents.services import incident_declare

    components = (
        [(group.component, "major_outage" if group.incident_severity == "P0" else "partial_outage")]
        if group.component
        else None
    )
    incident = incident_declare(
        actor=actor,
        title=f"[alert #{group.pk}] {group.summary}"[:200],
        severity=group.incident_severity,
        team=group.team,
        summary=f"Declared from alert #{group.pk} ({group.integration.name}).",
        detected_at=min(group.first_seen_at, now),
        started_at=min(group.first_seen_at, now),
        components=components,
    )
    AlertGroup.objects.filter(pk=group.pk).update(incident=incident)
    group.incident = incident
    _log(
        group,
        AlertLogEntry.Kind.INCIDENT,
        actor,
        "system" if actor is SYSTEM else "portal",
        f"Incident {incident.reference} declared",
        data={"incident_id": incident.pk},
        at=now,
    )
    return incident


# --- timers the tick runs --------------------------------------------------------------------------------------


def alert_groups_retrigger_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Acknowledged groups whose ack timeout or snooze has run out trigger again and escalate from the top."""
    now = now or timezone.now()
    count = 0
    due = list(
        AlertGroup.objects.filter(status=lifecycle.ACKNOWLEDGED, retrigger_at__lte=now)
        .order_by("retrigger_at")
        .values_list("pk", flat=True)[:limit]
    )
    for group_id in due:
        with transaction.atomic():
            group = (
                AlertGroup.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("integration", "team", "escalation_policy")
                .filter(pk=group_id, status=lifecycle.ACKNOWLEDGED, retrigger_at__lte=now)
                .first()
            )
            if group is None:
                continue
            why = "snooze ended" if group.snoozed_until else "acknowledgement timed out"
            group.status, group.retrigger_at, group.snoozed_until = lifecycle.TRIGGERED, None, None
            group.save(update_fields=["status", "retrigger_at", "snoozed_until"])
            _log(group, AlertLogEntry.Kind.RETRIGGERED, None, "system", f"Triggered again: {why}", at=now)
            if not group.suppressed:
                _escalation_start(group, now)
            count += 1
    return count
