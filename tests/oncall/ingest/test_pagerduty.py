"""PagerDuty Events API v2 door (`/v2/enqueue`): PagerDuty's documented bodies get PagerDuty's answers, byte for
byte; a refused request stores nothing."""

from __future__ import annotations

import json

import pytest

from oncall.models import AlertEvent, AlertGroup, IntegrationKind
from tests.oncall.ingest.payloads import pagerduty_example, reference

INVALID_KEY = (
    b'{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}'
)


def _nothing_stored():
    return not AlertEvent.objects.exists() and not AlertGroup.objects.exists()


def test_enqueue_documented_trigger_answers_202_and_opens_a_group(door, pagerduty_integration):
    response = door.post_json("/v2/enqueue", pagerduty_example("trigger", pagerduty_integration.key))
    assert response.status_code == 202
    assert response.content == b'{"status":"success","message":"Event processed","dedup_key":"samplekeyhere"}'
    assert response["Content-Type"] == "application/json"
    event = AlertEvent.objects.get()
    assert (event.action, event.dedup_key, event.outcome) == ("trigger", "samplekeyhere", "new group")
    group = AlertGroup.objects.get()
    assert group.summary == "Example alert on host1.example.com"
    assert group.labels["component"] == "postgres" and group.labels["ping time"] == "1500ms"
    pagerduty_integration.refresh_from_db()
    assert pagerduty_integration.last_event_at is not None


def test_enqueue_documented_acknowledge_then_resolve(door, pagerduty_integration):
    key = pagerduty_integration.key
    trigger = pagerduty_example("trigger", key)
    trigger["dedup_key"] = "dedupkeyhere"
    door.post_json("/v2/enqueue", trigger)
    for action, status in (("acknowledge", "acknowledged"), ("resolve", "resolved")):
        response = door.post_json("/v2/enqueue", pagerduty_example(action, key))
        assert response.status_code == 202
        assert response.json() == {
            "status": "success",
            "message": "Event processed",
            "dedup_key": "dedupkeyhere",
        }
        assert AlertGroup.objects.get().status == status


def test_enqueue_trigger_without_dedup_key_returns_the_key_it_made(door, pagerduty_integration):
    body = pagerduty_example("trigger", pagerduty_integration.key)
    del body["dedup_key"]
    response = door.post_json("/v2/enqueue/", body)  # the trailing slash is accepted too
    assert response.status_code == 202
    assert response.json()["dedup_key"] == AlertGroup.objects.get().dedup_key


def test_enqueue_takes_the_routing_key_from_x_routing_key_as_old_pdpyras_sends_it(
    door, pagerduty_integration
):
    body = pagerduty_example("trigger", pagerduty_integration.key)
    del body["routing_key"]
    response = door.post_json("/v2/enqueue", body, headers={"X-Routing-Key": pagerduty_integration.key})
    assert response.status_code == 202
    assert AlertGroup.objects.count() == 1


def test_enqueue_repeated_trigger_deduplicates(door, pagerduty_integration):
    body = pagerduty_example("trigger", pagerduty_integration.key)
    for _ in range(3):
        assert door.post_json("/v2/enqueue", body).status_code == 202
    group = AlertGroup.objects.get()
    assert group.occurrences == 3
    assert AlertEvent.objects.count() == 3


def test_enqueue_alertmanager_pagerduty_configs_bodies_open_and_resolve(door, pagerduty_integration):
    captured = reference("pagerduty-events-from-alertmanager.json")
    for name in ("trigger", "resolve"):
        body = captured[name]
        body["routing_key"] = pagerduty_integration.key
        response = door.post_json("/v2/enqueue", body, headers={"User-Agent": "Alertmanager/0.25.0"})
        assert response.status_code == 202
    group = AlertGroup.objects.get()
    assert group.status == "resolved"
    assert group.labels["service"] == "checkout"


def test_enqueue_unknown_routing_key_is_pagerdutys_400(door, pagerduty_integration):
    response = door.post_json("/v2/enqueue", pagerduty_example("trigger", "f" * 32))
    assert response.status_code == 400
    assert response.content == INVALID_KEY
    assert _nothing_stored()


