"""Alerting: integrations (doors in), heartbeats, the events they store, routes, and alert groups."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from oncall import alert_lifecycle as lifecycle
from opsportal.core.fields import BodyField, LineField
from opsportal.core.models import validate_time_zone
from opsportal.core.text import DESCRIPTION_MAX, NAME_MAX, TITLE_MAX

# PagerDuty's limits, kept so a tool that pages PagerDuty pages us unchanged.
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024
SOURCE_MAX = 255


def new_integration_key() -> str:
    """32 lowercase hex characters, the shape of a PagerDuty integration (routing) key."""
    return secrets.token_hex(16)


class IntegrationKind(models.TextChoices):
    PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager webhook"
    GENERIC = "generic", "Generic webhook"
    HEARTBEAT = "heartbeat", "Heartbeat (dead man's switch)"


class Urgency(models.TextChoices):
    HIGH = lifecycle.HIGH, "High: page now"
    LOW = lifecycle.LOW, "Low: wait for the team's support hours"


class Integration(models.Model):
    """A door in for one team's monitoring. Whoever holds the key can raise alerts, so it is a secret."""

    team = models.ForeignKey("oncall.Team", on_delete=models.PROTECT, related_name="integrations")
    name = LineField(max_length=NAME_MAX)
    kind = models.CharField(max_length=16, choices=IntegrationKind.choices)
    key = LineField(max_length=64, unique=True, default=new_integration_key)
    enabled = models.BooleanField(default=True)
    # The default route: used when no routing rule matches.
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    urgency = models.CharField(max_length=4, choices=Urgency.choices, default=Urgency.HIGH)
    # PagerDuty's acknowledgement_timeout: an acknowledged group triggers again after this long. None: never.
    ack_timeout = models.DurationField(null=True, blank=True)
    declare_incident_for = models.JSONField(
        default=list, blank=True, help_text='Incident severities that declare an incident, e.g. ["P0"]'
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="integration_names_unique_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.team}: {self.name}"


class Heartbeat(models.Model):
    """A healthchecks-style dead man's switch on a heartbeat integration: expect a ping every `period`
    (or on a cron schedule), raise an alert when one is `grace` late or reports failure."""

    class Status(models.TextChoices):
        NEW = "new", "Waiting for the first ping"
        UP = "up"
        STARTED = "started", "Job running"
        LATE = "late", "Late: alert raised"
        FAILED = "failed", "Reported failure: alert raised"
        PAUSED = "paused"

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="heartbeat")
    period = models.DurationField(null=True, blank=True, help_text="Expected time between pings")
    grace = models.DurationField(help_text="How late a ping may be before the alert")
    cron = LineField(max_length=100, blank=True, help_text="Instead of a period: 'm h dom mon dow'")
    time_zone = LineField(max_length=64, default="UTC", validators=[validate_time_zone])
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    last_ping_at = models.DateTimeField(null=True, blank=True)
    last_start_at = models.DateTimeField(null=True, blank=True)
    last_exit_status = models.IntegerField(null=True, blank=True)
    # When the alert is raised if no good ping arrives first; the sweep reads this index.
    alert_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"heartbeat {self.integration.name} ({self.status})"


class AlertEvent(models.Model):
    """One accepted event, stored before its door answers. Raw bodies are kept bounded for the group page."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="events")
    received_at = models.DateTimeField(default=timezone.now)
    action = LineField(max_length=12)
    dedup_key = LineField(max_length=DEDUP_KEY_MAX)
    summary = LineField(max_length=SUMMARY_MAX, blank=True)
    severity = LineField(max_length=10, blank=True)
    source = LineField(max_length=SOURCE_MAX, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    group = models.ForeignKey(
        "oncall.AlertGroup", on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    # What processing did with it: "new group", "deduplicated", "resolved", "ignored: no open group", …
    # ("queued" while the intake has not applied it yet).
    outcome = LineField(max_length=80, blank=True)
    # The parsed event while it waits in the intake queue (oncall.intake); cleared once applied.
    pending = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["integration", "-received_at"]),
            models.Index(fields=["group", "received_at"]),
            # The intake's queue: only waiting events are in it, so it stays tiny however long the log grows.
            models.Index(fields=["id"], condition=models.Q(pending__isnull=False), name="alertevent_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.dedup_key} at {self.received_at:%H:%M:%S}"


class Route(models.Model):
    """A routing rule of an integration: the first rule whose conditions all hold picks the team, the
    escalation policy, the urgency and the severity mapping; none matching: the integration's defaults."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="routes")
    position = models.PositiveIntegerField(default=0)
    name = LineField(max_length=NAME_MAX)
    # [{"field": "severity" | "source" | "component" | "summary" | "labels.<name>", "op": "equals" |
    #   "not_equals" | "contains" | "matches" | "in" | "exists", "value": …}]; all must hold.
    conditions = models.JSONField(default=list, blank=True)
    team = models.ForeignKey("oncall.Team", on_delete=models.PROTECT, related_name="routes")
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    urgency = models.CharField(max_length=4, choices=Urgency.choices, default=Urgency.HIGH)
    # Source severity → incident severity, over alert_lifecycle.DEFAULT_SEVERITY_MAP.
    severity_map = models.JSONField(default=dict, blank=True)
    declare_incident = models.BooleanField(default=False, help_text="Declare an incident for P0/P1 groups")
    suppress = models.BooleanField(default=False, help_text="Record matching alerts but page nobody")

    class Meta:
        ordering = ["integration", "position", "id"]

    def __str__(self) -> str:
        return f"{self.integration.name} → {self.name}"


