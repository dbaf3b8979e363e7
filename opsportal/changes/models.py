"""Changes: maintenance windows and their updates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.core.fields import BodyField, LineField
from opsportal.core.text import BODY_MAX, TITLE_MAX


class MaintenanceWindow(models.Model):
    title = LineField(max_length=TITLE_MAX)
    body = BodyField(max_length=BODY_MAX, help_text="What merchants should expect")
    components = models.ManyToManyField(
        "statuspage.Component", related_name="maintenance_windows", blank=True
    )
    scheduled_for = models.DateTimeField()
    scheduled_until = models.DateTimeField()
    status = models.CharField(
        max_length=16,
        choices=[(s.value, s.label) for s in MaintenanceStatus],
        default=MaintenanceStatus.SCHEDULED.value,
    )
    # Each component's status when the window started, restored when it completes.
    previous_statuses = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheduled_for", "id"]
        indexes = [models.Index(fields=["status", "scheduled_for"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.scheduled_for:%Y-%m-%d %H:%M})"


class MaintenanceUpdate(models.Model):
    window = models.ForeignKey(MaintenanceWindow, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16)
    body = BodyField(max_length=BODY_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.window_id} {self.status}"
