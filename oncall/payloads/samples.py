"""A pasted sample payload, read by the same parser its door uses: which shape it is, and its first event."""

from __future__ import annotations

import json
from dataclasses import dataclass

from oncall.events import InboundEvent
from oncall.payloads import alertmanager, checks, generic, pagerduty

SAMPLE_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Sample:
    shape: str  # "PagerDuty Events v2", "Alertmanager webhook", "generic JSON"
    event: InboundEvent


class SampleError(ValueError):
    pass


def read_sample(text: str) -> Sample:
    if len(text.encode()) > SAMPLE_MAX_BYTES:
        raise SampleError(f"Paste at most {SAMPLE_MAX_BYTES // 1024} KB.")
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise SampleError(f"That is not JSON ({getattr(exc, 'msg', exc)}).") from None
    if not isinstance(body, dict):
        raise SampleError("Paste a JSON object.")
    errors = checks.Errors()
    checks.json_value(errors, "body", body)
    if errors:
        raise SampleError("; ".join(errors))
    if "event_action" in body or "routing_key" in body:
        event, problems = pagerduty.parse(body, new_dedup_key=lambda: "sample")
        shape = "PagerDuty Events v2"
    elif "alerts" in body:
        notification, problems = alertmanager.parse(body)
        event = notification.events[0] if notification and notification.events else None
        if notification is not None and not notification.events:
            problems = ["The Alertmanager body has no alerts."]
        shape = "Alertmanager webhook"
    else:
        event, problems = generic.parse(body)
        shape = "generic JSON"
    if problems or event is None:
        raise SampleError(f"As {shape}: " + "; ".join(problems or ["nothing to read"]))
    return Sample(shape, event)
