"""Alerting through API v1: integrations (keys shown on create and to admins only), routes and their order,
escalation policies with levels and targets, alert groups and their actions, a person's own contact methods and
notification rules; scopes and the holder's current role."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oncall import alerting, contacts, engine, integration_services
from oncall import escalation_services as policy_services
from oncall.events import InboundEvent
from oncall.models import AlertGroup, ContactMethod, EscalationPolicy, Integration, Route
from opsportal.core.roles import Role
from opsportal.core.services import SYSTEM, staff_set_role
from opsportal.notifications.models import Delivery

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/alerts/"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def patch(api, path, data, token):
    return api.client.patch(
        path, json.dumps(data), content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


def delete(api, path, token):
    return api.client.delete(path, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def rob_token(rob, make_token):
    return make_token(rob, "alerts:write")


@pytest.fixture
def admin_token(alice, make_token):
    return make_token(alice, "alerts:write")


@pytest.fixture
def viewer_token(vera, make_token):
    return make_token(vera, "alerts:read")


def _code_sent_to(address: str) -> str:
    """The verification code as the person reads it: from the message the outbox holds for the address."""
    delivery = Delivery.objects.filter(address=address).select_related("message").latest("pk")
    assert delivery.message.kind == contacts.VERIFY_KIND
    return re.search(r"\b(\d{6})\b", delivery.message.text_body)[1]


@pytest.fixture
def policy(team, schedule, rob):
    policy = policy_services.policy_create(actor=SYSTEM, team=team, name="Payments default")
    return policy_services.policy_set_levels(
        actor=SYSTEM,
        policy=policy,
        levels=[
            {"delay_minutes": 5, "targets": [{"kind": "schedule", "schedule": schedule}]},
            {"delay_minutes": 10, "targets": [{"kind": "user", "user": rob}]},
        ],
    )


@pytest.fixture
def integration(team, policy):
    return integration_services.integration_create(
        actor=SYSTEM, team=team, name="Prometheus", kind="alertmanager", escalation_policy=policy
    )


def _trigger(integration, key="disk-full", summary="Disk full on db-1", severity="critical", labels=None):
    event = InboundEvent(
        action="trigger", dedup_key=key, summary=summary, severity=severity, labels=labels or {}
    )
    (stored,) = alerting.alert_events_ingest(integration=integration, events=[event])
    return stored.group


# Integrations


def test_integration_create_answers_the_key_once_then_only_to_admins(
    api, team, policy, rob_token, admin_token
):
    response = api.post(
        ALERTS + "integrations/",
        {"team": "payments", "name": "Grafana", "kind": "pagerduty", "escalation_policy": policy.pk,
         "ack_timeout_minutes": 30, "declare_incident_for": ["P0"]},
        token=rob_token,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    created = response.json()
    integration = Integration.objects.get(pk=created["id"])
    assert created["key"] == integration.key and len(integration.key) == 32
    assert (created["ack_timeout_minutes"], created["declare_incident_for"]) == (30, ["P0"])
    assert integration.ack_timeout == timedelta(minutes=30)
    as_responder = api.get(ALERTS + f"integrations/{integration.pk}/", token=rob_token).json()
    assert as_responder["key"] is None
    listed = api.get(ALERTS + "integrations/", token=rob_token).json()["results"]
    assert [row["key"] for row in listed] == [None]
    as_admin = api.get(ALERTS + f"integrations/{integration.pk}/", token=admin_token).json()
    assert as_admin["key"] == integration.key


def test_integration_heartbeat_kind_gets_its_heartbeat(api, team, rob_token):
    response = api.post(
        ALERTS + "integrations/",
        {"team": "payments", "name": "Nightly backup", "kind": "heartbeat",
         "heartbeat": {"period_minutes": 1440, "grace_minutes": 30, "time_zone": "Europe/Dublin"}},
        token=rob_token,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    beat = response.json()["heartbeat"]
    assert (beat["period_minutes"], beat["grace_minutes"], beat["time_zone"]) == (1440, 30, "Europe/Dublin")


def test_integration_update_changes_only_what_is_sent(api, integration, rob_token):
    response = patch(
        api, ALERTS + f"integrations/{integration.pk}/", {"enabled": False, "urgency": "low"}, rob_token
    )
    assert response.status_code == 200, response.content
    integration.refresh_from_db()
    assert (integration.enabled, integration.urgency, integration.name) == (False, "low", "Prometheus")


def test_integration_create_refuses_bad_input_and_changes_nothing(api, team, rob_token):
    before = Integration.objects.count()
    for body in (
        {"team": "payments", "name": "x", "kind": "carrier-pigeon"},
        {"team": "nobody", "name": "x", "kind": "generic"},
        {"team": "payments", "name": "bad\x00name", "kind": "generic"},
        {"team": "payments", "name": "x", "kind": "generic", "ack_timeout_minutes": 10**12},
    ):
        assert_problem(api.post(ALERTS + "integrations/", body, token=rob_token), 400)
    assert Integration.objects.count() == before


def test_viewer_reads_but_does_not_write(api, integration, viewer_token):
    assert api.get(ALERTS + "integrations/", token=viewer_token).status_code == 200
    body = {"team": "payments", "name": "x", "kind": "generic"}
    assert_problem(api.post(ALERTS + "integrations/", body, token=viewer_token), 403)


# Routes


def test_routes_create_list_reorder_update_delete(api, integration, team, policy, rob_token):
    base = ALERTS + f"integrations/{integration.pk}/routes/"
    critical = api.post(
        base,
        {"name": "Critical", "team": "payments", "escalation_policy": policy.pk,
         "conditions": [{"field": "severity", "op": "equals", "value": "critical"}],
         "severity_map": {"critical": "P0"}},
        token=rob_token,
    )  # fmt: skip
    assert critical.status_code == 201, critical.content
    eu = api.post(
        base,
        {"name": "EU", "team": "payments", "urgency": "low",
         "conditions": [{"field": "labels.region", "op": "in", "values": ["EU", "eu"]}]},
        token=rob_token,
    )  # fmt: skip
    assert eu.status_code == 201, eu.content
    assert eu.json()["conditions"] == [{"field": "labels.region", "op": "in", "value": ["EU", "eu"]}]
    ids = [critical.json()["id"], eu.json()["id"]]
    assert [r["id"] for r in api.get(base, token=rob_token).json()["results"]] == ids

    reordered = api.post(base + "order/", {"routes": ids[::-1]}, token=rob_token)
    assert reordered.status_code == 200, reordered.content
    assert [r["id"] for r in reordered.json()] == ids[::-1]
    assert_problem(api.post(base + "order/", {"routes": ids[:1]}, token=rob_token), 400)

    changed = patch(api, base + f"{ids[0]}/", {"suppress": True}, rob_token)
    assert changed.status_code == 200 and changed.json()["suppress"] is True
    assert delete(api, base + f"{ids[1]}/", rob_token).status_code == 204
    assert list(Route.objects.values_list("pk", flat=True)) == ids[:1]


def test_route_conditions_are_checked(api, integration, rob_token):
    base = ALERTS + f"integrations/{integration.pk}/routes/"
    for conditions in (
        [{"field": "nonsense", "op": "equals", "value": "x"}],
        [{"field": "summary", "op": "matches", "value": "("}],
        [{"field": "summary", "op": "in"}],
        [{"field": "summary", "op": "equals"}],
    ):
        body = {"name": "Bad", "team": "payments", "conditions": conditions}
        assert_problem(api.post(base, body, token=rob_token), 400)
    assert not Route.objects.exists()


def test_route_of_another_integration_is_not_found(api, integration, team, rob_token):
    other = integration_services.integration_create(actor=SYSTEM, team=team, name="Other", kind="generic")
    route = integration_services.route_create(
        actor=SYSTEM, integration=other, name="R", conditions=[], team=team
    )
    path = ALERTS + f"integrations/{integration.pk}/routes/{route.pk}/"
    assert_problem(patch(api, path, {"name": "x"}, rob_token), 404)


# Escalation policies


def test_policy_create_with_levels_targets_and_a_local_time_condition(api, team, schedule, rob_token):
    response = api.post(
        ALERTS + "policies/",
        {
            "team": "payments",
            "name": "Follow the sun",
            "repeat": 3,
            "levels": [
                {"delay_minutes": 5, "targets": [{"kind": "schedule", "schedule": "payments-primary"}],
                 "time_condition": {"zone": "target", "days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00",
                                    "end": "07:00", "when": "outside"}},
                {"delay_minutes": 10, "targets": [{"kind": "user", "user": "rob"}], "severities": ["P0"]},
            ],
        },
        token=rob_token,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert [level["number"] for level in body["levels"]] == [1, 2]
    assert body["levels"][0]["time_condition"] == {
        "zone": "target", "days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "07:00", "when": "outside"
    }  # fmt: skip
    assert body["levels"][0]["targets"] == [
        {"kind": "schedule", "user": None, "schedule": "payments-primary", "team": None}
    ]
    assert body["levels"][1]["severities"] == ["P0"]
    policy = EscalationPolicy.objects.get(pk=body["id"])
    # The engine's own snapshot reads what the API wrote.
    snapshot = engine.policy_snapshot(policy)
    assert snapshot["repeat"] == 3 and snapshot["levels"][0]["time_condition"]["when"] == "outside"


def test_policy_update_replaces_levels_and_delete(api, policy, rob_token):
    path = ALERTS + f"policies/{policy.pk}/"
    body = {"levels": [{"delay_minutes": 15, "targets": [{"kind": "team", "team": "payments"}]}]}
    response = patch(api, path, body, rob_token)
    assert response.status_code == 200, response.content
    assert [(lvl["delay_minutes"], lvl["targets"][0]["kind"]) for lvl in response.json()["levels"]] == [
        (15, "team")
    ]
    assert (
        patch(api, path, {"description": "Pages the team"}, rob_token).json()["levels"][0]["delay_minutes"]
        == 15
    )
    assert delete(api, path, rob_token).status_code == 204
    assert not EscalationPolicy.objects.filter(pk=policy.pk).exists()


def test_policy_refuses_unknown_targets_and_targetless_levels(api, team, rob_token):
    for levels in (
        [{"targets": [{"kind": "user", "user": "nobody"}]}],
        [{"targets": []}],
        [{"targets": [{"kind": "user"}]}],
        [{"targets": [{"kind": "schedule", "schedule": "payments-primary"}], "delay_minutes": 0}],
        [{"targets": [{"kind": "team", "team": "payments"}],
          "time_condition": {"zone": "Mars/Olympus", "start": "22:00", "end": "07:00"}}],
    ):  # fmt: skip
        response = api.post(
            ALERTS + "policies/", {"team": "payments", "name": "P", "levels": levels}, token=rob_token
        )
        assert_problem(response, 400)
    assert not EscalationPolicy.objects.exists()


# Alert groups


def test_alert_groups_list_filters(api, integration, team, rob_token):
    first = _trigger(integration, key="a")
    _trigger(integration, key="b", severity="warning")
    alerting.alert_group_resolve(actor=SYSTEM, group=first)
    rows = api.get(ALERTS + "groups/", token=rob_token).json()["results"]
    assert [row["dedup_key"] for row in rows] == ["b", "a"]
    for query, keys in (
        ({"status": "resolved"}, ["a"]),
        ({"status": "triggered", "team": "payments"}, ["b"]),
        ({"team": "nobody"}, []),
        ({"integration": integration.pk, "urgency": "high"}, ["b", "a"]),
        ({"urgency": "low"}, []),
    ):
        rows = api.get(ALERTS + "groups/", data=query, token=rob_token).json()["results"]
        assert [row["dedup_key"] for row in rows] == keys, query
    assert_problem(api.get(ALERTS + "groups/", data={"status": "sleeping"}, token=rob_token), 400)


def test_alert_group_list_query_count_does_not_grow(api, integration, rob_token):
    _trigger(integration, key="one")
    api.get(ALERTS + "groups/", token=rob_token)  # warm up
    with CaptureQueriesContext(connection) as few:
        api.get(ALERTS + "groups/", token=rob_token)
    for n in range(10):
        _trigger(integration, key=f"k{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(ALERTS + "groups/", token=rob_token).json()["results"]) == 11
    assert len(many) == len(few)


def test_alert_group_detail_has_its_log(api, integration, rob_token):
    group = _trigger(integration)
    body = api.get(ALERTS + f"groups/{group.pk}/", token=rob_token).json()
    assert body["summary"] == "Disk full on db-1" and body["integration"]["kind"] == "alertmanager"
    assert "triggered" in [entry["kind"] for entry in body["log"]]


def test_acknowledge_resolve_through_the_api(api, integration, rob, rob_token):
    group = _trigger(integration)
    response = api.post(ALERTS + f"groups/{group.pk}/acknowledge/", token=rob_token)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["acknowledged_by"]) == ("acknowledged", "rob")
    response = api.post(ALERTS + f"groups/{group.pk}/resolve/", token=rob_token)
    assert response.json()["status"] == "resolved"
    assert_problem(api.post(ALERTS + f"groups/{group.pk}/resolve/", token=rob_token), 409)
    assert {"acknowledged", "resolved"} <= {entry["kind"] for entry in response.json()["log"]}


def test_snooze_and_escalate(api, integration, rob_token):
    group = _trigger(integration)
    until = (timezone.now() + timedelta(hours=1)).isoformat()
    response = api.post(ALERTS + f"groups/{group.pk}/snooze/", {"until": until}, token=rob_token)
    assert response.status_code == 200, response.content
    assert response.json()["snoozed_until"] is not None
    for bad in ("2026-01-01T00:00:00", (timezone.now() - timedelta(hours=1)).isoformat(), "soon"):
        assert_problem(api.post(ALERTS + f"groups/{group.pk}/snooze/", {"until": bad}, token=rob_token), 400)
    response = api.post(ALERTS + f"groups/{group.pk}/escalate/", token=rob_token)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "triggered"


def test_acting_on_alerts_follows_the_holders_current_role(api, integration, rob, rob_token):
    group = _trigger(integration)
    staff_set_role(actor=SYSTEM, user=rob, role=Role.VIEWER)
    assert_problem(api.post(ALERTS + f"groups/{group.pk}/acknowledge/", token=rob_token), 403)
    assert AlertGroup.objects.get(pk=group.pk).status == "triggered"
    assert api.get(ALERTS + f"groups/{group.pk}/", token=rob_token).status_code == 200


def test_unknown_group_is_a_404(api, integration, rob_token):
    assert_problem(api.post(ALERTS + "groups/999999/acknowledge/", token=rob_token), 404)


# Contact methods and rules


def test_contact_method_create_verify_and_delete(api, rob, rob_token):
    response = api.post(
        ALERTS + "me/contact-methods/", {"kind": "sms", "address": "+14165550199"}, token=rob_token
    )
    assert response.status_code == 201, response.content
    assert response.json()["verified"] is False
    method = ContactMethod.objects.get(pk=response.json()["id"])
    code = _code_sent_to("+14165550199")  # the add sent it
    wrong = "000000" if code != "000000" else "111111"
    verify = ALERTS + f"me/contact-methods/{method.pk}/verify/"
    assert_problem(api.post(verify, {"code": wrong}, token=rob_token), 400)
    method.refresh_from_db()
    assert method.verification_attempts == 1 and method.verified_at is None
    response = api.post(verify, {"code": code}, token=rob_token)
    assert response.status_code == 200 and response.json()["verified"] is True
    assert delete(api, ALERTS + f"me/contact-methods/{method.pk}/", rob_token).status_code == 204
    assert not ContactMethod.objects.filter(pk=method.pk).exists()


def test_contact_method_code_can_be_sent_again_after_a_minute_and_the_old_one_stops_working(
    api, rob, rob_token
):
    start = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        method = ContactMethod.objects.get(
            pk=api.post(
                ALERTS + "me/contact-methods/", {"kind": "sms", "address": "+14165550199"}, token=rob_token
            ).json()["id"]
        )
        first = _code_sent_to("+14165550199")
        resend = ALERTS + f"me/contact-methods/{method.pk}/resend/"
        too_soon = api.post(resend, token=rob_token)
        assert_problem(too_soon, 409)
        assert "seconds" in too_soon.json()["detail"]
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        response = api.post(resend, token=rob_token)
        assert response.status_code == 202 and response.json()["verified"] is False
        second = _code_sent_to("+14165550199")
        verify = ALERTS + f"me/contact-methods/{method.pk}/verify/"
        if first != second:
            assert_problem(api.post(verify, {"code": first}, token=rob_token), 400)
        assert api.post(verify, {"code": second}, token=rob_token).json()["verified"] is True
        assert_problem(api.post(resend, token=rob_token), 409)  # verified: nothing to resend


def test_contact_method_input_is_checked(api, rob_token):
    for body in (
        {"kind": "sms", "address": "0800 CALL ME"},
        {"kind": "email", "address": "not-an-address"},
        {"kind": "fax", "address": "+14165550199"},
        {"kind": "sms"},
    ):
        assert_problem(api.post(ALERTS + "me/contact-methods/", body, token=rob_token), 400)
    assert not ContactMethod.objects.exists()


def test_someone_elses_contact_method_does_not_exist(api, alice, rob_token):
    theirs = contacts.contact_method_add(
        actor=alice, user=alice, kind="email", address="alice@ops.example.com"
    )
    assert_problem(delete(api, ALERTS + f"me/contact-methods/{theirs.pk}/", rob_token), 404)
    assert_problem(
        api.post(ALERTS + f"me/contact-methods/{theirs.pk}/verify/", {"code": "123456"}, token=rob_token), 404
    )
    listed = api.get(ALERTS + "me/contact-methods/", token=rob_token).json()["results"]
    assert listed == []
    rule = {"contact_method": theirs.pk, "delay_minutes": 1}
    assert_problem(api.post(ALERTS + "me/rules/", rule, token=rob_token), 400)


def test_notification_rules(api, rob, rob_token):
    push = contacts.contact_method_add(actor=rob, user=rob, kind="push")
    assert push.is_verified
    response = api.post(
        ALERTS + "me/rules/", {"contact_method": push.pk, "delay_minutes": 0}, token=rob_token
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "push"
    assert_problem(
        api.post(ALERTS + "me/rules/", {"contact_method": push.pk, "delay_minutes": 241}, token=rob_token),
        400,
    )
    rows = api.get(ALERTS + "me/rules/", token=rob_token).json()["results"]
    assert [row["delay_minutes"] for row in rows] == [0]
    assert delete(api, ALERTS + f"me/rules/{rows[0]['id']}/", rob_token).status_code == 204


def test_integration_heartbeat_on_a_cron_schedule_and_bad_schedules(api, team, rob_token):
    body = {"team": "payments", "name": "Nightly", "kind": "heartbeat",
            "heartbeat": {"cron": "0 3 * * *", "grace_minutes": 60, "time_zone": "Europe/Dublin"}}  # fmt: skip
    response = api.post(ALERTS + "integrations/", body, token=rob_token)
    assert response.status_code == 201, response.content
    assert response.json()["heartbeat"]["cron"] == "0 3 * * *"
    for heartbeat, kind in (
        ({"cron": "61 * * * *"}, "heartbeat"),
        ({"period_minutes": 60, "cron": "0 3 * * *"}, "heartbeat"),
        ({"period_minutes": 60}, "generic"),
    ):
        body = {"team": "payments", "name": "Bad", "kind": kind, "heartbeat": heartbeat}
        assert_problem(api.post(ALERTS + "integrations/", body, token=rob_token), 400)
    assert not Integration.objects.filter(name="Bad").exists()


def test_policy_create_with_repeat_from_and_delete_refused_while_paging(api, team, rob_token):
    levels = [{"targets": [{"kind": "team", "team": "payments"}]}] * 2
    body = {"team": "payments", "name": "Twice", "repeat": 2, "repeat_from": 2, "levels": levels}
    response = api.post(ALERTS + "policies/", body, token=rob_token)
    assert response.status_code == 201, response.content
    assert response.json()["repeat_from"] == 2
    body = {"team": "payments", "name": "Too far", "repeat_from": 3, "levels": levels}
    assert_problem(api.post(ALERTS + "policies/", body, token=rob_token), 400)
    assert not EscalationPolicy.objects.filter(name="Too far").exists()
    policy = EscalationPolicy.objects.get(name="Twice")
    integration = integration_services.integration_create(
        actor=SYSTEM, team=team, name="Grafana", kind="generic", escalation_policy=policy
    )
    _trigger(integration)
    assert_problem(delete(api, ALERTS + f"policies/{policy.pk}/", rob_token), 409)