class AlertGroupStatus(models.TextChoices):
    TRIGGERED = lifecycle.TRIGGERED
    ACKNOWLEDGED = lifecycle.ACKNOWLEDGED
    RESOLVED = lifecycle.RESOLVED


class AlertGroup(models.Model):
    """Events with one dedup key on one integration, from trigger to resolve. Its id is the short code
    in SMS replies ("<id>a" acknowledges)."""

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="groups")
    dedup_key = LineField(max_length=DEDUP_KEY_MAX)
    status = LineField(max_length=12, choices=AlertGroupStatus.choices, default=AlertGroupStatus.TRIGGERED)
    summary = LineField(max_length=SUMMARY_MAX)
    source = LineField(max_length=SOURCE_MAX, blank=True)
    severity = LineField(max_length=10, default="critical", help_text="As the source said it")
    incident_severity = LineField(max_length=2, default="P2")
    urgency = models.CharField(max_length=4, choices=Urgency.choices, default=Urgency.HIGH)
    labels = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)
    component = models.ForeignKey(
        "statuspage.Component", on_delete=models.SET_NULL, null=True, blank=True, related_name="alert_groups"
    )
    team = models.ForeignKey("oncall.Team", on_delete=models.PROTECT, related_name="alert_groups")
    route = models.ForeignKey(Route, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Recorded, paging nobody: the component was under maintenance, or the route suppresses.
    suppressed = models.BooleanField(default=False)
    suppressed_reason = LineField(max_length=TITLE_MAX, blank=True)
    maintenance = models.ForeignKey(
        "changes.MaintenanceWindow", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurrences = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # An acknowledged (or snoozed) group triggers again at this instant; None: it stays acknowledged.
    retrigger_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_by_source = models.BooleanField(default=False)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="alert_groups"
    )
    is_drill = models.BooleanField(default=False)

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            # One open group per key: 1,000 racing triggers with one dedup key make one group.
            models.UniqueConstraint(
                fields=["integration", "dedup_key"],
                condition=~models.Q(status=lifecycle.RESOLVED),
                name="one_open_group_per_dedup_key",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-first_seen_at"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["integration", "dedup_key"]),
            models.Index(fields=["retrigger_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary[:60]} ({self.status})"

    @property
    def is_open(self) -> bool:
        return lifecycle.is_open(self.status)


class AlertLogEntry(models.Model):
    """The alert group's own timeline: triggered, repeated, routed, paged (who, how, delivered or not),
    acknowledged, escalated, resolved. Append-only."""

    class Kind(models.TextChoices):
        TRIGGERED = "triggered"
        REPEATED = "repeated"
        ROUTED = "routed"
        SUPPRESSED = "suppressed"
        ESCALATED = "escalated", "Escalation step"
        PAGED = "paged"
        RATE_LIMITED = "rate_limited", "Held by a rate limit"
        ACKNOWLEDGED = "acknowledged"
        SNOOZED = "snoozed"
        RETRIGGERED = "retriggered"
        RESOLVED = "resolved"
        ESCALATION_DONE = "escalation_done", "Escalation exhausted"
        INCIDENT = "incident", "Incident declared"
        NOTE = "note"

    group = models.ForeignKey(AlertGroup, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = LineField(max_length=150, blank=True, help_text="A person, 'source', 'system', 'sms', …")
    text = BodyField(max_length=DESCRIPTION_MAX, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["group", "at"])]

    def __str__(self) -> str:
        return f"#{self.group_id} {self.kind} at {self.at:%H:%M:%S}"
