"""Core models: staff profiles (which carry the role permissions), the audit log, durable timers."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Dublin).")


class StaffProfile(models.Model):
    """What the portal knows about a staff member beyond Django's user: where they live in time."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    phone_number = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +14165550100")

    class Meta:
        # Role capabilities. Groups named after roles hold these (see opsportal.core.roles).
        permissions = [
            ("access_portal", "Can use the staff portal (viewer)"),
            ("respond", "Can act on alerts and incidents (responder)"),
            ("command_incidents", "Can command incidents (incident commander)"),
            ("administer", "Can manage staff, tokens and settings (admin)"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone})"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditEntry(models.Model):
    """One state change: who did what to which object, with before/after. Never updated or deleted."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # PROTECT: a person with history is deactivated, not deleted, so the log keeps its actors.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="Username, token name or 'system' at the time")
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class ScheduledJob(models.Model):
    """A durable timer: run a task at a time. Lives in the database, so a restart loses nothing."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        CLAIMED = "claimed"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    task = models.CharField(max_length=200, help_text="Dotted path of a Celery task")
    kwargs = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    run_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # What the timer serves ("maintenance:12:remind"); the dedupe key adds the instant it serves, so moving
    # the instant schedules a new timer and cancels the old one instead of being taken for a duplicate.
    subject = models.CharField(max_length=160, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "run_at"])]

    def __str__(self) -> str:
        return f"{self.task} at {self.run_at:%Y-%m-%d %H:%M:%S} ({self.status})"
