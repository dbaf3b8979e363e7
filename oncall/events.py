"""What every door in (PagerDuty Events v2, Alertmanager, generic, heartbeats) turns a request into.
Pure: no ORM, no framework. The doors check shape and bounds; oncall.alerting stores and applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from oncall.alert_lifecycle import EVENT_ACTIONS


@dataclass(frozen=True)
class InboundEvent:
    action: str  # alert_lifecycle.TRIGGER / ACKNOWLEDGE / RESOLVE
    dedup_key: str  # ≤ 255 characters, never empty (doors generate one for a trigger without)
    summary: str = ""  # ≤ 1024; required for a trigger
    source: str = ""
    severity: str = "critical"  # one of alert_lifecycle.SOURCE_SEVERITIES
    component: str = ""  # a status page component's name, when the source names one
    group: str = ""  # PagerDuty's payload.group (a logical grouping, e.g. "prod-datapipe")
    event_class: str = ""  # PagerDuty's payload.class
    timestamp: datetime | None = None  # when the source saw it (aware), if it said
    # Flat string labels the routing rules match on ("labels.<name>"): Alertmanager's labels, PagerDuty's
    # custom_details' scalar values, the generic webhook's labels.
    labels: dict[str, str] = field(default_factory=dict)
    details: dict = field(default_factory=dict)  # shown on the alert page, never routed on
    links: list[dict] = field(default_factory=list)  # [{"href": …, "text": …}]
    images: list[dict] = field(default_factory=list)
    client: str = ""
    client_url: str = ""
    raw: dict = field(default_factory=dict)  # the event as received (bounded by the door), for the log

    def __post_init__(self) -> None:
        if self.action not in EVENT_ACTIONS:
            raise ValueError(f"unknown action {self.action!r}")
        if not self.dedup_key:
            raise ValueError("an event needs a dedup key")
