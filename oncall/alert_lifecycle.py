"""Alert group lifecycle and the words every door maps onto it. Pure: no ORM, no framework."""

from __future__ import annotations

TRIGGERED, ACKNOWLEDGED, RESOLVED = "triggered", "acknowledged", "resolved"
ALERT_GROUP_STATES = (TRIGGERED, ACKNOWLEDGED, RESOLVED)

# What a person (or a source) may do to a group in each state. Snoozing is an acknowledgement with an end.
ALERT_GROUP_TRANSITIONS: dict[str, tuple[str, ...]] = {
    TRIGGERED: (ACKNOWLEDGED, RESOLVED),
    ACKNOWLEDGED: (TRIGGERED, ACKNOWLEDGED, RESOLVED),  # re-trigger after the ack timeout; re-ack extends
    RESOLVED: (),  # a new trigger with the same dedup key opens a new group, as in PagerDuty
}

# Event actions, in PagerDuty's words; every door translates its own into these.
TRIGGER, ACKNOWLEDGE, RESOLVE = "trigger", "acknowledge", "resolve"
EVENT_ACTIONS = (TRIGGER, ACKNOWLEDGE, RESOLVE)

# Source severities (PagerDuty's four) and the incident severity each maps to unless a route says otherwise.
SOURCE_SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_SEVERITY_MAP = {"critical": "P0", "error": "P1", "warning": "P2", "info": "P3"}

HIGH, LOW = "high", "low"
URGENCIES = (HIGH, LOW)


def group_can_move(current: str, requested: str) -> bool:
    return requested in ALERT_GROUP_TRANSITIONS[current]


def is_open(state: str) -> bool:
    return state != RESOLVED
