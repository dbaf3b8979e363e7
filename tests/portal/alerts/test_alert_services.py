"""The escalation and integration services the pages call: permissions, meaning checks on values no form
would send (booleans for numbers, bad shapes), audit entries, and the time-window checker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from oncall import escalation_services as esc
from oncall import integration_services as ints
from oncall.models import EscalationLevel, EscalationPolicy, Integration, Route
from opsportal.core.exceptions import Conflict
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


def test_policy_set_levels_replaces_levels_and_targets_in_one_go(rob, ana, policy, schedule, team):
    esc.policy_set_levels(
        actor=rob,
        policy=policy,
        levels=[
            {"delay_minutes": 15, "targets": [{"kind": "team", "team": team}]},
            {"severities": ["P0"], "targets": [{"kind": "user", "user": ana}, {"kind": "schedule", "schedule": schedule}]},
        ],
        repeat_from=2,
    )  # fmt: skip
    levels = list(EscalationLevel.objects.filter(policy=policy).order_by("position"))
    assert [(lvl.delay_minutes, lvl.severities) for lvl in levels] == [(15, []), (5, ["P0"])]
    assert [t.kind for t in levels[1].targets.order_by("position")] == ["user", "schedule"]
    assert EscalationPolicy.objects.get(pk=policy.pk).repeat_from == 2
    entry = AuditEntry.objects.get(action="oncall.policy_levels_set")
    assert len(entry.before["levels"]) == 2 and entry.after["repeat_from"] == 2


@pytest.mark.parametrize(
    "levels",
    [
        [{"targets": []}],  # a level that pages nobody
        [{"targets": [{"kind": "user", "user": None}]}],
        [{"delay_minutes": 0, "targets": [{"kind": "team", "team": None}]}],
        [{"delay_minutes": True, "targets": []}],
        [{"time_condition": {"zone": "Mars/Olympus", "start": "22:00", "end": "07:00"}, "targets": []}],
        [{"urgencies": ["medium"], "targets": []}],
        [{"colour": "red", "targets": []}],
        "one level",
    ],
)
def test_policy_set_levels_checks_as_the_granular_services_do_and_changes_nothing(rob, policy, levels):
    before = list(EscalationLevel.objects.filter(policy=policy).values_list("pk", flat=True))
    with pytest.raises(ValidationError) as refused:
        esc.policy_set_levels(actor=rob, policy=policy, levels=levels)
    assert "levels" in refused.value.message_dict
    assert list(EscalationLevel.objects.filter(policy=policy).values_list("pk", flat=True)) == before


def test_policy_set_levels_refuses_a_user_outside_the_team_and_a_repeated_target(rob, alice, policy, team):
    for targets in (
        [{"kind": "user", "user": alice}],
        [{"kind": "team", "team": team}, {"kind": "team", "team": team}],
    ):
        with pytest.raises(ValidationError):
            esc.policy_set_levels(actor=rob, policy=policy, levels=[{"targets": targets}])


def test_policy_set_levels_needs_the_responder_role(vera, policy):
    with pytest.raises(PermissionDenied):
        esc.policy_set_levels(actor=vera, policy=policy, levels=[])
    assert EscalationLevel.objects.filter(policy=policy).count() == 2


def test_policy_set_levels_keeps_repeat_from_within_the_levels(rob, policy, team):
    esc.policy_update(actor=rob, policy=policy, name=policy.name, description="", repeat=1, repeat_from=2)
    one = [{"targets": [{"kind": "team", "team": team}]}]
    with pytest.raises(ValidationError):
        esc.policy_set_levels(actor=rob, policy=policy, levels=one, repeat_from=2)
    esc.policy_set_levels(actor=rob, policy=policy, levels=one)  # not given: brought within, as level_delete
    assert EscalationPolicy.objects.get(pk=policy.pk).repeat_from == 1


def test_policy_delete_is_refused_while_an_escalation_runs_on_it(rob, policy, raise_alert):
    group = raise_alert()
    with pytest.raises(Conflict):
        esc.policy_delete(actor=rob, policy=policy)
    from oncall.alerting import alert_group_resolve

    alert_group_resolve(actor=rob, group=group)
    esc.policy_delete(actor=rob, policy=policy)
    assert not EscalationPolicy.objects.filter(pk=policy.pk).exists()


def test_heartbeat_integration_is_configured_by_heartbeat_configure(rob, team):
    beat = ints.integration_create(
        actor=rob, team=team, name="Nightly", kind="heartbeat", heartbeat_cron="0 3 * * *",
        heartbeat_time_zone="Europe/Dublin", heartbeat_grace=timedelta(hours=1),
    ).heartbeat  # fmt: skip
    assert (beat.cron, beat.period, beat.time_zone, beat.grace) == (
        "0 3 * * *", None, "Europe/Dublin", timedelta(hours=1)
    )  # fmt: skip
    default = ints.integration_create(actor=rob, team=team, name="Hourly", kind="heartbeat").heartbeat
    assert (default.period, default.grace) == (timedelta(hours=1), timedelta(minutes=5))
    assert AuditEntry.objects.filter(action="oncall.heartbeat_configured").count() == 2
    for bad in (
        {"kind": "heartbeat", "heartbeat_cron": "61 * * * *"},
        {"kind": "heartbeat", "heartbeat_period": timedelta(hours=1), "heartbeat_time_zone": "Mars/Olympus"},
        {"kind": "heartbeat", "heartbeat_period": timedelta(days=9999)},
        {"kind": "generic", "heartbeat_period": timedelta(hours=1)},
    ):
        with pytest.raises(ValidationError):
            ints.integration_create(actor=rob, team=team, name="Bad", **bad)
    assert not Integration.objects.filter(name="Bad").exists()


def test_routes_reorder_and_create_at_a_position(rob, integration, team):
    a = ints.route_create(actor=rob, integration=integration, name="A", team=team, conditions=[])
    b = ints.route_create(actor=rob, integration=integration, name="B", team=team, conditions=[])
    first = ints.route_create(
        actor=rob, integration=integration, name="F", team=team, conditions=[], position=0
    )
    assert list(Route.objects.order_by("position").values_list("name", flat=True)) == ["F", "A", "B"]
    ints.routes_reorder(actor=rob, integration=integration, route_ids=[b.pk, first.pk, a.pk])
    assert list(Route.objects.order_by("position").values_list("name", flat=True)) == ["B", "F", "A"]
    for ids in ([b.pk, first.pk], [b.pk, b.pk, a.pk], [b.pk, first.pk, a.pk, 999999]):
        with pytest.raises(ValidationError):
            ints.routes_reorder(actor=rob, integration=integration, route_ids=ids)
    assert list(Route.objects.order_by("position").values_list("name", flat=True)) == ["B", "F", "A"]
