"""Heartbeats (dead man's switches): configure one, take its pings, and raise the alert when one is late or
reports failure. The alert goes through the same pipeline as every door (oncall.alerting); the next good
ping resolves it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from oncall import heartbeat_schedule as schedule
from oncall.alert_lifecycle import RESOLVE, TRIGGER
from oncall.alerting import alert_events_ingest
from oncall.events import InboundEvent
from oncall.models import Heartbeat, Integration, IntegrationKind
from opsportal.core.roles import RESPOND
from opsportal.core.services import audit_record, require_permission

SUCCESS, START, FAIL = "success", "start", "fail"
PING_KINDS = (SUCCESS, START, FAIL)
SWEEP_BATCH = 500
_ALERTED = (Heartbeat.Status.LATE, Heartbeat.Status.FAILED)


def dedup_key(heartbeat: Heartbeat) -> str:
    return f"heartbeat:{heartbeat.pk}"


def _check_duration(field: str, value, low: timedelta, high: timedelta) -> None:
    if not isinstance(value, timedelta) or not low <= value <= high:
        raise ValidationError({field: f"Give a duration from {low} to {high.days} days."})


@transaction.atomic
def heartbeat_configure(
    *,
    actor,
    integration: Integration,
    period: timedelta | None = None,
    grace: timedelta,
    cron: str = "",
    time_zone: str = "UTC",
) -> Heartbeat:
    """Expect a ping every `period`, or on a cron schedule read in `time_zone`; alert `grace` after a ping
    is due. A heartbeat that has been pinged gets its new deadline at once."""
    require_permission(actor, RESPOND)
    if integration.kind != IntegrationKind.HEARTBEAT:
        raise ValidationError({"integration": "Only a heartbeat integration takes a heartbeat schedule."})
    cron = (cron or "").strip()
    if bool(cron) == (period is not None):
        raise ValidationError({"period": "Give either a period or a cron expression, not both."})
    if cron:
        if errors := schedule.cron_errors(cron, time_zone):
            raise ValidationError({"cron": errors})
    else:
        _check_duration("period", period, schedule.PERIOD_MIN, schedule.PERIOD_MAX)
        if errors := schedule.cron_errors("* * * * *", time_zone):
            raise ValidationError({"time_zone": errors})
    _check_duration("grace", grace, schedule.GRACE_MIN, schedule.GRACE_MAX)

    heartbeat, created = Heartbeat.objects.select_for_update().get_or_create(
        integration=integration, defaults={"grace": grace}
    )
    before = None if created else _snapshot(heartbeat)
    heartbeat.period, heartbeat.grace, heartbeat.cron, heartbeat.time_zone = period, grace, cron, time_zone
    if heartbeat.last_ping_at and heartbeat.status not in (*_ALERTED, Heartbeat.Status.PAUSED):
        heartbeat.alert_at = _alert_at(heartbeat, heartbeat.last_ping_at)
    heartbeat.full_clean()
    heartbeat.save()
    audit_record(
        actor=actor,
        action="oncall.heartbeat_configured",
        obj=heartbeat,
        before=before,
        after=_snapshot(heartbeat),
    )
    return heartbeat


def _snapshot(heartbeat: Heartbeat) -> dict:
    return {
        "period": str(heartbeat.period) if heartbeat.period else None,
        "grace": str(heartbeat.grace),
        "cron": heartbeat.cron,
        "time_zone": heartbeat.time_zone,
    }


def _alert_at(heartbeat: Heartbeat, after: datetime) -> datetime | None:
    if heartbeat.period is None and not heartbeat.cron:
        return None  # not configured yet: nothing to be late for
    return schedule.alert_at(
        last_ping=after,
        period=heartbeat.period,
        grace=heartbeat.grace,
        cron=heartbeat.cron,
        time_zone=heartbeat.time_zone,
    )


def _event(heartbeat: Heartbeat, action: str, summary: str, now: datetime, details: dict) -> InboundEvent:
    return InboundEvent(
        action=action,
        dedup_key=dedup_key(heartbeat),
        summary=summary[:1024],
        source="heartbeat",
        severity="critical",  # a silent job is a blind spot: nobody knows what else it stopped doing
        timestamp=now,
        labels={"heartbeat": heartbeat.integration.name[:500]},
        details=details,
        raw={"heartbeat": heartbeat.pk, **details},
    )


def heartbeat_ping(
    *, heartbeat: Heartbeat, kind: str, exit_status: int | None = None, now: datetime | None = None
) -> Heartbeat:
    """One ping: success (or exit status 0) arms the next deadline and resolves a raised alert; start marks
    the job running (it must finish within the grace, as in healthchecks); fail (or a non-zero exit status)
    raises the alert at once."""
    if kind not in PING_KINDS:
        raise ValueError(f"unknown ping kind {kind!r}")
    if exit_status is not None:
        if not 0 <= exit_status <= 255:
            raise ValidationError({"exit_status": "An exit status is 0 to 255."})
        kind = SUCCESS if exit_status == 0 else FAIL
    now = now or timezone.now()
    with transaction.atomic():
        heartbeat = (
            Heartbeat.objects.select_for_update(of=("self",))
            .select_related("integration")
            .get(pk=heartbeat.pk)
        )
        was_alerted = heartbeat.status in _ALERTED
        if kind == START:
            heartbeat.last_start_at = now
            if not was_alerted:
                heartbeat.status = Heartbeat.Status.STARTED
                heartbeat.alert_at = now + heartbeat.grace
            heartbeat.save(update_fields=["last_start_at", "status", "alert_at"])
            return heartbeat
        heartbeat.last_ping_at = now
        heartbeat.last_exit_status = (
            exit_status if exit_status is not None else (0 if kind == SUCCESS else None)
        )
        if kind == SUCCESS:
            heartbeat.status = Heartbeat.Status.UP
            heartbeat.alert_at = _alert_at(heartbeat, now)
        else:
            heartbeat.status = Heartbeat.Status.FAILED
            heartbeat.alert_at = None  # raised now; the next good ping re-arms it
        heartbeat.save(update_fields=["last_ping_at", "last_exit_status", "status", "alert_at"])
        if kind == SUCCESS and was_alerted:
            event = _event(heartbeat, RESOLVE, f"Heartbeat {heartbeat.integration.name} is back", now, {})
            alert_events_ingest(integration=heartbeat.integration, events=[event], now=now)
        elif kind == FAIL:
            said = f" (exit status {exit_status})" if exit_status is not None else ""
            event = _event(
                heartbeat,
                TRIGGER,
                f"Heartbeat {heartbeat.integration.name} reported failure{said}",
                now,
                {"reason": "failure ping", "exit_status": exit_status, "pinged_at": now.isoformat()},
            )
            alert_events_ingest(integration=heartbeat.integration, events=[event], now=now)
    return heartbeat


def heartbeats_sweep(*, now: datetime | None = None) -> int:
    """Raise the late alert for every heartbeat whose deadline has passed; returns how many. Safe to run in
    several processes at once: each heartbeat is claimed under its row lock and re-checked."""
    now = now or timezone.now()
    due = list(
        Heartbeat.objects.filter(alert_at__lte=now, integration__enabled=True)
        .exclude(status__in=(*_ALERTED, Heartbeat.Status.PAUSED))
        .order_by("alert_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    raised = 0
    for pk in due:
        with transaction.atomic():
            heartbeat = (
                Heartbeat.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("integration")
                .filter(pk=pk, alert_at__lte=now)
                .exclude(status__in=(*_ALERTED, Heartbeat.Status.PAUSED))
                .first()
            )
            if heartbeat is None:
                continue  # pinged meanwhile, or another sweep holds it
            last = heartbeat.last_ping_at
            if heartbeat.status == Heartbeat.Status.STARTED:
                summary = (
                    f"Heartbeat {heartbeat.integration.name}: the job started and did not finish in time"
                )
            else:
                summary = f"Heartbeat {heartbeat.integration.name} is late"
            details = {
                "reason": "late",
                "last_ping_at": last.isoformat() if last else None,
                "last_start_at": heartbeat.last_start_at.isoformat() if heartbeat.last_start_at else None,
                "expected_by": heartbeat.alert_at.isoformat(),
            }
            heartbeat.status, heartbeat.alert_at = Heartbeat.Status.LATE, None
            heartbeat.save(update_fields=["status", "alert_at"])
            alert_events_ingest(
                integration=heartbeat.integration,
                events=[_event(heartbeat, TRIGGER, summary, now, details)],
                now=now,
            )
            raised += 1
    return raised
