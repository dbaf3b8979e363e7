"""PagerDuty Events API v2 (`POST /v2/enqueue`): a request body into one InboundEvent, or PagerDuty's error
strings. Pure: no Django. The answers' shapes live here too so the door and its tests agree byte for byte."""

from __future__ import annotations

import re
import uuid

from oncall.alert_lifecycle import ACKNOWLEDGE, EVENT_ACTIONS, RESOLVE, SOURCE_SEVERITIES, TRIGGER
from oncall.events import InboundEvent
from oncall.payloads import checks
from oncall.payloads.checks import Errors

ROUTING_KEY_LENGTH = 32
MAX_BODY_BYTES = 512 * 1024  # PagerDuty's limit on an Events API payload

# PagerDuty's words, as its Events API answers them.
INVALID_STATUS = "invalid event"
INVALID_MESSAGE = "Event object is invalid"
INVALID_ROUTING_KEY = "Invalid routing key"

# Labels PagerDuty's own fields give the routing rules (they win over custom_details' entries of that name).
_FIELD_LABELS = ("source", "component", "group", "class")
# Alertmanager's pagerduty_configs sends its labels only as text inside custom_details.firing / .resolved:
# " - name = value" lines under "Labels:". Read back so routes match the same labels through either door.
_ALERTMANAGER_LABEL = re.compile(r"^ - ([A-Za-z_][A-Za-z0-9_]*) = (.*)$")


def accepted(dedup_key: str) -> dict:
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


def invalid(errors: list[str]) -> dict:
    return {"status": INVALID_STATUS, "message": INVALID_MESSAGE, "errors": list(errors)}


def routing_key_errors(value) -> list[str]:
    """What PagerDuty answers about a routing key before it looks it up."""
    if value is None or value == "":
        return ["'routing_key' is missing or blank"]
    if not isinstance(value, str):
        return ["'routing_key' must be a string"]
    errors = []
    if len(value) != ROUTING_KEY_LENGTH:
        errors.append(f"Length of 'routing_key' is incorrect (should be {ROUTING_KEY_LENGTH} characters)")
    if not value.isascii() or not value.isalnum():
        errors.append("'routing_key' cannot contain non-alphanumeric characters.")
    return errors


def _alertmanager_labels(custom_details: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for section in ("firing", "resolved"):
        text = custom_details.get(section)
        if not isinstance(text, str) or "Labels:" not in text:
            continue
        in_labels = False
        for row in text.splitlines():
            if row == "Labels:":
                in_labels = True
            elif in_labels and (match := _ALERTMANAGER_LABEL.match(row)):
                found.setdefault(match[1], match[2])
            else:
                in_labels = False
    return checks.labels_from(found)


def parse(body, *, new_dedup_key=lambda: uuid.uuid4().hex) -> tuple[InboundEvent | None, list[str]]:
    """The event an Events API v2 body describes, or (None, errors). The routing key is checked for shape here
    and looked up by the door. A trigger without a dedup_key gets a new one, as PagerDuty does."""
    if not isinstance(body, dict):
        return None, ["Event object must be a JSON object"]
    errors = Errors(routing_key_errors(body.get("routing_key")))
    action = body.get("event_action")
    if action is None or action == "":
        errors.add("'event_action' is missing or blank")
    elif action not in EVENT_ACTIONS:
        errors.add("'event_action' must be one of trigger, acknowledge or resolve")
    dedup_key = checks.line(errors, "dedup_key", body.get("dedup_key"), max_length=checks.DEDUP_KEY_MAX)
    if action in (ACKNOWLEDGE, RESOLVE) and body.get("dedup_key") in (None, ""):
        errors.add("'dedup_key' is missing or blank")

    payload = body.get("payload")
    is_trigger = action == TRIGGER
    if payload is None:
        payload = {}
        if is_trigger:
            errors.add("'payload' is missing or blank")
    elif not isinstance(payload, dict):
        errors.add("'payload' must be an object")
        payload = {}
    summary = checks.summary_text(errors, "payload.summary", payload.get("summary"), required=is_trigger)
    source = checks.line(errors, "payload.source", payload.get("source"), required=is_trigger)
    severity = payload.get("severity")
    if severity is None or severity == "":
        if is_trigger:
            errors.add("'payload.severity' is missing or blank")
        severity = "critical"
    elif severity not in SOURCE_SEVERITIES:
        errors.add("'payload.severity' must be one of critical, error, warning or info")
    at = checks.timestamp(errors, "payload.timestamp", payload.get("timestamp"))
    component = checks.line(errors, "payload.component", payload.get("component"))
    group = checks.line(errors, "payload.group", payload.get("group"))
    event_class = checks.line(errors, "payload.class", payload.get("class"))
    custom_details = payload.get("custom_details")
    if custom_details is not None and not isinstance(custom_details, dict):
        # PagerDuty takes any JSON here; a string is kept as it came, under "details".
        if isinstance(custom_details, str):
            custom_details = {"details": custom_details}
        else:
            errors.add("'payload.custom_details' must be an object")
            custom_details = {}
    custom_details = custom_details or {}
    checks.json_value(errors, "payload.custom_details", custom_details)
    links = checks.links(errors, "links", body.get("links"), url_key="href", text_keys=("text",))
    images = checks.links(errors, "images", body.get("images"), url_key="src", text_keys=("href", "alt"))
    client = checks.line(errors, "client", body.get("client"))
    client_url = checks.line(errors, "client_url", body.get("client_url"), max_length=checks.URL_MAX)
    if errors:
        return None, list(errors)

    labels = checks.labels_from(custom_details)
    if client == "Alertmanager":
        labels = {**labels, **_alertmanager_labels(custom_details)}
    for name, value in zip(_FIELD_LABELS, (source, component, group, event_class), strict=True):
        if value:
            labels[name] = value
    event = InboundEvent(
        action=action,
        dedup_key=dedup_key or new_dedup_key(),
        summary=summary,
        source=source,
        severity=severity,
        component=component,
        group=group,
        event_class=event_class,
        timestamp=at,
        labels=labels,
        details=custom_details,
        links=links,
        images=images,
        client=client,
        client_url=client_url,
        raw={key: value for key, value in body.items() if key != "routing_key"},  # the key is a secret
    )
    return event, []
