"""Status page components, their groups, and every status change (uptime is computed from these)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from opsportal.core.fields import BodyField, LineField
from opsportal.core.text import DESCRIPTION_MAX, NAME_MAX


class ComponentStatus(models.TextChoices):
    # Statuspage's five component statuses, same values, so the v2 JSON can use them as they are.
    OPERATIONAL = "operational", "Operational"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"


class ComponentGroup(models.Model):
    name = LineField(max_length=NAME_MAX, unique=True)
    description = BodyField(max_length=DESCRIPTION_MAX, blank=True)
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
    name = LineField(max_length=NAME_MAX, unique=True)
    description = BodyField(max_length=DESCRIPTION_MAX, blank=True)
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


class SubscriberChannel(models.TextChoices):
    # Same values as opsportal.notifications.models.Channel, so a subscriber maps onto a Recipient as is.
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WEBHOOK = "webhook", "Webhook"


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Waiting for confirmation"
    ACTIVE = "active", "Active"
    QUARANTINED = "quarantined", "Quarantined (bouncing)"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class Subscriber(models.Model):
    """A merchant or partner who hears about incidents and maintenance. No components means everything.

    Rows are never deleted: unsubscribing stamps unsubscribed_at, and the same address may then subscribe
    again as a new row (only one active row per channel and address)."""

    channel = models.CharField(max_length=16, choices=SubscriberChannel.choices)
    address = LineField(max_length=500, help_text="Normalised email, E.164 phone, or webhook URL")
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriptions",
        help_text="The API partner who manages this subscription; empty for public sign-ups",
    )
    # Webhook bodies are signed with this (HMAC-SHA256); kept in clear because signing needs it.
    secret = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    quarantined_at = models.DateTimeField(null=True, blank=True)
    quarantine_reason = LineField(max_length=300, blank=True)
    # Set when deliveries resume after a quarantine: failures before it no longer count against the address.
    resumed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address"],
                condition=models.Q(unsubscribed_at__isnull=True),
                name="subscriber_one_active_per_address",
            )
        ]
        indexes = [
            models.Index(fields=["owner", "unsubscribed_at"]),
            # The portal's list order, newest first: keyset pages read straight off it (issue 11).
            models.Index(fields=["-created_at", "-id"], name="subscriber_newest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.address}"

    @property
    def status(self) -> str:
        if self.unsubscribed_at:
            return SubscriberStatus.UNSUBSCRIBED
        if self.quarantined_at:
            return SubscriberStatus.QUARANTINED
        if self.confirmed_at:
            return SubscriberStatus.ACTIVE
        return SubscriberStatus.PENDING

    def get_status_display(self) -> str:
        return SubscriberStatus(self.status).label
