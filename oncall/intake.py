"""The PagerDuty door's queue. `/v2/enqueue` stores an event in ONE statement (the integration looked up by its
key inside it) and answers 202 once it is durable, as PagerDuty's own Events API does; the intake then applies
queued events in arrival order, a batch per transaction and one batch at a time: a storm's repeats become one
UPDATE per batch instead of a transaction per request, and new alerts are opened exactly as the webhooks open
them (oncall.alerting). The webhooks, heartbeats and the demo still apply their events before they answer."""

from __future__ import annotations

import functools
import json
import logging
from collections import Counter
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from psycopg.types.json import Jsonb

from oncall import alert_lifecycle as lifecycle
from oncall import alerting, tasks
from oncall.alerting import DEDUPLICATED, NEW_GROUP, alert_event_apply, raw_for_log
from oncall.events import InboundEvent
from oncall.models import AlertEvent, AlertGroup, Integration, Route
from oncall.routing import fields_of_event, route_for

logger = logging.getLogger(__name__)

QUEUED = "queued"
BATCH = 500
# pg_advisory_xact_lock key: one intake applies at a time, so events of a key are applied in arrival order.
_APPLY_LOCK = 0x6F707331


# --- in ------------------------------------------------------------------------------------------------------


def _pending(event: InboundEvent) -> dict:
    """The parsed event as the queue keeps it (the raw body is in `payload`)."""
    return {
        "action": event.action,
        "dedup_key": event.dedup_key,
        "summary": event.summary,
        "source": event.source,
        "severity": event.severity,
        "component": event.component,
        "group": event.group,
        "event_class": event.event_class,
        "timestamp": event.timestamp.isoformat() if event.timestamp else None,
        "labels": event.labels,
        "details": event.details,
        "links": event.links,
        "images": event.images,
        "client": event.client,
        "client_url": event.client_url,
    }


def _event_of(row: AlertEvent) -> InboundEvent:
    fields = dict(row.pending)
    fields["timestamp"] = datetime.fromisoformat(fields["timestamp"]) if fields.get("timestamp") else None
    return InboundEvent(**fields, raw=row.payload or {})


def _json(value):
    return Jsonb(value) if connection.vendor == "postgresql" else json.dumps(value)


def alert_event_enqueue(
    *, key: str, kind: str, event: InboundEvent, now: datetime | None = None
) -> int | None:
    """Store `event` for the enabled integration of `kind` with `key`, queued for the intake: its id, or None
    when there is no such integration (nothing is stored; the door says why). Applying starts on commit."""
    now = now or timezone.now()
    events, integrations = AlertEvent._meta.db_table, Integration._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {events} (integration_id, received_at, action, dedup_key, summary, severity, "  # noqa: S608
            f"source, labels, payload, outcome, pending) SELECT id, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s "
            f"FROM {integrations} WHERE key = %s AND kind = %s AND enabled RETURNING id",
            [
                connection.ops.adapt_datetimefield_value(now),
                event.action,
                event.dedup_key,
                event.summary,
                event.severity,
                event.source,
                _json(event.labels),
                _json(raw_for_log(event)),
                QUEUED,
                _json(_pending(event)),
                key,
                kind,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    tasks.alert_events_apply_soon()
    return row[0]


# --- applied -------------------------------------------------------------------------------------------------


def alert_events_apply_queued(*, limit: int = BATCH, batches: int = 40) -> int:
    """Apply queued events, oldest first, `limit` per transaction until none is left (at most `batches`
    transactions; the periodic intake task picks up the rest). Safe to run twice and concurrently: a second
    run waits for the first and finds what it left. Returns how many events were applied."""
    applied = 0
    for _ in range(batches):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_APPLY_LOCK])
            rows = list(AlertEvent.objects.filter(pending__isnull=False).order_by("id")[:limit])
            if rows:
                _Batch(rows).apply()
        applied += len(rows)
        if len(rows) < limit:
            break
    return applied


