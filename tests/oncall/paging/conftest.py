"""Paging fixtures: an integration of the Payments team, alert groups on it, and verified contact methods."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest
from django.utils import timezone

from oncall.models import AlertGroup, ContactKind, ContactMethod, Integration, NotificationRule, Team

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 3 a.m. on Black Friday
_n = count(1)


@pytest.fixture
def payments(db):
    return Team.objects.create(name="Payments", slug="payments")


@pytest.fixture
def integration(payments):
    return Integration.objects.create(team=payments, name="Prometheus", kind="alertmanager")


@pytest.fixture
def make_group(integration):
    def make(summary: str = "Checkout error rate above 5%", **fields) -> AlertGroup:
        n = next(_n)
        fields.setdefault("first_seen_at", timezone.now())
        fields.setdefault("last_seen_at", fields["first_seen_at"])
        return AlertGroup.objects.create(
            integration=integration,
            team=integration.team,
            dedup_key=f"key-{n}",
            summary=summary,
            incident_severity=fields.pop("incident_severity", "P0"),
            **fields,
        )

    return make


@pytest.fixture
def group(make_group):
    return make_group()


@pytest.fixture
def verified():
    """A verified contact method (and optionally a rule using it), as if the code had been entered."""

    def make(user, kind: str, address: str = "", *, delay: int | None = None, urgency: str = "any"):
        method = ContactMethod.objects.create(
            user=user, kind=kind, address=address, verified_at=timezone.now()
        )
        if delay is not None:
            NotificationRule.objects.create(
                user=user, contact_method=method, delay_minutes=delay, urgency=urgency
            )
        return method

    return make


SMS = ContactKind.SMS
EMAIL = ContactKind.EMAIL
PUSH = ContactKind.PUSH
