"""Incidents: severity policies, incidents, roles, affected components, timeline, public updates, post-mortems."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from opsportal.core.fields import BodyField, LineField
from opsportal.core.text import BODY_MAX, DOCUMENT_MAX, NOTE_MAX, TIMELINE_MAX, TITLE_MAX
from opsportal.incidents.lifecycle import IncidentStatus
from opsportal.incidents.sla import IncidentTimes, SlaTargets


class Severity(models.TextChoices):
    P0 = "P0", "P0 · total outage"
    P1 = "P1", "P1 · major degradation"
    P2 = "P2", "P2 · partial impact"
    P3 = "P3", "P3 · minor"
    P4 = "P4", "P4 · cosmetic"


class SeverityPolicy(models.Model):
    """SLA targets for one severity. Admins edit these; clocks re-read them, so edits apply at once."""

    severity = models.CharField(max_length=2, choices=Severity.choices, unique=True)
    description = LineField(max_length=TITLE_MAX, blank=True)
    detect_minutes = models.PositiveIntegerField()
    respond_minutes = models.PositiveIntegerField()
    resolve_minutes = models.PositiveIntegerField()
    requires_commander = models.BooleanField(
        default=False, help_text="A commander must be assigned to leave triage"
    )
    requires_postmortem = models.BooleanField(
        default=False, help_text="A published post-mortem is needed to close"
    )

    class Meta:
        ordering = ["severity"]
        verbose_name_plural = "severity policies"

    def __str__(self) -> str:
        return self.severity

    @property
    def targets(self) -> SlaTargets:
        return SlaTargets(
            detect=timedelta(minutes=self.detect_minutes),
            respond=timedelta(minutes=self.respond_minutes),
            resolve=timedelta(minutes=self.resolve_minutes),
        )


class Incident(models.Model):
    title = LineField(max_length=TITLE_MAX, help_text="Internal title")
    summary = BodyField(max_length=NOTE_MAX, blank=True, help_text="Internal: what we know, for responders")
    public_title = LineField(max_length=TITLE_MAX, help_text="What merchants see on the status page")
    severity = models.CharField(max_length=2, choices=Severity.choices, default=Severity.P2)
    status = models.CharField(
        max_length=16,
        choices=[(s.value, s.label) for s in IncidentStatus],
        default=IncidentStatus.TRIAGE.value,
    )
    team = models.ForeignKey(
        "oncall.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    started_at = models.DateTimeField(default=timezone.now, help_text="When customer impact began")
    detected_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["started_at"]),
            # Every list's order, newest first: keyset pages read straight off it (issue 11).
            models.Index(fields=["-started_at", "-id"], name="incident_newest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"INC-{self.pk}"

    @property
    def times(self) -> IncidentTimes:
        return IncidentTimes(
            started_at=self.started_at,
            detected_at=self.detected_at,
            acknowledged_at=self.acknowledged_at,
            mitigated_at=self.mitigated_at,
            resolved_at=self.resolved_at,
        )


class IncidentRole(models.TextChoices):
    COMMANDER = "commander", "Incident commander"
    COMMS_LEAD = "comms_lead", "Comms lead"
    SCRIBE = "scribe", "Scribe"
    SME = "sme", "Subject-matter expert"


SINGLE_HOLDER_ROLES = (IncidentRole.COMMANDER, IncidentRole.COMMS_LEAD, IncidentRole.SCRIBE)


class RoleAssignment(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=16, choices=IncidentRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_roles"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    relieved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [
            # The database, not only the service, guarantees one active commander (comms lead, scribe).
            models.UniqueConstraint(
                fields=["incident", "role"],
                condition=Q(relieved_at__isnull=True) & Q(role__in=[r.value for r in SINGLE_HOLDER_ROLES]),
                name="one_active_holder_per_single_role",
            ),
            models.UniqueConstraint(
                fields=["incident", "role", "user"],
                condition=Q(relieved_at__isnull=True),
                name="no_duplicate_active_assignment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user} on INC-{self.incident_id}"


class AffectedComponent(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected_components")
    component = models.ForeignKey(
        "statuspage.Component", on_delete=models.CASCADE, related_name="incident_impacts"
    )
    impact = models.CharField(
        max_length=32, help_text="A component status: degraded_performance, partial_outage, …"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "component"], name="component_once_per_incident")
        ]

    def __str__(self) -> str:
        return f"{self.component} ({self.impact})"


class TimelineEvent(models.Model):
    """Append-only: services write one for every change, people add notes."""

    class Kind(models.TextChoices):
        DECLARED = "declared"
        STATUS = "status"
        SEVERITY = "severity"
        ROLE_ASSIGNED = "role_assigned"
        ROLE_RELIEVED = "role_relieved"
        COMPONENT = "component"
        PUBLIC_UPDATE = "public_update"
        NOTE = "note"
        SLA_WARNING = "sla_warning"
        SLA_BREACH = "sla_breach"
        MERGED = "merged"
        POSTMORTEM = "postmortem"
        ALERT = "alert", "Alert activity"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = LineField(max_length=150)
    body = BodyField(max_length=TIMELINE_MAX)
    data = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(default=False, help_text="Mirrors something the public can already see")
    pinned = models.BooleanField(default=False)
    # Makes once-only events (an SLA warning) once-only even when two checkers race.
    dedupe_key = models.CharField(max_length=120, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"])]

    def __str__(self) -> str:
        return f"INC-{self.incident_id} {self.kind} at {self.at:%H:%M:%S}"


class PublicUpdate(models.Model):
    """What the status page shows. Public surfaces read this table, never the timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="public_updates")
    status = models.CharField(max_length=16)  # Statuspage vocabulary
    body = BodyField(max_length=BODY_MAX)
    component_statuses = models.JSONField(default=list, blank=True)  # [{"component_id", "name", "status"}]
    created_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        # The status page's "last changed" reads the newest update off this (issue 11).
        indexes = [models.Index(fields=["-created_at", "-id"], name="public_update_newest_first")]

    def __str__(self) -> str:
        return f"INC-{self.incident_id} {self.status}: {self.body[:40]}"


class Postmortem(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published"

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    summary = BodyField(max_length=DOCUMENT_MAX, blank=True)
    customer_impact = BodyField(max_length=DOCUMENT_MAX, blank=True)
    timeline = BodyField(
        max_length=DOCUMENT_MAX, blank=True, help_text="Pre-filled from pinned timeline events"
    )
    root_cause = BodyField(max_length=DOCUMENT_MAX, blank=True)
    went_well = BodyField(max_length=DOCUMENT_MAX, blank=True)
    went_badly = BodyField(max_length=DOCUMENT_MAX, blank=True)
    public_summary = BodyField(
        max_length=DOCUMENT_MAX, blank=True, help_text="Shown on the public incident once published"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Post-mortem for INC-{self.incident_id} ({self.status})"


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done"

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="action_items")
    title = LineField(max_length=TITLE_MAX)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.title
