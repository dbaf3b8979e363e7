"""SLA writes: timeline events when a clock passes its warning or breach point, and the admins' targets."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.core.roles import ADMINISTER
from opsportal.core.services import audit_record, require_permission
from opsportal.incidents.models import Incident, SeverityPolicy, TimelineEvent
from opsportal.incidents.services import _event, _policy
from opsportal.incidents.sla import sla_clocks


@transaction.atomic
def incident_check_sla(*, incident_id: int, now: datetime | None = None) -> list[TimelineEvent]:
    """Write a timeline event for each SLA warning or breach point crossed, exactly once per severity."""
    now = now or timezone.now()
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return []
    policy = _policy(incident.severity)
    written = []
    for clock in sla_clocks(incident.times, policy.targets, now):
        for crossing in clock.crossings():
            at = clock.breach_at if crossing == "breach" else clock.warning_at
            # Keyed by the instant crossed too: when an admin edits the target the point moves, and the
            # crossing of the new point is a new event, not a duplicate of the old one.
            legacy_key = f"sla:{incident.pk}:{clock.name.value}:{incident.severity}:{crossing}"
            key = f"{legacy_key}:{at.astimezone(UTC):%Y%m%dT%H%M%S}"
            if TimelineEvent.objects.filter(dedupe_key__in=[key, legacy_key]).exists():
                continue
            kind = TimelineEvent.Kind.SLA_BREACH if crossing == "breach" else TimelineEvent.Kind.SLA_WARNING
            minutes = int(clock.target.total_seconds() // 60)
            text = "breached" if crossing == "breach" else "at 80 %"
            body = f"{incident.severity} {clock.name.value} SLA {text} (target {minutes} min)"
            try:
                with transaction.atomic():
                    written.append(
                        _event(
                            incident,
                            kind,
                            None,
                            body,
                            dedupe_key=key,
                            at=min(at, now),
                            data={"clock": clock.name.value, "severity": incident.severity},
                        )
                    )
            except IntegrityError:
                continue  # another checker wrote it first
    return written


@transaction.atomic
def severity_policy_update(
    *, actor, policy: SeverityPolicy, detect_minutes: int, respond_minutes: int, resolve_minutes: int
) -> SeverityPolicy:
    require_permission(actor, ADMINISTER)
    for name, value in (
        ("detect_minutes", detect_minutes),
        ("respond_minutes", respond_minutes),
        ("resolve_minutes", resolve_minutes),
    ):
        if value < 1:
            raise ValidationError({name: "Targets are at least one minute."})
    before = {
        "detect": policy.detect_minutes,
        "respond": policy.respond_minutes,
        "resolve": policy.resolve_minutes,
    }
    policy.detect_minutes, policy.respond_minutes, policy.resolve_minutes = (
        detect_minutes,
        respond_minutes,
        resolve_minutes,
    )
    policy.save(update_fields=["detect_minutes", "respond_minutes", "resolve_minutes"])
    audit_record(
        actor=actor,
        action="severity_policy.updated",
        obj=policy,
        before=before,
        after={"detect": detect_minutes, "respond": respond_minutes, "resolve": resolve_minutes},
    )
    return policy
