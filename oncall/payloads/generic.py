"""The generic webhook: a small documented JSON body, or the same fields in a query string for shell scripts
and cron (`?summary=…&details=…&dedup=…&action=close`). Pure: no Django.

    {"summary": "Backup failed on db1",            required for a trigger; ≤ 1024 characters
     "details": "text" | {…},                      shown on the alert page
     "dedup": "backup-db1",                        ≤ 255; default: derived from the summary
     "action": "trigger" | "acknowledge" | "resolve" | "close",   default trigger; close = resolve
     "severity": "critical" | "error" | "warning" | "info",        default error
     "source": "db1", "component": "Checkout",
     "labels": {"region": "eu"}}                   strings, for routing rules

Without a dedup key, the key is derived from the summary, so `?summary=Backup failed` followed later by
`?summary=Backup failed&action=close` opens and closes one alert."""

from __future__ import annotations

import hashlib

from oncall.alert_lifecycle import ACKNOWLEDGE, RESOLVE, SOURCE_SEVERITIES, TRIGGER
from oncall.events import InboundEvent
from oncall.payloads import checks
from oncall.payloads.checks import Errors

MAX_BODY_BYTES = 512 * 1024
DETAILS_TEXT_MAX = 10_000  # details given as text (the query-string form)
DEFAULT_SEVERITY = "error"
ACTIONS = {
    "trigger": TRIGGER,
    "acknowledge": ACKNOWLEDGE,
    "ack": ACKNOWLEDGE,
    "resolve": RESOLVE,
    "close": RESOLVE,
}
FIELDS = ("summary", "details", "dedup", "action", "severity", "source", "component", "labels")


def derived_dedup_key(summary: str) -> str:
    return "summary:" + hashlib.sha256(summary.encode()).hexdigest()[:40]


def parse(body, *, from_query: bool = False) -> tuple[InboundEvent | None, list[str]]:
    """`body`: the JSON object, or the query string's (and form's) fields as {name: value}."""
    if not isinstance(body, dict):
        return None, ["The body must be a JSON object"]
    errors = Errors()
    unknown = sorted(str(name)[:40] for name in body if name not in FIELDS)
    if unknown:
        errors.add(f"Unknown fields: {', '.join(unknown[:5])} (known: {', '.join(FIELDS)})")
    raw_action = body.get("action") or "trigger"
    action = ACTIONS.get(raw_action) if isinstance(raw_action, str) else None
    if action is None:
        errors.add("'action' must be one of trigger, acknowledge, resolve or close")
    is_trigger = action == TRIGGER
    summary = checks.summary_text(errors, "summary", body.get("summary"), required=is_trigger)
    dedup = checks.line(errors, "dedup", body.get("dedup"), max_length=checks.DEDUP_KEY_MAX)
    if not dedup and not summary and action in (ACKNOWLEDGE, RESOLVE):
        errors.add("'dedup' or 'summary' is needed to say which alert to acknowledge or resolve")
    severity = body.get("severity") or DEFAULT_SEVERITY
    if severity not in SOURCE_SEVERITIES:
        errors.add("'severity' must be one of critical, error, warning or info")
    source = checks.line(errors, "source", body.get("source"))
    component = checks.line(errors, "component", body.get("component"))
    details = body.get("details")
    if details is None or details == "":
        details = {}
    elif isinstance(details, str):
        if len(details) > DETAILS_TEXT_MAX:
            errors.add(f"'details' is longer than {DETAILS_TEXT_MAX} characters")
        details = {"text": details}
    elif not isinstance(details, dict):
        errors.add("'details' must be text or an object")
        details = {}
    checks.json_value(errors, "details", details)
    labels = body.get("labels")
    if labels is None:
        labels = {}
    elif from_query or not isinstance(labels, dict):
        errors.add("'labels' must be an object of strings")
        labels = {}
    else:
        for name, value in labels.items():
            if not isinstance(value, str):
                errors.add(f"'labels.{str(name)[:40]}' must be a string")
        checks.json_value(errors, "labels", labels)
        if len(labels) > checks.LABELS_MAX:
            errors.add(f"'labels' holds more than {checks.LABELS_MAX} entries")
    if errors:
        return None, list(errors)
    routed = checks.labels_from(labels)
    for name, value in (("source", source), ("component", component)):
        if value:
            routed[name] = value
    event = InboundEvent(
        action=action,
        dedup_key=dedup or derived_dedup_key(summary),
        summary=summary,
        source=source,
        severity=severity,
        component=component,
        labels=routed,
        details=details,
        raw=dict(body),
    )
    return event, []
