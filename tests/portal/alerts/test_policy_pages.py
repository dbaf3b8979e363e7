"""Escalation policy pages: who may see and edit, levels and targets added and removed in place, hostile input
refused with nothing saved, and the dry run answering from the engine."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oncall.models import EscalationLevel, EscalationPolicy, EscalationTarget
from opsportal.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ROLES = ["none", "viewer", "responder", "incident_commander", "admin"]


def _level_data(**overrides):
    data = {"delay_minutes": "5", "tc_zone": "", "tc_start": "", "tc_end": "", "tc_when": "inside"}
    data.update(overrides)
    return data


def test_policy_pages_admit_staff_and_edits_need_the_responder_role(personas, client_for, policy, team):
    for url in (reverse("portal:policy_list"), reverse("portal:policy_detail", args=[policy.pk])):
        assert client_for(None).get(url).status_code == 302
        for role in ROLES:
            assert client_for(personas[role]).get(url).status_code == (403 if role == "none" else 200), (
                url,
                role,
            )
    new = reverse("portal:policy_new")
    for role in ("none", "viewer"):
        assert (
            client_for(personas[role])
            .post(new, {"team": team.pk, "name": "X", "repeat": 0, "repeat_from": 1})
            .status_code
            == 403
        )
        assert (
            client_for(personas[role])
            .post(reverse("portal:level_new", args=[policy.pk]), _level_data())
            .status_code
            == 403
        )
    assert not EscalationPolicy.objects.filter(name="X").exists()
    assert EscalationLevel.objects.filter(policy=policy).count() == 2


def test_create_a_policy_add_levels_and_targets_in_place(rob, client_for, team, schedule, ana):
    client = client_for(rob)
    response = client.post(
        reverse("portal:policy_new"), {"team": team.pk, "name": "Night owls", "repeat": 2, "repeat_from": 1}
    )
    policy = EscalationPolicy.objects.get(name="Night owls")
    assert response["Location"] == reverse("portal:policy_detail", args=[policy.pk])

    htmx = {"HX-Request": "true"}
    answer = client.post(
        reverse("portal:level_new", args=[policy.pk]),
        _level_data(
            delay_minutes="10",
            severities=["P0", "P1"],
            urgencies=["high"],
            tc_zone="target",
            tc_days=["0", "1", "2", "3", "4"],
            tc_start="22:00",
            tc_end="07:00",
            tc_when="inside",
        ),
        headers=htmx,
    )
    assert answer.status_code == 200
    assert answer.content.decode().lstrip().startswith('<section id="policy-levels"')
    level = EscalationLevel.objects.get(policy=policy)
    assert level.delay_minutes == 10 and level.severities == ["P0", "P1"] and level.urgencies == ["high"]
    assert level.time_condition == {
        "zone": "target",
        "days": [0, 1, 2, 3, 4],
        "start": "22:00",
        "end": "07:00",
        "when": "inside",
    }

    target_url = reverse("portal:target_new", args=[policy.pk, level.pk])
    assert (
        client.post(target_url, {"kind": "schedule", "schedule": schedule.slug}, headers=htmx).status_code
        == 200
    )
    assert client.post(target_url, {"kind": "user", "user": ana.username}, headers=htmx).status_code == 200
    assert list(level.targets.values_list("kind", flat=True)) == ["schedule", "user"]
    # The same target twice is refused.
    assert client.post(target_url, {"kind": "user", "user": ana.username}, headers=htmx).status_code == 400

    target = level.targets.get(kind="user")
    assert (
        client.post(reverse("portal:target_delete", args=[policy.pk, target.pk]), headers=htmx).status_code
        == 200
    )
    assert list(level.targets.values_list("kind", flat=True)) == ["schedule"]
    assert AuditEntry.objects.filter(action="oncall.target_deleted").exists()
    assert AuditEntry.objects.filter(action="oncall.level_created", actor=rob).exists()


def test_target_choices_are_the_teams_members_and_schedules(rob, client_for, policy, make_staff, schedule):
    from opsportal.core.roles import Role

    make_staff("zed", Role.RESPONDER)  # not in Payments
    page = client_for(rob).get(reverse("portal:policy_detail", args=[policy.pk])).content.decode()
    assert 'value="ana"' in page and 'value="rob"' in page and 'value="zed"' not in page
    level = policy.levels.first()
    response = client_for(rob).post(
        reverse("portal:target_new", args=[policy.pk, level.pk]), {"kind": "user", "user": "zed"}
    )
    assert response.status_code == 400
    assert not EscalationTarget.objects.filter(user__username="zed").exists()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (_level_data(delay_minutes="0"), "delay too short"),
        (_level_data(delay_minutes="1441"), "delay too long"),
        (_level_data(delay_minutes="99999999999999999999999"), "huge number"),
        (_level_data(tc_zone="Mars/Olympus_Mons", tc_start="09:00", tc_end="17:00"), "bad zone"),
        (_level_data(tc_zone="region:XX", tc_start="09:00", tc_end="17:00"), "unknown region"),
        (_level_data(tc_zone="Europe/Dublin\x00", tc_start="09:00", tc_end="17:00"), "control character"),
        (_level_data(tc_zone="Europe/Dublin", tc_start="25:00", tc_end="17:00"), "bad time"),
        (_level_data(tc_zone="Europe/Dublin", tc_start="09:00"), "window without an end"),
        (_level_data(tc_zone="Europe/Dublin", tc_start="09:00", tc_end="17:00", tc_days=["7"]), "bad day"),
        (_level_data(severities=["P9"]), "bad severity"),
        (_level_data(urgencies=["urgent"]), "bad urgency"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_level_editor_refuses_hostile_input_and_saves_nothing(rob, client_for, policy, data, why):
    before = list(EscalationLevel.objects.filter(policy=policy).values())
    audits = AuditEntry.objects.count()
    response = client_for(rob).post(reverse("portal:level_new", args=[policy.pk]), data)
    assert response.status_code == 400, why
    level = policy.levels.first()
    edit = client_for(rob).post(reverse("portal:level_edit", args=[policy.pk, level.pk]), data)
    assert edit.status_code == 400, why
    assert list(EscalationLevel.objects.filter(policy=policy).values()) == before
    assert AuditEntry.objects.count() == audits


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Night\x07owls", "repeat": "0", "repeat_from": "1"},
        {"name": "x" * 101, "repeat": "0", "repeat_from": "1"},
        {"name": "Night owls", "repeat": "1001", "repeat_from": "1"},
        {"name": "Night owls", "repeat": "-1", "repeat_from": "1"},
        {"name": "Night owls", "repeat": "1", "repeat_from": "3"},  # the policy has two levels
        {"name": "Night owls", "repeat": "1", "repeat_from": "0"},
        {"name": "Night owls", "description": "bad\x1b[31m", "repeat": "1", "repeat_from": "1"},
    ],
)
def test_policy_editor_refuses_hostile_input(rob, client_for, policy, data):
    response = client_for(rob).post(reverse("portal:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 400
    policy.refresh_from_db()
    assert policy.name == "Payments default" and policy.repeat == 1 and policy.repeat_from == 1


def test_policy_edit_and_delete(rob, client_for, policy):
    client = client_for(rob)
    response = client.post(
        reverse("portal:policy_edit", args=[policy.pk]),
        {"name": "Payments 24/7", "description": "", "repeat": "1000", "repeat_from": "2"},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.repeat, policy.repeat_from) == ("Payments 24/7", 1000, 2)
    # Removing the second level keeps repeat_from within the levels left.
    second = policy.levels.order_by("position").last()
    client.post(reverse("portal:level_delete", args=[policy.pk, second.pk]))
    policy.refresh_from_db()
    assert policy.repeat_from == 1
    assert client.post(reverse("portal:policy_delete", args=[policy.pk])).status_code == 302
    assert not EscalationPolicy.objects.filter(pk=policy.pk).exists()


def test_levels_move_up_and_down(rob, client_for, policy):
    first, second = policy.levels.order_by("position")
    client_for(rob).post(reverse("portal:level_move", args=[policy.pk, second.pk]), {"direction": "up"})
    assert list(policy.levels.order_by("position").values_list("pk", flat=True)) == [second.pk, first.pk]
    response = client_for(rob).post(
        reverse("portal:level_move", args=[policy.pk, second.pk]), {"direction": "sideways"}
    )
    assert response.status_code == 400


def test_a_level_of_another_policy_is_a_404(rob, client_for, policy, team):
    other = EscalationPolicy.objects.create(team=team, name="Other")
    level = policy.levels.first()
    response = client_for(rob).post(reverse("portal:level_delete", args=[other.pk, level.pk]))
    assert response.status_code == 404
    assert EscalationLevel.objects.filter(pk=level.pk).exists()


def test_dry_run_shows_who_would_be_paged_level_by_level(vera, client_for, policy):
    url = reverse("portal:policy_detail", args=[policy.pk])
    page = (
        client_for(vera)
        .get(url, {"severity": "P0", "urgency": "high", "at": "2026-11-27T09:00", "part": "dry-run"})
        .content.decode()
    )
    steps = page.split('data-testid="dry-run-steps"')[1]
    # Level 1 is the schedule's primary, level 2 ana; repeated once.
    assert steps.count("<li>") == 4
    assert "level 1" in steps and "level 2" in steps and "ana" in steps
    assert "Fri 09:00" in steps  # in the viewer's zone (vera: UTC)


def test_dry_run_answers_the_htmx_form_with_the_panel_alone(vera, client_for, policy):
    response = client_for(vera).get(
        reverse("portal:policy_detail", args=[policy.pk]),
        {"severity": "P1", "urgency": "low", "part": "dry-run"},
        headers={"HX-Request": "true"},
    )
    assert response.content.decode().lstrip().startswith('<section id="dry-run"')


def test_dry_run_refuses_a_bad_instant(vera, client_for, policy):
    response = client_for(vera).get(
        reverse("portal:policy_detail", args=[policy.pk]),
        {"severity": "P0", "urgency": "high", "at": "9999-01-01T00:00"},
    )
    assert response.status_code == 200
    assert "dry-run-steps" not in response.content.decode()
