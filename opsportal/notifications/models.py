"""Notifications: the transactional outbox. A Message is one notification (what the delivery log shows);
a Delivery is one outbox row per recipient and channel, written in the same transaction as the change."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WEBHOOK = "webhook", "Webhook"
    WEBSOCKET = "websocket", "In-app (WebSocket)"


class Message(models.Model):
    class Expansion(models.TextChoices):
        NONE = "", "Recipients written with the message"
        PENDING = "pending", "Expanding recipients"
        DONE = "done", "Recipients expanded"
        CANCELLED = "cancelled", "Cancelled before every recipient was expanded"

    kind = models.CharField(
        max_length=40, help_text="incident_update, component_status, maintenance_started, …"
    )
    dedupe_key = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True, help_text="Webhook body and SMS text, per channel")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Names of per-recipient values ("confirm_url") the bodies hold slots for; filled at send time, never stored.
    recipient_slots = models.JSONField(default=list, blank=True)

    # A message for a large audience is written alone in the change's transaction; its outbox rows are
    # written after commit, chunk by chunk, each chunk in one transaction with the cursor that follows it.
    audience = models.CharField(max_length=60, blank=True, help_text="A name in NOTIFICATION_AUDIENCES")
    audience_params = models.JSONField(default=dict, blank=True)
    expansion = models.CharField(max_length=16, choices=Expansion.choices, default=Expansion.NONE, blank=True)
    expansion_cursor = models.CharField(max_length=100, blank=True)
    expanded = models.PositiveIntegerField(default=0, help_text="Outbox rows written so far")
    expansion_claimed_by = models.CharField(max_length=200, blank=True)
    expansion_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["expansion", "expansion_claimed_at"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # waiting for its next attempt
        SENDING = "sending"  # claimed by a worker
        SENT = "sent"
        DEAD = "dead"  # permanent error, or out of attempts
        CANCELLED = "cancelled"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    address = models.CharField(max_length=500, help_text="Email address, E.164 phone, URL or user id")
    # Who this is for in the app that asked (e.g. "subscriber:12"); notifications knows no other models.
    recipient_ref = models.CharField(max_length=100, blank=True, db_index=True)
    # Never secrets or signed links: those are looked up when the row is sent (NOTIFICATIONS_RECIPIENT_CONTEXT).
    context = models.JSONField(default=dict, blank=True, help_text="Per-recipient extras, e.g. a portal URL")
    dedupe_key = models.CharField(max_length=300, unique=True)
    # Sent with webhooks so the receiver can drop a redelivery it has already processed.
    idempotency_key = models.UUIDField(default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="Renewed while the worker is at it")
    # "<node>/<pid>/<claim>": which worker holds the row, so a restarted worker can hand back its own.
    claimed_by = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["message", "status"]),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.channel} to {self.address} ({self.status})"
