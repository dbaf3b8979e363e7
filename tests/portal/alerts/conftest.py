"""Alert page fixtures: Payments (rob in Toronto, ana in Dublin) with a daily schedule, a two-level policy
(the schedule's primary, then ana), a PagerDuty integration, and a way to raise alerts through the real
ingestion service."""

from __future__ import annotations

import pytest

from oncall.alerting import alert_events_ingest
from oncall.events import InboundEvent
from oncall.models import (
    AlertGroup,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Integration,
    TargetKind,
)


@pytest.fixture
def policy(team, schedule, ana):
    made = EscalationPolicy.objects.create(team=team, name="Payments default", repeat=1, repeat_from=1)
    first = EscalationLevel.objects.create(policy=made, position=0, delay_minutes=5)
    EscalationTarget.objects.create(level=first, kind=TargetKind.SCHEDULE, schedule=schedule)
    second = EscalationLevel.objects.create(policy=made, position=1, delay_minutes=10)
    EscalationTarget.objects.create(level=second, kind=TargetKind.USER, user=ana)
    return made


@pytest.fixture
def integration(team, policy):
    return Integration.objects.create(
        team=team, name="Prometheus", kind="pagerduty", escalation_policy=policy
    )


@pytest.fixture
def raise_alert(integration):
    def make(key: str = "disk-full", *, summary: str = "Disk full on db-1", severity: str = "critical", **kw):
        event = InboundEvent(
            action="trigger", dedup_key=key, summary=summary, severity=severity, source="db-1", **kw
        )
        alert_events_ingest(integration=integration, events=[event])
        return AlertGroup.objects.get(
            integration=integration, dedup_key=key, status__in=["triggered", "acknowledged"]
        )

    return make
