"""Status page components, their groups, and every status change (uptime is computed from these)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ComponentStatus(models.TextChoices):
    # Statuspage's five component statuses, same values, so the v2 JSON can use them as they are.
    OPERATIONAL = "operational", "Operational"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"


class ComponentGroup(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    position = models.PositiveIntegerField(default=0)
    showcase = models.BooleanField(default=True, help_text="Show on the public page")
    only_show_if_degraded = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True, help_text="Uptime is counted from this day")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group__position", "position", "name"]

    def __str__(self) -> str:
        return self.name


class ComponentStatusChange(models.Model):
    """The component entered `status` at `at` (and stayed until the next change)."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    previous_status = models.CharField(max_length=32, choices=ComponentStatus.choices, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["component", "at"]
        indexes = [models.Index(fields=["component", "at"])]

    def __str__(self) -> str:
        return f"{self.component}: {self.previous_status or '—'} → {self.status} at {self.at:%Y-%m-%d %H:%M}"
