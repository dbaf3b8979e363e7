"""On-call fixtures: a team across NA and EU, and a schedule with one daily Toronto layer (rob, ana)."""

from __future__ import annotations

from datetime import date, time

import pytest

from oncall import services
from oncall.models import Region, Team, TeamMembership
from opsportal.core.roles import Role
from opsportal.core.services import SYSTEM


@pytest.fixture
def ana(make_staff):
    return make_staff("ana", Role.RESPONDER, time_zone="Europe/Dublin")


@pytest.fixture
def team(rob, ana):
    na = Region.objects.create(code="NA", name="North America", time_zone="America/Toronto", position=0)
    eu = Region.objects.create(code="EU", name="Europe", time_zone="Europe/Dublin", position=1)
    payments = Team.objects.create(name="Payments", slug="payments")
    TeamMembership.objects.create(team=payments, user=rob, region=na)
    TeamMembership.objects.create(team=payments, user=ana, region=eu)
    return payments


@pytest.fixture
def schedule(team, rob, ana):
    made = services.schedule_create(actor=SYSTEM, name="Payments primary", slug="payments-primary", team=team)
    services.layer_create(
        actor=SYSTEM,
        schedule=made,
        name="Toronto",
        participants=[rob, ana],
        turn_count=1,
        turn_unit="days",
        handoff_time=time(9),
        start=date(2026, 10, 1),
        time_zone="America/Toronto",
    )
    return made
