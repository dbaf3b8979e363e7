"""Core models: identity (staff profiles carrying the role permissions, partner organisations, API tokens),
the audit log, durable timers."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from opsportal.core.fields import BodyField, LineField
from opsportal.core.roles import Permission
from opsportal.core.time_zones import validate_time_zone


class StaffProfile(models.Model):
    """What the portal knows about a staff member beyond Django's user: where they live in time."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    phone_number = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +14165550100")

    class Meta:
        # Role capabilities. Groups named after roles hold these (see opsportal.core.roles).
        permissions = [(permission.codename, permission.description) for permission in Permission]

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone})"


class Partner(models.Model):
    """An organisation outside the staff (a payment processor, an app developer) that uses the API.

    Partners are their own principal: they hold tokens and contacts, read only the public view, and never
    hold a staff role. Each acts through one account of its own (named "partner:<slug>", with no password
    and no role), so what it owns and the audit log's actor stay ordinary user references."""

    name = LineField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner", editable=False
    )
    is_active = models.BooleanField(default=True, help_text="Off: every token of this partner stops at once")
    notes = BodyField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerContact(models.Model):
    """Someone at a partner to reach about their integration (token expiry, a disabled webhook)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    name = LineField(max_length=120)
    email = models.EmailField(max_length=254)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "email"], name="partner_contact_unique_email")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def hash_token(plaintext: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; a slow KDF would only slow every request.
    return hashlib.sha256(plaintext.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API: stored hashed, shown once, scoped, expiring. It belongs to a staff member
    (and acts with their role as it is at each request) or to a partner (and sees the public view)."""

    # The account that acts: the staff member, or the partner's own account.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    name = LineField(max_length=100, help_text="What uses this token, e.g. 'Acme payments monitor'")
    prefix = models.CharField(
        max_length=16, help_text="First characters, to recognise a token without storing it"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests per minute; empty means the site default"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table predates the move from the API app into core; keeping its name kept every token.
        db_table = "api_apitoken"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def holder(self) -> str:
        """Who the token speaks for, as the portal shows it."""
        return self.partner.name if self.partner_id else self.user.get_username()


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
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The log's one order, newest first: keyset pages read straight off it.
            models.Index(fields=["-at", "-id"], name="audit_newest_first"),
        ]
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
