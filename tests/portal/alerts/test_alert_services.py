"""The escalation and integration services the pages call: permissions, meaning checks on values no form
would send (booleans for numbers, bad shapes), audit entries, and the time-window checker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from oncall import escalation_services as esc
from oncall import integration_services as ints
from oncall.models import EscalationLevel, EscalationPolicy, Integration, Route
from opsportal.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "condition",
    [
        {"zone": "Europe/Dublin", "start": "09:00", "end": "17:00", "days": [0, 1, 2, 3, 4]},
        {"zone": "target", "start": "22:00", "end": "07:00", "when": "outside"},
        {"zone": "region:NA", "start": "00:00", "end": "00:00"},
        {},
    ],
)
def test_time_windows_that_are_fine(team, condition):
    assert esc.time_condition_problems(condition) == []


@pytest.mark.parametrize(
    "condition",
    [
        {"zone": "localtime", "start": "09:00", "end": "17:00"},
        {"zone": "right/UTC", "start": "09:00", "end": "17:00"},
        {"zone": "region:MARS", "start": "09:00", "end": "17:00"},
        {"zone": "UTC", "start": "9:00", "end": "17:00"},
        {"zone": "UTC", "start": "09:00", "end": "24:00"},
        {"zone": "UTC", "start": "09:00", "end": "17:00", "days": []},
        {"zone": "UTC", "start": "09:00", "end": "17:00", "days": [True]},
        {"zone": "UTC", "start": "09:00", "end": "17:00", "days": [1, 1]},
        {"zone": "UTC", "start": "09:00", "end": "17:00", "when": "sometimes"},
        {"zone": "UTC", "start": "09:00", "end": "17:00", "extra": 1},
        {"zone": ["UTC"], "start": "09:00", "end": "17:00"},
        "09:00-17:00",
    ],
)
def test_time_windows_that_are_refused(team, condition):
    assert esc.time_condition_problems(condition)


def test_policy_services_need_the_responder_role_and_audit(vera, rob, team):
    with pytest.raises(PermissionDenied):
        esc.policy_create(actor=vera, team=team, name="Nope")
    policy = esc.policy_create(actor=rob, team=team, name="Follow the sun", repeat=3)
    level = esc.level_create(actor=rob, policy=policy, delay_minutes=15)
    assert (
        AuditEntry.objects.filter(action__in=["oncall.policy_created", "oncall.level_created"]).count() == 2
    )
    with pytest.raises(PermissionDenied):
        esc.level_delete(actor=vera, level=level)
    assert EscalationLevel.objects.filter(pk=level.pk).exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"delay_minutes": True},
        {"delay_minutes": 2**63},
        {"delay_minutes": "5"},
        {"round_robin": "yes"},
        {"severities": "P0"},
        {"urgencies": [None]},
        {"time_condition": {"zone": "Nowhere/City", "start": "09:00", "end": "10:00"}},
    ],
)
def test_level_create_refuses_values_no_form_would_send(rob, policy, kwargs):
    count = EscalationLevel.objects.count()
    with pytest.raises(ValidationError):
        esc.level_create(actor=rob, policy=policy, **kwargs)
    assert EscalationLevel.objects.count() == count


def test_repeat_from_must_name_one_of_the_levels(rob, policy):
    with pytest.raises(ValidationError):
        esc.policy_update(actor=rob, policy=policy, name=policy.name, description="", repeat=1, repeat_from=3)
    esc.policy_update(actor=rob, policy=policy, name=policy.name, description="", repeat=1000, repeat_from=2)
    with pytest.raises(ValidationError):
        esc.policy_update(
            actor=rob, policy=policy, name=policy.name, description="", repeat=1001, repeat_from=1
        )


def test_two_policies_of_a_team_cannot_share_a_name(rob, policy, team):
    with pytest.raises(ValidationError):
        esc.policy_create(actor=rob, team=team, name=policy.name)
    assert EscalationPolicy.objects.filter(name=policy.name).count() == 1


def test_integration_services_check_meaning(rob, alice, team, policy):
    integration = ints.integration_create(
        actor=rob, team=team, name="Grafana", kind="generic", ack_timeout=timedelta(minutes=30)
    )
    for bad in (
        {"ack_timeout": timedelta(seconds=1)},
        {"ack_timeout": timedelta(days=8)},
        {"declare_incident_for": ["P7"]},
        {"urgency": "medium"},
        {"enabled": "no"},
    ):
        kwargs = {
            "name": "Grafana",
            "enabled": True,
            "escalation_policy": policy,
            "urgency": "high",
            "ack_timeout": None,
            "declare_incident_for": [],
            **bad,
        }
        with pytest.raises(ValidationError):
            ints.integration_update(actor=rob, integration=integration, **kwargs)
    integration.refresh_from_db()
    assert integration.ack_timeout == timedelta(minutes=30)
    with pytest.raises(PermissionDenied):
        ints.integration_rotate_key(actor=rob, integration=integration)
    old = integration.key
    ints.integration_rotate_key(actor=alice, integration=integration)
    assert Integration.objects.get(pk=integration.pk).key != old


def test_route_services_validate_conditions_and_keep_order(rob, integration, team):
    with pytest.raises(ValidationError):
        ints.route_create(
            actor=rob,
            integration=integration,
            name="Bad",
            team=team,
            conditions=[{"field": "labels.env", "op": "matches", "value": "("}],
        )
    with pytest.raises(ValidationError):
        ints.route_create(
            actor=rob, integration=integration, name="Bad", team=team, conditions="severity=critical"
        )
    a = ints.route_create(actor=rob, integration=integration, name="A", team=team, conditions=[])
    b = ints.route_create(actor=rob, integration=integration, name="B", team=team, conditions=[])
    assert (a.position, b.position) == (0, 1)
    ints.route_move(actor=rob, route=a, direction="down")
    assert list(Route.objects.order_by("position").values_list("name", flat=True)) == ["B", "A"]
    ints.route_move(actor=rob, route=a, direction="down")  # already last: nothing moves
    assert list(Route.objects.order_by("position").values_list("name", flat=True)) == ["B", "A"]
