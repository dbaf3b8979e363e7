"""Alerting fixtures: Payments' PagerDuty integration whose default route escalates to the schedule's
primary (5 min), then irene the commander (10 min), repeated once."""

from __future__ import annotations

import pytest

from oncall.events import InboundEvent
from oncall.models import EscalationLevel, EscalationPolicy, EscalationTarget, Integration, TargetKind


@pytest.fixture
def policy(team, schedule, irene):
    made = EscalationPolicy.objects.create(team=team, name="Payments default", repeat=1, repeat_from=1)
    first = EscalationLevel.objects.create(policy=made, position=0, delay_minutes=5)
    EscalationTarget.objects.create(level=first, kind=TargetKind.SCHEDULE, schedule=schedule)
    second = EscalationLevel.objects.create(policy=made, position=1, delay_minutes=10)
    EscalationTarget.objects.create(level=second, kind=TargetKind.USER, user=irene)
    return made


@pytest.fixture
def integration(team, policy):
    return Integration.objects.create(
        team=team, name="Prometheus", kind="pagerduty", escalation_policy=policy
    )


@pytest.fixture
def trigger():
    def make(key: str = "disk-full", *, summary: str = "Disk full on db-1", severity: str = "critical", **kw):
        return InboundEvent(
            action="trigger", dedup_key=key, summary=summary, severity=severity, source="db-1", **kw
        )

    return make
