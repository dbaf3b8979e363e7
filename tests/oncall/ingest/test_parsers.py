"""The pure parsers of the doors in (PagerDuty Events v2, Alertmanager, generic) and the heartbeat schedule
maths, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall import heartbeat_schedule
from oncall.payloads import alertmanager, checks, generic, pagerduty
from tests.oncall.ingest.payloads import alertmanager_webhook, pagerduty_example, reference


def test_pagerduty_parse_documented_trigger_keeps_every_field():
    event, errors = pagerduty.parse(pagerduty_example("trigger"))
    assert errors == []
    assert event.action == "trigger"
    assert event.dedup_key == "samplekeyhere"
    assert event.summary == "Example alert on host1.example.com"
    assert event.severity == "info"
    assert (event.component, event.group, event.event_class) == ("postgres", "prod-datapipe", "deploy")
    assert event.timestamp == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert event.details == {"ping time": "1500ms", "load avg": 0.75}
    assert event.labels == {
        "ping time": "1500ms",
        "load avg": "0.75",
        "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
        "component": "postgres",
        "group": "prod-datapipe",
        "class": "deploy",
    }
    assert event.links == [{"href": "https://example.com/", "text": "Link text"}]
    assert event.images[0]["alt"] == "Example text"
    assert (event.client, event.client_url) == ("Sample Monitoring Service", "https://monitoring.example.com")
    assert "routing_key" not in event.raw  # the key is a secret; the log keeps the rest


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_pagerduty_parse_documented_acknowledge_and_resolve_need_only_the_dedup_key(action):
    event, errors = pagerduty.parse(pagerduty_example(action))
    assert errors == []
    assert (event.action, event.dedup_key) == (action, "dedupkeyhere")


def test_pagerduty_parse_trigger_without_dedup_key_gets_a_new_one():
    body = pagerduty_example("trigger")
    del body["dedup_key"]
    first, _ = pagerduty.parse(body)
    second, _ = pagerduty.parse(body)
    assert len(first.dedup_key) == 32 and first.dedup_key != second.dedup_key


def test_pagerduty_parse_alertmanager_bodies_read_its_labels_back():
    captured = reference("pagerduty-events-from-alertmanager.json")
    for name in ("trigger", "resolve"):
        body = captured[name]
        body["routing_key"] = "0123456789abcdef0123456789abcdef"
        event, errors = pagerduty.parse(body)
        assert errors == []
        assert event.action == name
        assert event.dedup_key == "49c0525bb91893cd1f508f54cc78dc8d3daa0555d12f695667b9eb4c32013e48"
        assert event.severity == "error"  # what Alertmanager sends, whatever the label says
        assert {"alertname": "CheckoutHighErrorRate", "region": "eu", "service": "checkout"}.items() <= (
            event.labels.items()
        )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"routing_key": None}, "'routing_key' is missing or blank"),
        ({"routing_key": "short"}, "Length of 'routing_key' is incorrect (should be 32 characters)"),
        (
            {"routing_key": "0123456789abcdef0123456789abcde!"},
            "'routing_key' cannot contain non-alphanumeric characters.",
        ),
        ({"event_action": "explode"}, "'event_action' must be one of trigger, acknowledge or resolve"),
        ({"event_action": None}, "'event_action' is missing or blank"),
        ({"dedup_key": "k" * 256}, "'dedup_key' is longer than 255 characters"),
        ({"dedup_key": 5}, "'dedup_key' must be a string"),
        ({"payload": None}, "'payload' is missing or blank"),
        ({"payload": []}, "'payload' must be an object"),
        ({"payload.summary": "s" * 1025}, "'payload.summary' is longer than 1024 characters"),
        ({"payload.summary": None}, "'payload.summary' is missing or blank"),
        ({"payload.summary": "bell\x07"}, "'payload.summary' contains control characters"),
        ({"payload.source": None}, "'payload.source' is missing or blank"),
        ({"payload.source": "a\nb"}, "'payload.source' contains control characters"),
        ({"payload.severity": "fatal"}, "'payload.severity' must be one of critical, error, warning or info"),
        ({"payload.severity": None}, "'payload.severity' is missing or blank"),
        ({"payload.timestamp": "yesterday"}, "'payload.timestamp' must be an ISO 8601 timestamp"),
        ({"payload.timestamp": "9999-12-31T23:59:59Z"}, "'payload.timestamp' must lie between 2000 and 2099"),
        ({"payload.custom_details": 7}, "'payload.custom_details' must be an object"),
        (
            {"payload.custom_details": {"k": "nul\x00"}},
            "'payload.custom_details' contains control characters",
        ),
        ({"payload.custom_details": {"k\ud800": 1}}, "'payload.custom_details' contains control characters"),
        ({"links": {"href": "x"}}, "'links' must be an array"),
        ({"links": [{"text": "no href"}]}, "'links[0].href' is missing or blank"),
        ({"images": [{"src": "https://x"}] * 21}, "'images' holds more than 20 entries"),
        ({"client": ["x"]}, "'client' must be a string"),
    ],
)
def test_pagerduty_parse_refuses_bad_fields_with_pagerduty_words(change, error):
    body = pagerduty_example("trigger")
    for path, value in change.items():
        target, name = (
            (body["payload"], path.split(".", 1)[1]) if path.startswith("payload.") else (body, path)
        )
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    event, errors = pagerduty.parse(body)
    assert event is None
    assert error in errors


def test_pagerduty_parse_refuses_deep_nesting_and_non_objects():
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    body = pagerduty_example("trigger")
    body["payload"]["custom_details"] = deep
    assert pagerduty.parse(body)[1] == ["'payload.custom_details' is nested deeper than 32 levels"]
    assert pagerduty.parse(["not", "an", "object"]) == (None, ["Event object must be a JSON object"])


def test_pagerduty_parse_reads_a_timestamp_without_offset_as_utc():
    body = pagerduty_example("trigger")
    body["payload"]["timestamp"] = "2015-07-17T08:42:58"
    assert pagerduty.parse(body)[0].timestamp == datetime(2015, 7, 17, 8, 42, 58, tzinfo=UTC)


def test_pagerduty_parse_folds_a_multi_line_summary_onto_one_line():
    body = pagerduty_example("trigger")
    body["payload"]["summary"] = "Disk full\r\n\ton db1\n"
    event, _ = pagerduty.parse(body)
    assert event.summary == "Disk full on db1"


def test_pagerduty_answers_are_pagerdutys_bytes():
    answers = reference("pagerduty-events-v2-examples.json")["answers"]
    assert pagerduty.accepted("samplekeyhere") == answers["accepted"]
    assert pagerduty.invalid([pagerduty.INVALID_ROUTING_KEY]) == answers["invalid"]
    assert (
        pagerduty.invalid(pagerduty.routing_key_errors("routingkeyhere!"))
        == answers["invalid_routing_key_shape"]
    )


def test_alertmanager_parse_documented_webhook_one_event_per_alert():
    notification, errors = alertmanager.parse(alertmanager_webhook())
    assert errors == []
    (event,) = notification.events
    assert event.action == "trigger"
    assert event.dedup_key == '{}:{alertname="DiskFull", service="ops-portal"}:dbaaf28f407b38e2'
    assert event.summary == "Disk 95% full on db1"
    assert event.severity == "critical"
    assert event.source == "db1"
    assert event.labels == {
        "alertname": "DiskFull",
        "instance": "db1",
        "service": "ops-portal",
        "severity": "critical",
    }
    assert event.details["annotations"] == {"summary": "Disk 95% full on db1"}
    assert event.details["generatorURL"] == "http://127.0.0.1/graph"
    assert event.details["endsAt"] == "0001-01-01T00:00:00Z"
    assert event.timestamp == datetime(2026, 11, 29, 14, 56, 21, 390000, tzinfo=UTC)
    assert event.links == [
        {"href": "http://127.0.0.1/graph", "text": "Source"},
        {"href": "http://alertmanager.example:9093", "text": "Alertmanager"},
    ]
    assert notification.truncated_alerts == 0


def test_alertmanager_parse_resolved_alert_resolves_and_truncation_is_kept():
    body = alertmanager_webhook()
    body["status"] = "resolved"
    body["alerts"][0]["status"] = "resolved"
    body["alerts"].append(
        {**body["alerts"][0], "fingerprint": "0000000000000001", "labels": {"alertname": "X"}}
    )
    body["alerts"][1]["annotations"] = {}
    body["truncatedAlerts"] = 3
    notification, errors = alertmanager.parse(body)
    assert errors == []
    assert [event.action for event in notification.events] == ["resolve", "resolve"]
    assert notification.truncated_alerts == 3
    assert all(event.raw["truncatedAlerts"] == 3 for event in notification.events)
    second = notification.events[1]
    # No summary annotation: the alert's name and labels (the common labels included).
    assert second.summary == "X (instance=db1, service=ops-portal, severity=critical)"
    assert second.dedup_key.endswith(":0000000000000001")


@pytest.mark.parametrize(
    ("word", "severity"),
    [
        ("critical", "critical"),
        ("PAGE", "critical"),
        ("warn", "warning"),
        ("info", "info"),
        ("major", "error"),
        ("whatever", "error"),
        (None, "error"),
    ],
)
def test_alertmanager_severity_words_map_onto_four(word, severity):
    labels = {} if word is None else {"severity": word}
    assert alertmanager.severity_of(labels) == severity


def test_alertmanager_parse_bounds_a_long_group_key_to_255():
    body = alertmanager_webhook()
    body["groupKey"] = "{}:{" + "a" * 1000 + "}"
    notification, _ = alertmanager.parse(body)
    assert len(notification.events[0].dedup_key) <= 255


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"version": "3"}, "'version' must be \"4\" (got '3')"),
        ({"alerts": []}, "'alerts' must be a non-empty array"),
        ({"alerts": "x"}, "'alerts' must be a non-empty array"),
        ({"groupKey": None}, "'groupKey' is missing or blank"),
        ({"truncatedAlerts": -1}, "'truncatedAlerts' must be a whole number of 0 or more"),
        ({"commonLabels": {"a": 1}}, "'commonLabels.a' must be a string"),
    ],
)
def test_alertmanager_parse_refuses_bad_notifications(change, error):
    body = alertmanager_webhook()
    for name, value in change.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    notification, errors = alertmanager.parse(body)
    assert notification is None and error in errors


def test_alertmanager_parse_one_bad_alert_refuses_the_whole_notification():
    body = alertmanager_webhook()
    body["alerts"].append({**body["alerts"][0], "status": "sleeping"})
    body["alerts"].append({**body["alerts"][0], "labels": {"alertname": "nul\x00"}})
    notification, errors = alertmanager.parse(body)
    assert notification is None
    assert errors == [
        "'alerts[1].status' must be firing or resolved",
        "'alerts[2].labels' contains control characters",
    ]


def test_generic_parse_json_body():
    event, errors = generic.parse(
        {
            "summary": "Backup failed on db1",
            "details": {"log": "disk full\nretrying"},
            "dedup": "backup-db1",
            "severity": "warning",
            "source": "db1",
            "component": "Checkout",
            "labels": {"region": "eu"},
        }
    )
    assert errors == []
    assert (event.action, event.dedup_key, event.severity) == ("trigger", "backup-db1", "warning")
    assert event.labels == {"region": "eu", "source": "db1", "component": "Checkout"}
    assert event.details == {"log": "disk full\nretrying"}


def test_generic_parse_query_form_close_resolves_the_alert_its_summary_opened():
    opened, _ = generic.parse({"summary": "Backup failed", "details": "exit 3"}, from_query=True)
    closed, _ = generic.parse({"summary": "Backup failed", "action": "close"}, from_query=True)
    assert (opened.action, closed.action) == ("trigger", "resolve")
    assert opened.dedup_key == closed.dedup_key == generic.derived_dedup_key("Backup failed")
    assert opened.details == {"text": "exit 3"}
    assert opened.severity == "error"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"summary": "x", "sumary": "typo"},
            "Unknown fields: sumary (known: summary, details, dedup, action, severity, source, component, labels)",
        ),
        (
            {"action": "explode", "summary": "x"},
            "'action' must be one of trigger, acknowledge, resolve or close",
        ),
        ({"details": "x"}, "'summary' is missing or blank"),
        ({"action": "close"}, "'dedup' or 'summary' is needed to say which alert to acknowledge or resolve"),
        ({"summary": "x", "severity": "P0"}, "'severity' must be one of critical, error, warning or info"),
        ({"summary": "x", "labels": {"a": 1}}, "'labels.a' must be a string"),
        ({"summary": "x", "labels": ["a"]}, "'labels' must be an object of strings"),
        ({"summary": "x", "details": 5}, "'details' must be text or an object"),
        ({"summary": "x", "details": "d" * 10_001}, "'details' is longer than 10000 characters"),
        ({"summary": "x", "dedup": "a\tb"}, "'dedup' contains control characters"),
    ],
)
def test_generic_parse_refuses_bad_bodies(body, error):
    event, errors = generic.parse(body)
    assert event is None and error in errors


def test_checks_bounded_key_hashes_only_what_is_too_long():
    assert checks.bounded_key("short") == "short"
    long_key = checks.bounded_key("x" * 300)
    assert len(long_key) <= 255 and long_key == checks.bounded_key("x" * 300)


def test_heartbeat_schedule_period_and_grace():
    ping = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    at = heartbeat_schedule.alert_at(
        last_ping=ping, period=timedelta(hours=1), grace=timedelta(minutes=5), cron="", time_zone="UTC"
    )
    assert at == datetime(2026, 12, 3, 11, 5, tzinfo=UTC)


def test_heartbeat_schedule_cron_in_a_zone_across_the_spring_dst_change():
    # A nightly job at 02:30 New York time: 8 March 2026 has no 02:30 (clocks jump 02:00 → 03:00), so cron
    # runs it at 03:00 local, and the next nights at 02:30 EDT (06:30 UTC, not 07:30 as in winter).
    zone = ZoneInfo("America/New_York")
    ping = datetime(2026, 3, 7, 2, 31, tzinfo=zone)
    grace = timedelta(minutes=10)
    first = heartbeat_schedule.alert_at(
        last_ping=ping, period=None, grace=grace, cron="30 2 * * *", time_zone="America/New_York"
    )
    assert first == datetime(2026, 3, 8, 3, 10, tzinfo=zone)
    second = heartbeat_schedule.alert_at(
        last_ping=first, period=None, grace=grace, cron="30 2 * * *", time_zone="America/New_York"
    )
    assert second.astimezone(UTC) == datetime(2026, 3, 9, 6, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "zone", "error"),
    [
        (
            "* * *",
            "UTC",
            "Give a cron expression of five fields: minute hour day-of-month month day-of-week.",
        ),
        ("61 * * * *", "UTC", "That cron expression is invalid: Bad minute."),
        ("0 0 30 2 *", "UTC", "That cron expression is invalid: Bad day-of-month."),
        ("0 0 * * *", "Mars/Olympus", "'Mars/Olympus' is not an IANA time zone name (e.g. Europe/Dublin)."),
    ],
)
def test_heartbeat_schedule_cron_errors(cron, zone, error):
    assert error in heartbeat_schedule.cron_errors(cron, zone)


WRONG_TYPES = [[], {}, 1, 1.5, True, "", "x" * 5000, {"a": [1, {"b": None}]}]


def _every_field_swapped(body: dict):
    for name in body:
        for wrong in WRONG_TYPES:
            yield {**body, name: wrong}
    for name, value in body.items():
        if isinstance(value, dict):
            for inner in value:
                for wrong in WRONG_TYPES:
                    yield {**body, name: {**value, inner: wrong}}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in value[0]:
                for wrong in WRONG_TYPES:
                    yield {**body, name: [{**value[0], inner: wrong}]}


def test_parsers_never_raise_on_wrong_types_and_never_half_accept():
    cases = [
        (pagerduty.parse, pagerduty_example("trigger")),
        (alertmanager.parse, alertmanager_webhook()),
        (generic.parse, {"summary": "x", "details": {"a": 1}, "labels": {"a": "b"}, "dedup": "d"}),
    ]
    for parse, body in cases:
        for variant in _every_field_swapped(body):
            result, errors = parse(variant)
            assert (result is None) == bool(errors), variant


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "routing_key": st.text(max_size=40) | _json_values,
            "event_action": st.sampled_from(["trigger", "acknowledge", "resolve"]) | _json_values,
            "dedup_key": _json_values,
            "payload": st.fixed_dictionaries(
                {},
                optional={
                    name: _json_values
                    for name in ("summary", "source", "severity", "timestamp", "custom_details")
                },
            )
            | _json_values,
            "links": _json_values,
            "images": _json_values,
        },
    )
)
def test_pagerduty_parse_any_json_gives_an_event_or_reasons(body):
    event, errors = pagerduty.parse(body)
    assert (event is None) == bool(errors)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(generic.FIELDS), _json_values, max_size=8) | _json_values)
def test_generic_parse_any_json_gives_an_event_or_reasons(body):
    event, errors = generic.parse(body)
    assert (event is None) == bool(errors)
    if event is not None:
        assert len(event.dedup_key) <= 255 and len(event.summary) <= 1024


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_alertmanager_parse_any_alert_gives_events_or_reasons(alert):
    body = alertmanager_webhook()
    body["alerts"] = [alert]
    notification, errors = alertmanager.parse(body)
    assert (notification is None) == bool(errors)