class _Batch:
    """One transaction's worth of queued events, applied in arrival order. Repeats of an open group are
    counted and written together; new alerts are built as they come and opened together (bulk inserts), and
    anything else (acknowledge, resolve) first opens what is pending, then goes through oncall.alerting."""

    def __init__(self, rows: list[AlertEvent]):
        self.rows = rows
        self.integrations = Integration.objects.select_related("team").in_bulk(
            {r.integration_id for r in rows}
        )
        # The open groups the batch's keys may repeat, locked against a person resolving one meanwhile.
        self.open_groups = {
            (group.integration_id, group.dedup_key): group.pk
            for group in AlertGroup.objects.select_for_update(of=("self",))
            .filter(integration_id__in=self.integrations, dedup_key__in={row.dedup_key for row in rows})
            .exclude(status=lifecycle.RESOLVED)
            .only("id", "integration_id", "dedup_key")
        }
        self.repeats: Counter[int] = Counter()
        self.last_seen: dict[int, datetime] = {}
        # New alerts built and not yet saved: key -> (group, route, its events in order)
        self.pending: dict[tuple[int, str], tuple[AlertGroup, Route | None, list[AlertEvent]]] = {}
        self.opened = False

    @functools.cache  # noqa: B019 (the batch lives for one transaction)
    def routes(self, integration_id: int) -> list[Route]:
        return list(Route.objects.filter(integration_id=integration_id).select_related("team"))

    @functools.cache  # noqa: B019
    def component(self, name: str):
        return alerting.component_named(name)

    @functools.cache  # noqa: B019
    def windows(self, component) -> list:
        return alerting.maintenance_windows_active(component)

    def window(self, component, now: datetime):
        return next((w for w in self.windows(component) if w.scheduled_for <= now), None)

    def apply(self) -> None:
        for row in self.rows:
            try:
                event = _event_of(row)
            except (TypeError, ValueError) as error:  # a row this version cannot read: recorded, skipped
                self._failed(row, error)
                continue
            key = (row.integration_id, row.dedup_key)
            if event.action == lifecycle.TRIGGER and key in self.open_groups:
                # Most of a storm: counted here, written for the whole batch in one statement.
                self._count(row, self.open_groups[key])
            elif event.action == lifecycle.TRIGGER and key in self.pending:
                row.outcome = DEDUPLICATED
                self.pending[key][2].append(row)
            elif event.action == lifecycle.TRIGGER:
                self._build(row, event, key)
            else:
                self._open_pending()
                self._one(row, event, key)
        self._open_pending()
        _count_repeats(self.repeats, self.last_seen)
        _mark_applied(self.rows)
        newest = max(row.received_at for row in self.rows)
        Integration.objects.filter(pk__in=self.integrations).filter(
            Q(last_event_at__isnull=True) | Q(last_event_at__lt=newest)
        ).update(last_event_at=newest)
        if self.opened:
            tasks.escalations_tick_soon()

    def _count(self, row: AlertEvent, group_id: int) -> None:
        row.group_id, row.outcome = group_id, DEDUPLICATED
        self.repeats[group_id] += 1
        self.last_seen[group_id] = row.received_at

    def _build(self, row: AlertEvent, event: InboundEvent, key) -> None:
        integration = self.integrations[row.integration_id]
        try:
            route = route_for(self.routes(row.integration_id), fields_of_event(event))
            component = self.component((event.component or event.labels.get("component", "")).strip().lower())
            group = alerting.alert_group_build(
                integration,
                event,
                row.received_at,
                route,
                component=component,
                window=self.window(component, row.received_at),
            )
        except Exception as error:
            self._failed(row, error)
            return
        row.outcome = NEW_GROUP
        self.pending[key] = (group, route, [row])

    def _open_pending(self) -> None:
        """Save the pending new groups and everything opening them writes; on any conflict (a group opened
        outside the intake meanwhile), open them one at a time the way the webhooks do."""
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        try:
            with transaction.atomic():
                AlertGroup.objects.bulk_create([group for group, _, _ in pending.values()])
                alerting.alert_groups_opened([(group, route) for group, route, _ in pending.values()])
        except Exception:
            logger.warning("opening %d alerts together failed; opening them one by one", len(pending))
            for key, (_, _, rows) in pending.items():
                self._one(rows[0], _event_of(rows[0]), key)
                for row in rows[1:]:
                    if key in self.open_groups:
                        self._count(row, self.open_groups[key])
                    else:
                        self._one(row, _event_of(row), key)
            return
        self.opened = True
        for key, (group, _, rows) in pending.items():
            rows[0].group_id = group.pk
            for row in rows[1:]:
                self._count(row, group.pk)
            self.open_groups[key] = group.pk

    def _one(self, row: AlertEvent, event: InboundEvent, key) -> None:
        """One event through oncall.alerting's own path, in a savepoint: a failure is recorded on it alone."""
        try:
            with transaction.atomic():
                group, row.outcome = alert_event_apply(
                    self.integrations[row.integration_id],
                    event,
                    row.received_at,
                    functools.partial(self.routes, row.integration_id),
                )
        except Exception as error:
            self._failed(row, error)
            return
        row.group_id = group.pk if group is not None else None
        if group is not None and group.status != lifecycle.RESOLVED:
            self.open_groups[key] = group.pk
        else:
            self.open_groups.pop(key, None)
        self.opened = self.opened or row.outcome == NEW_GROUP

    def _failed(self, row: AlertEvent, error: Exception) -> None:
        logger.error("alert event %s could not be applied", row.pk, exc_info=error)
        row.group_id, row.outcome = None, f"failed: {type(error).__name__}"[:80]


def _count_repeats(repeats: Counter[int], last_seen: dict[int, datetime]) -> None:
    if not repeats:
        return
    if connection.vendor != "postgresql":  # the embedded mode: a statement per group is plenty
        for group_id, count in repeats.items():
            AlertGroup.objects.filter(pk=group_id).update(
                occurrences=F("occurrences") + count, last_seen_at=last_seen[group_id]
            )
        return
    _update_from_values(
        AlertGroup._meta.db_table,
        "id, n, seen",
        [(group_id, count, last_seen[group_id]) for group_id, count in repeats.items()],
        "occurrences = t.occurrences + CAST(v.n AS INTEGER), "
        "last_seen_at = GREATEST(t.last_seen_at, CAST(v.seen AS TIMESTAMPTZ))",
    )


def _mark_applied(rows: list[AlertEvent]) -> None:
    if connection.vendor != "postgresql":
        AlertEvent.objects.bulk_update(rows, ["group", "outcome"])
        # SQL NULL: bulk_update would write JSON null here, which is not "no longer queued".
        AlertEvent.objects.filter(pk__in=[row.pk for row in rows]).update(pending=None)
        return
    _update_from_values(
        AlertEvent._meta.db_table,
        "id, grp, outcome",
        [(row.pk, row.group_id, row.outcome) for row in rows],
        "group_id = CAST(v.grp AS BIGINT), outcome = v.outcome, pending = NULL",
    )


def _update_from_values(table: str, columns: str, rows: list[tuple], assignments: str) -> None:
    """PostgreSQL: one UPDATE for many rows, each its own values (`t` the table, `v` the row; v.id its key)."""
    values = ", ".join(["(" + ", ".join(["%s"] * len(rows[0])) + ")"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v({columns}) AS (VALUES {values}) UPDATE {table} AS t SET {assignments} "  # noqa: S608
            f"FROM v WHERE t.id = CAST(v.id AS BIGINT)",
            [value for row in rows for value in row],
        )
