"""Prometheus Alertmanager's webhook (payload version "4"): one InboundEvent per alert, tracked by its
fingerprint within the notification's group. Pure: no Django."""

from __future__ import annotations

from dataclasses import dataclass

from oncall.alert_lifecycle import RESOLVE, TRIGGER
from oncall.events import InboundEvent
from oncall.payloads import checks
from oncall.payloads.checks import Errors

MAX_BODY_BYTES = 512 * 1024  # as the PagerDuty door; Alertmanager's max_alerts keeps real bodies far below
ALERTS_MAX = 1000
SUPPORTED_VERSIONS = ("4",)
# Alertmanager's words for an alert's state (its own, not our alert group lifecycle's).
FIRING, RESOLVED = "firing", "resolved"
ALERT_STATES = {FIRING: TRIGGER, RESOLVED: RESOLVE}

# labels.severity in the words people use, onto PagerDuty's four. Anything else (or none) is "error":
# Alertmanager's own default severity for pagerduty_configs, so an alert arrives with the same severity
# through either door.
SEVERITY_WORDS = {
    "critical": "critical",
    "crit": "critical",
    "page": "critical",
    "fatal": "critical",
    "emergency": "critical",
    "alert": "critical",
    "p0": "critical",
    "p1": "critical",
    "error": "error",
    "err": "error",
    "high": "error",
    "major": "error",
    "p2": "error",
    "warning": "warning",
    "warn": "warning",
    "medium": "warning",
    "minor": "warning",
    "p3": "warning",
    "info": "info",
    "informational": "info",
    "notice": "info",
    "low": "info",
    "none": "info",
    "debug": "info",
    "p4": "info",
}
DEFAULT_SEVERITY = "error"


@dataclass(frozen=True)
class Notification:
    events: list[InboundEvent]
    truncated_alerts: int  # alerts Alertmanager left out of this notification (its max_alerts)
    group_key: str


def severity_of(labels: dict) -> str:
    word = labels.get("severity")
    if not isinstance(word, str):
        return DEFAULT_SEVERITY
    return SEVERITY_WORDS.get(word.strip().lower(), DEFAULT_SEVERITY)


def _string_map(errors: Errors, name: str, value) -> dict[str, str]:
    """Labels and annotations: an object of strings (Alertmanager never sends anything else)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add(f"'{name}' must be an object")
        return {}
    for key, item in value.items():
        if not isinstance(item, str):
            errors.add(f"'{name}.{key}' must be a string")
            return {}
    checks.json_value(errors, name, value)
    return value


def _one_line(value) -> str:
    """A label reused as a one-line field (source, component), when it fits one; else nothing."""
    return checks.line(Errors(), "label", value) if isinstance(value, str) else ""


def _summary(labels: dict, annotations: dict) -> str:
    for name in ("summary", "description", "message"):
        if annotations.get(name, "").strip():
            return annotations[name]
    name = labels.get("alertname", "Alert")
    rest = ", ".join(f"{key}={value}" for key, value in sorted(labels.items()) if key != "alertname")
    return f"{name} ({rest})" if rest else name


def parse(body) -> tuple[Notification | None, list[str]]:
    if not isinstance(body, dict):
        return None, ["The body must be a JSON object"]
    errors = Errors()
    version = body.get("version")
    if version not in SUPPORTED_VERSIONS:
        errors.add(f"'version' must be \"4\" (got {str(version)[:20]!r})")
    group_key = checks.line(errors, "groupKey", body.get("groupKey"), max_length=10_000, required=True)
    external_url = checks.line(errors, "externalURL", body.get("externalURL"), max_length=checks.URL_MAX)
    receiver = checks.line(errors, "receiver", body.get("receiver"))
    truncated = body.get("truncatedAlerts", 0)
    if isinstance(truncated, bool) or not isinstance(truncated, int) or not 0 <= truncated <= 2**31:
        errors.add("'truncatedAlerts' must be a whole number of 0 or more")
        truncated = 0
    common_labels = _string_map(errors, "commonLabels", body.get("commonLabels"))
    group_labels = _string_map(errors, "groupLabels", body.get("groupLabels"))
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        errors.add("'alerts' must be a non-empty array")
        alerts = []
    elif len(alerts) > ALERTS_MAX:
        errors.add(f"'alerts' holds more than {ALERTS_MAX} alerts")
        alerts = []

    events = []
    for index, alert in enumerate(alerts):
        where = f"alerts[{index}]"
        if not isinstance(alert, dict):
            errors.add(f"'{where}' must be an object")
            continue
        status = alert.get("status")
        if not isinstance(status, str) or status not in ALERT_STATES:
            errors.add(f"'{where}.status' must be firing or resolved")
        labels = _string_map(errors, f"{where}.labels", alert.get("labels"))
        annotations = _string_map(errors, f"{where}.annotations", alert.get("annotations"))
        fingerprint = checks.line(errors, f"{where}.fingerprint", alert.get("fingerprint"), max_length=64)
        generator_url = checks.line(
            errors, f"{where}.generatorURL", alert.get("generatorURL"), max_length=checks.URL_MAX
        )
        starts_at = checks.line(errors, f"{where}.startsAt", alert.get("startsAt"), max_length=64)
        ends_at = checks.line(errors, f"{where}.endsAt", alert.get("endsAt"), max_length=64)
        if errors:
            continue
        merged = {**common_labels, **labels}
        # Alertmanager sends the zero time ("0001-01-01T00:00:00Z") for "not yet"; only a real instant counts.
        seen_at = checks.timestamp(Errors(), "startsAt", starts_at)
        summary = checks.summary_text(
            errors, f"{where}.summary", _summary(merged, annotations), required=True, truncate=True
        )
        links = [{"href": generator_url, "text": "Source"}] if generator_url else []
        if external_url:
            links.append({"href": external_url, "text": "Alertmanager"})
        # Without a fingerprint (a hand-written body) the alert is known by its labels.
        identity = fingerprint or ",".join(f"{key}={value}" for key, value in sorted(merged.items()))
        events.append(
            InboundEvent(
                action=ALERT_STATES[status],
                dedup_key=checks.bounded_key(f"{group_key}:{identity}"),
                summary=summary,
                source=_one_line(merged.get("instance")) or "Alertmanager",
                severity=severity_of(merged),
                component=_one_line(merged.get("component")),
                timestamp=seen_at,
                labels=checks.labels_from(merged),
                details={
                    "annotations": annotations,
                    "generatorURL": generator_url,
                    "startsAt": starts_at,
                    "endsAt": ends_at,
                    "fingerprint": fingerprint,
                },
                links=links,
                client="Alertmanager",
                client_url=external_url,
                raw={
                    "receiver": receiver,
                    "groupKey": group_key,
                    "groupLabels": group_labels,
                    "truncatedAlerts": truncated,
                    "alert": alert,
                },
            )
        )
    if errors:
        return None, list(errors)
    return Notification(events=events, truncated_alerts=truncated, group_key=group_key), []
