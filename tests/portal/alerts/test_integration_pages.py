"""Integration pages: who may see the secret URLs, create and edit an integration, rotate its key (admins),
edit its routing rules, and test a rule set with a pasted sample (stores nothing)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from oncall.models import AlertEvent, AlertGroup, Integration, Route
from opsportal.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ROLES = ["none", "viewer", "responder", "incident_commander", "admin"]
PAGERDUTY = {
    "routing_key": "x" * 32,
    "event_action": "trigger",
    "dedup_key": "checkout-5xx",
    "payload": {
        "summary": "Checkout 5xx above 2%",
        "source": "lb-1",
        "severity": "error",
        "custom_details": {"env": "prod", "region": "eu-west-1"},
    },
}
ALERTMANAGER = {
    "version": "4",
    "status": "firing",
    "receiver": "opsportal",
    "groupKey": '{}:{alertname="DiskFull"}',
    "commonLabels": {"alertname": "DiskFull"},
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "severity": "warning", "env": "staging"},
            "annotations": {"summary": "Disk 90% full"},
            "fingerprint": "abc",
        }
    ],
}


def _route(rob, client_for, integration, **overrides):
    data = {
        "name": "Production to P0",
        "conditions": "labels.env equals prod\nseverity in critical, error",
        "team": integration.team_id,
        "escalation_policy": integration.escalation_policy_id,
        "urgency": "high",
        "severity_map": "error=P0",
    }
    data.update(overrides)
    return client_for(rob).post(reverse("portal:route_new", args=[integration.pk]), data)


def test_integration_pages_admit_staff_and_show_the_key_to_responders_only(personas, client_for, integration):
    for url in (
        reverse("portal:integration_list"),
        reverse("portal:integration_detail", args=[integration.pk]),
    ):
        assert client_for(None).get(url).status_code == 302
        for role in ROLES:
            assert client_for(personas[role]).get(url).status_code == (403 if role == "none" else 200), (
                url,
                role,
            )
    detail = reverse("portal:integration_detail", args=[integration.pk])
    assert integration.key not in client_for(personas["viewer"]).get(detail).content.decode()
    page = client_for(personas["responder"]).get(detail).content.decode()
    assert integration.key in page
    assert "/v2/enqueue" in page and f"/hooks/alertmanager/{integration.key}" in page
    assert "pagerduty_configs" in page and "webhook_configs" in page and "routing_key" in page
    assert "Rotate the key" not in page
    assert "Rotate the key" in client_for(personas["admin"]).get(detail).content.decode()


def test_heartbeat_integration_shows_its_ping_urls(rob, client_for, team):
    response = client_for(rob).post(
        reverse("portal:integration_new"),
        {
            "team": team.pk,
            "name": "Nightly backup",
            "kind": "heartbeat",
            "urgency": "high",
            "heartbeat_period_minutes": "1440",
            "heartbeat_grace_minutes": "30",
        },
    )
    integration = Integration.objects.get(name="Nightly backup")
    assert response["Location"] == reverse("portal:integration_detail", args=[integration.pk])
    assert integration.heartbeat.grace.total_seconds() == 30 * 60
    page = client_for(rob).get(response["Location"]).content.decode()
    for suffix in ("", "/start", "/fail"):
        assert f"/ping/{integration.key}{suffix}" in page
    entry = AuditEntry.objects.get(action="oncall.integration_created")
    assert integration.key not in json.dumps(entry.after)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Bad\x00name", "kind": "generic", "urgency": "high"},
        {"name": "Prometheus", "kind": "generic", "urgency": "high"},  # the team has one by that name
        {"name": "New", "kind": "telepathy", "urgency": "high"},
        {"name": "New", "kind": "generic", "urgency": "high", "ack_timeout_minutes": "99999999999"},
        {"name": "New", "kind": "generic", "urgency": "high", "declare_incident_for": ["P3"]},
    ],
)
def test_integration_create_refuses_hostile_input(rob, client_for, integration, data):
    count = Integration.objects.count()
    response = client_for(rob).post(reverse("portal:integration_new"), {"team": integration.team_id, **data})
    assert response.status_code == 400
    assert Integration.objects.count() == count


def test_integration_create_refuses_another_teams_policy(rob, client_for, integration, policy):
    from oncall.models import Team

    other = Team.objects.create(name="Search", slug="search")
    response = client_for(rob).post(
        reverse("portal:integration_new"),
        {
            "team": other.pk,
            "name": "Search alerts",
            "kind": "generic",
            "urgency": "high",
            "escalation_policy": policy.pk,
        },
    )
    assert response.status_code == 400
    assert not Integration.objects.filter(name="Search alerts").exists()


def test_only_admins_rotate_the_key(personas, client_for, integration):
    url = reverse("portal:integration_rotate", args=[integration.pk])
    old = integration.key
    for role in ("viewer", "responder", "incident_commander"):
        assert client_for(personas[role]).post(url).status_code == 403
    integration.refresh_from_db()
    assert integration.key == old
    assert client_for(personas["admin"]).post(url).status_code == 302
    integration.refresh_from_db()
    assert integration.key != old and len(integration.key) == 32
    entry = AuditEntry.objects.get(action="oncall.integration_key_rotated")
    assert old not in json.dumps([entry.before, entry.after]) and integration.key not in json.dumps(
        entry.after
    )


def test_integration_settings_edit(rob, client_for, integration):
    response = client_for(rob).post(
        reverse("portal:integration_edit", args=[integration.pk]),
        {
            "name": "Prometheus prod",
            "enabled": "",
            "urgency": "low",
            "ack_timeout_minutes": "30",
            "declare_incident_for": ["P0"],
        },
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert (integration.name, integration.enabled, integration.urgency) == ("Prometheus prod", False, "low")
    assert integration.ack_timeout.total_seconds() == 1800 and integration.declare_incident_for == ["P0"]


def test_routes_are_added_ordered_moved_and_removed(rob, client_for, integration):
    assert _route(rob, client_for, integration).status_code == 302
    assert _route(rob, client_for, integration, name="Everything else", conditions="").status_code == 302
    first, second = Route.objects.filter(integration=integration).order_by("position")
    assert first.conditions == [
        {"field": "labels.env", "op": "equals", "value": "prod"},
        {"field": "severity", "op": "in", "value": ["critical", "error"]},
    ]
    assert first.severity_map == {"error": "P0"}
    client_for(rob).post(reverse("portal:route_move", args=[integration.pk, second.pk]), {"direction": "up"})
    assert list(
        Route.objects.filter(integration=integration).order_by("position").values_list("pk", flat=True)
    ) == [
        second.pk,
        first.pk,
    ]
    response = client_for(rob).post(
        reverse("portal:route_delete", args=[integration.pk, second.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and response.content.decode().lstrip().startswith(
        '<section id="routes"'
    )
    assert list(Route.objects.filter(integration=integration)) == [first]


@pytest.mark.parametrize(
    "overrides",
    [
        {"conditions": "labels.env matches ([a-z"},  # not a regular expression
        {"conditions": "labels.env resembles prod"},
        {"conditions": "colour equals red"},
        {"conditions": "labels.env equals pr\x00od"},
        {"conditions": "\n".join(["severity equals critical"] * 21)},
        {"name": "x" * 500},
        {"severity_map": "critical=P9"},
        {"urgency": "whenever"},
    ],
)
def test_route_editor_refuses_hostile_input(rob, client_for, integration, overrides):
    response = _route(rob, client_for, integration, **overrides)
    assert response.status_code == 400
    assert not Route.objects.exists()


def test_viewers_cannot_edit_routes(vera, client_for, integration):
    assert _route(vera, client_for, integration).status_code == 403
    assert not Route.objects.exists()


def _test(client, integration, payload):
    return client.post(reverse("portal:rule_test", args=[integration.pk]), {"payload": payload})


def test_rule_tester_names_the_matching_rule_and_what_it_would_do(rob, vera, client_for, integration):
    _route(rob, client_for, integration, declare_incident="on")
    body = _test(client_for(vera), integration, json.dumps(PAGERDUTY)).content.decode()
    outcome = body.split('data-testid="rule-outcome"')[1]
    assert "PagerDuty Events v2" in outcome and "1. Production to P0" in outcome
    assert "error → P0" in outcome and "declared" in outcome
    # An Alertmanager sample from staging matches no rule: the default route.
    body = _test(client_for(vera), integration, json.dumps(ALERTMANAGER)).content.decode()
    outcome = body.split('data-testid="rule-outcome"')[1]
    assert "Alertmanager webhook" in outcome and "the default route" in outcome and "warning → P2" in outcome
    # Nothing was stored or paged.
    assert not AlertEvent.objects.exists() and not AlertGroup.objects.exists()


def test_rule_tester_refuses_bad_samples(vera, client_for, integration):
    client = client_for(vera)
    assert _test(client, integration, "not json").status_code == 400
    assert _test(client, integration, "[1, 2]").status_code == 400
    assert _test(client, integration, "[" * 50 + "]" * 50).status_code == 400
    deep = "{" + '"a": {' * 30 + "}" * 30 + "}"
    assert _test(client, integration, deep).status_code == 400
    assert _test(client, integration, json.dumps({"summary": "x" * 70000})).status_code == 400
    assert _test(client, integration, '{"summary": "a\x00"}').status_code == 400


def test_rule_tester_answers_htmx_with_the_panel_alone(vera, client_for, integration):
    response = client_for(vera).post(
        reverse("portal:rule_test", args=[integration.pk]),
        {"payload": json.dumps({"summary": "Generic thing", "severity": "info"})},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert (
        body.lstrip().startswith('<section id="rule-test"') and "generic JSON" in body and "info → P3" in body
    )


def test_heartbeat_integration_on_a_cron_schedule_in_its_zone(rob, client_for, team):
    form = {
        "team": team.pk,
        "name": "Nightly export",
        "kind": "heartbeat",
        "urgency": "high",
        "heartbeat_grace_minutes": "30",
        "heartbeat_cron": "30 2 * * *",
        "heartbeat_time_zone": "Europe/Dublin",
    }
    response = client_for(rob).post(reverse("portal:integration_new"), form)
    heartbeat = Integration.objects.get(name="Nightly export").heartbeat
    assert response.status_code == 302
    assert (heartbeat.cron, heartbeat.time_zone, heartbeat.period) == ("30 2 * * *", "Europe/Dublin", None)


def test_heartbeat_integration_with_a_bad_cron_or_zone_saves_nothing(rob, client_for, team):
    for cron, zone in (("61 * * * *", "UTC"), ("30 2 * * *", "Mars/Olympus"), ("30 2 * * *\x00", "UTC")):
        response = client_for(rob).post(
            reverse("portal:integration_new"),
            {
                "team": team.pk,
                "name": "Nightly export",
                "kind": "heartbeat",
                "urgency": "high",
                "heartbeat_grace_minutes": "30",
                "heartbeat_cron": cron,
                "heartbeat_time_zone": zone,
            },
        )
        assert response.status_code == 400, (cron, zone)
        assert 'class="errorlist' in response.content.decode()  # the reason is on the page
        assert not Integration.objects.filter(name="Nightly export").exists()