def test_enqueue_malformed_routing_key_gets_pagerdutys_reasons(door, pagerduty_integration):
    response = door.post_json("/v2/enqueue", pagerduty_example("trigger", "routingkeyhere!"))
    assert response.status_code == 400
    assert (
        response.json()
        == reference("pagerduty-events-v2-examples.json")["answers"]["invalid_routing_key_shape"]
    )
    assert _nothing_stored()


def test_enqueue_refuses_another_kinds_key_and_a_disabled_integration(door, make_integration):
    alertmanager = make_integration(IntegrationKind.ALERTMANAGER)
    response = door.post_json("/v2/enqueue", pagerduty_example("trigger", alertmanager.key))
    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["This key belongs to a Prometheus Alertmanager webhook integration; use its own URL"],
    }
    disabled = make_integration(IntegrationKind.PAGERDUTY, enabled=False)
    response = door.post_json("/v2/enqueue", pagerduty_example("trigger", disabled.key))
    assert response.status_code == 400
    assert response.json()["errors"] == ["This integration is disabled"]
    assert _nothing_stored()


def test_enqueue_invalid_event_lists_every_reason(door, pagerduty_integration):
    body = {"routing_key": pagerduty_integration.key, "event_action": "trigger", "payload": {"summary": "x"}}
    response = door.post_json("/v2/enqueue", body)
    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["'payload.source' is missing or blank", "'payload.severity' is missing or blank"],
    }
    assert _nothing_stored()


@pytest.mark.parametrize("size", [512 * 1024 + 1, 3 * 1024 * 1024])
def test_enqueue_body_over_512_kb_is_413_in_pagerdutys_shape(door, pagerduty_integration, size):
    # 3 MB is past DATA_UPLOAD_MAX_MEMORY_SIZE too: the door answers, not Django's own 400.
    body = pagerduty_example("trigger", pagerduty_integration.key)
    body["payload"]["custom_details"] = {"blob": ""}
    overhead = len(json.dumps(body))
    body["payload"]["custom_details"]["blob"] = "x" * (size - overhead)
    data = json.dumps(body)
    assert len(data) == size
    response = door.post_json("/v2/enqueue", data)
    assert response.status_code == 413
    assert response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["The request body is larger than 524288 bytes"],
    }
    assert _nothing_stored()


def test_enqueue_body_of_exactly_512_kb_is_accepted(door, pagerduty_integration):
    body = pagerduty_example("trigger", pagerduty_integration.key)
    body["payload"]["custom_details"] = {"blob": ""}
    body["payload"]["custom_details"]["blob"] = "x" * (512 * 1024 - len(json.dumps(body)))
    assert door.post_json("/v2/enqueue", json.dumps(body)).status_code == 202


@pytest.mark.parametrize(
    ("data", "content_type", "error"),
    [
        (
            "routing_key=x",
            "application/x-www-form-urlencoded",
            "Send the event as JSON (Content-Type: application/json)",
        ),
        ("{not json", "application/json", "The body is not valid JSON"),
        ('{"routing_key": NaN}', "application/json", "The body is not valid JSON"),
        (b'{"routing_key": "\xff"}', "application/json", "The body is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "application/json", "The JSON is nested deeper than 32 levels"),
        ('{"a": "\\u0000"}', "application/json", "'body' contains control characters"),
        ("  ", "application/json", "The body is not valid JSON"),
    ],
)
def test_enqueue_refuses_what_is_not_a_json_event(door, pagerduty_integration, data, content_type, error):
    response = door.post_json("/v2/enqueue", data, content_type=content_type)
    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": [error],
    }
    assert _nothing_stored()


def test_enqueue_only_takes_post(door, pagerduty_integration):
    response = door.get("/v2/enqueue")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_enqueue_too_fast_is_429_with_retry_after(door, pagerduty_integration, settings):
    settings.INGEST_RATE_PER_MINUTE = 2
    body = pagerduty_example("trigger", pagerduty_integration.key)
    assert [door.post_json("/v2/enqueue", body).status_code for _ in range(2)] == [202, 202]
    response = door.post_json("/v2/enqueue", body)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["status"] == "throttle event"
    assert AlertEvent.objects.count() == 2
