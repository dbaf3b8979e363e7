"""The rule-set tester's reading of a pasted sample: a PagerDuty Events v2 body, an Alertmanager webhook body
(its first alert) or generic JSON, turned into the fields routing rules match on.

A small reader of our own, for the tester only: the ingestion doors (oncall.ingest) were not on main when
this was written. When they land, the tester should call their parsers instead, so a sample is read exactly
as a real event would be."""

from __future__ import annotations

import json
from dataclasses import dataclass

from oncall import alert_lifecycle, routing

MAX_DEPTH = 20
LABEL_VALUE_MAX = 1024


@dataclass(frozen=True)
class Sample:
    shape: str  # "PagerDuty Events v2", "Alertmanager webhook", "generic JSON"
    severity: str
    summary: str
    fields: dict[str, str]


class SampleError(ValueError):
    pass


def _depth(value, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _text(value) -> str:
    return value[:LABEL_VALUE_MAX] if isinstance(value, str) else ""


def _scalar_labels(mapping) -> dict[str, str]:
    if not isinstance(mapping, dict):
        return {}
    return {
        str(key)[:100]: (str(value) if not isinstance(value, str) else value)[:LABEL_VALUE_MAX]
        for key, value in mapping.items()
        if isinstance(value, (str, int, float, bool))
    }


def _severity(value) -> str:
    value = _text(value).lower()
    return value if value in alert_lifecycle.SOURCE_SEVERITIES else "critical"


def read_sample(text: str) -> Sample:
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise SampleError(f"That is not JSON ({exc.msg} at line {exc.lineno}).") from None
    if not isinstance(body, dict):
        raise SampleError("Paste a JSON object.")
    if _depth(body) > MAX_DEPTH:
        raise SampleError(f"Nested more than {MAX_DEPTH} levels deep.")
    if isinstance(body.get("payload"), dict) and "event_action" in body:
        payload = body["payload"]
        severity = _severity(payload.get("severity"))
        summary = _text(payload.get("summary"))
        fields = routing.fields_of(
            severity=severity,
            source=_text(payload.get("source")),
            component=_text(payload.get("component")),
            summary=summary,
            group=_text(payload.get("group")),
            event_class=_text(payload.get("class")),
            labels=_scalar_labels(payload.get("custom_details")),
        )
        return Sample("PagerDuty Events v2", severity, summary, fields)
    if isinstance(body.get("alerts"), list):
        alerts = [a for a in body["alerts"] if isinstance(a, dict)]
        if not alerts:
            raise SampleError("The Alertmanager body has no alerts.")
        alert = alerts[0]
        labels = {**_scalar_labels(body.get("commonLabels")), **_scalar_labels(alert.get("labels"))}
        annotations = _scalar_labels(alert.get("annotations"))
        severity = _severity(labels.get("severity"))
        summary = annotations.get("summary") or annotations.get("description") or labels.get("alertname", "")
        fields = routing.fields_of(
            severity=severity,
            source=labels.get("instance", ""),
            component=labels.get("component", ""),
            summary=summary,
            group=labels.get("job", ""),
            event_class=labels.get("alertname", ""),
            labels=labels,
        )
        return Sample("Alertmanager webhook", severity, summary, fields)
    severity = _severity(body.get("severity"))
    summary = _text(body.get("summary") or body.get("title"))
    fields = routing.fields_of(
        severity=severity,
        source=_text(body.get("source")),
        component=_text(body.get("component")),
        summary=summary,
        labels=_scalar_labels(body.get("labels")),
    )
    return Sample("generic JSON", severity, summary, fields)
