"""The contract payloads (tests/reference) the ingestion tests read."""

from __future__ import annotations

import copy
import json
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


def reference(name: str) -> dict:
    return copy.deepcopy(json.loads((REFERENCE / name).read_text()))


def pagerduty_example(action: str, routing_key: str = "0123456789abcdef0123456789abcdef") -> dict:
    body = reference("pagerduty-events-v2-examples.json")[action]
    body["routing_key"] = routing_key
    return body


def alertmanager_webhook() -> dict:
    return reference("alertmanager-webhook.json")
