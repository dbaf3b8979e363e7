"""How a responder is reached: verified contact methods, personal notification rules, the pages sent
to them, and the one-time links in those pages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from opsportal.core.fields import LineField
from opsportal.core.text import NAME_MAX


class ContactKind(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PUSH = "push", "In-app push"


class ContactMethod(models.Model):
    """An address a person has proved is theirs (a code sent to it); pages go only to verified ones."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=8, choices=ContactKind.choices)
    label = LineField(max_length=NAME_MAX, blank=True)
    address = LineField(max_length=254, help_text="Email address or E.164 phone; empty for push")
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_code_hash = LineField(max_length=64, blank=True)
    verification_expires_at = models.DateTimeField(null=True, blank=True)
    verification_attempts = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "address"], name="one_contact_method_per_address")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.address or self.user}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class NotificationRule(models.Model):
    """'Push now, SMS after 1 minute, email after 2': a step of a person's own rules. Every step of every
    rule for the alert's urgency is sent unless someone acknowledges first."""

    class ForUrgency(models.TextChoices):
        ANY = "any", "Any urgency"
        HIGH = "high", "High urgency"
        LOW = "low", "Low urgency"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_minutes = models.PositiveIntegerField(default=0)
    urgency = models.CharField(max_length=4, choices=ForUrgency.choices, default=ForUrgency.ANY)

    class Meta:
        ordering = ["user", "delay_minutes", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(delay_minutes__lte=240), name="rule_delay_bounded")
        ]

    def __str__(self) -> str:
        return f"{self.contact_method} after {self.delay_minutes} min"


class Page(models.Model):
    """One notification of one person about one alert group through one contact method, due at a time.
    Written by the escalation step that targets the person; sent by the tick when due, unless the group
    was acknowledged or resolved first."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        SENT = "sent", "Handed to the outbox"
        HELD = "held", "Held by the contact method's rate limit"
        SUMMARISED = "summarised", "Sent in a rate-limit summary"
        CANCELLED = "cancelled", "Cancelled: acknowledged or resolved first"
        FAILED = "failed", "No usable contact method"

    group = models.ForeignKey("oncall.AlertGroup", on_delete=models.CASCADE, related_name="pages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pages")
    contact_method = models.ForeignKey(
        ContactMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="pages"
    )
    # Which escalation step wrote it (steps_taken at the time) and at which level: the idempotency key.
    step = models.PositiveIntegerField(default=0)
    level = models.PositiveIntegerField(default=0)
    rule = models.ForeignKey(
        NotificationRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    delivery = models.ForeignKey(
        "notifications.Delivery", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    note = LineField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dedupe_key = LineField(max_length=200, unique=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["group", "due_at"]),
            models.Index(fields=["contact_method", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"page #{self.group_id} to {self.user} via {self.contact_method} ({self.status})"


class AckLink(models.Model):
    """A signed one-time link in an SMS or email page. Only a hash of the token is stored."""

    token_hash = LineField(max_length=64, unique=True)
    group = models.ForeignKey("oncall.AlertGroup", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_for = LineField(max_length=16, blank=True)

    def __str__(self) -> str:
        return f"link for #{self.group_id} to {self.user}"
