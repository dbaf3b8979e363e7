"""On-call schedules: regions (follow-the-sun), teams, schedules with their layers, overrides and shift swaps."""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import models

from oncall import lifecycle
from opsportal.core.fields import BodyField, LineField
from opsportal.core.models import validate_time_zone
from opsportal.core.text import DESCRIPTION_MAX, NAME_MAX, TITLE_MAX


class Region(models.Model):
    code = LineField(max_length=8, unique=True, help_text="NA, EU, APAC")
    name = LineField(max_length=NAME_MAX)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    business_day_start = models.TimeField(default=datetime.time(9, 0))
    business_day_end = models.TimeField(default=datetime.time(17, 0))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.code


class Team(models.Model):
    name = LineField(max_length=NAME_MAX, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = BodyField(max_length=DESCRIPTION_MAX, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")
    # Low-urgency alerts wait for this region's business hours (Monday to Friday); none: they page at once.
    support_region = models.ForeignKey(
        "oncall.Region", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.region})"


def new_feed_token() -> str:
    """A secret for calendar feed URLs: whoever holds the URL can read the feed."""
    return secrets.token_urlsafe(24)


class Schedule(models.Model):
    name = LineField(max_length=NAME_MAX)
    slug = models.SlugField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="schedules")
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="How the portal shows it"
    )
    ical_token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TurnUnit(models.TextChoices):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


class ScheduleLayer(models.Model):
    """One rotation in a schedule. Where layers overlap the higher `position` wins."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = LineField(max_length=NAME_MAX)
    position = models.PositiveIntegerField(default=0)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="LayerParticipant", related_name="schedule_layers"
    )
    turn_count = models.PositiveIntegerField(default=1)
    turn_unit = models.CharField(max_length=8, choices=TurnUnit.choices, default=TurnUnit.WEEKS)
    handoff_time = models.TimeField(default=datetime.time(9, 0), help_text="Local time in the layer's zone")
    start = models.DateField(help_text="The first turn begins on this local date at the handoff time")
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    # [{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}, ...] in the layer's zone; empty: always.
    restrictions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["schedule", "position"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "position"], name="one_layer_per_position"),
            models.UniqueConstraint(fields=["schedule", "name"], name="layer_names_unique_per_schedule"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name}"


class LayerParticipant(models.Model):
    """A place in a layer's rotation order; one person may hold several places."""

    layer = models.ForeignKey(ScheduleLayer, on_delete=models.CASCADE, related_name="places")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["layer", "position"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "position"], name="one_participant_per_place")
        ]

    def __str__(self) -> str:
        return f"{self.user} at place {self.position} in {self.layer}"


class ScheduleOverride(models.Model):
    """`user` covers [start, end) whatever the layers say; a later override beats an earlier one."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = LineField(max_length=TITLE_MAX, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["schedule", "id"]
        indexes = [models.Index(fields=["schedule", "end"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="override_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} covers {self.schedule} {self.start:%Y-%m-%d %H:%M}Z"


class SwapStatus(models.TextChoices):
    # The values come from the lifecycle table, so the two can never disagree.
    PROPOSED = lifecycle.PROPOSED
    ACCEPTED = lifecycle.ACCEPTED
    DECLINED = lifecycle.DECLINED
    CANCELLED = lifecycle.CANCELLED


class ShiftSwap(models.Model):
    """`requester` asks `counterpart` to take [start, end); accepting adds an override for the counterpart."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="swaps")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    counterpart = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = LineField(max_length=TITLE_MAX, blank=True)
    status = models.CharField(max_length=10, choices=SwapStatus.choices, default=SwapStatus.PROPOSED)
    override = models.OneToOneField(
        ScheduleOverride, on_delete=models.SET_NULL, null=True, blank=True, related_name="swap"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"swap {self.pk}: {self.requester} -> {self.counterpart} ({self.status})"


class PersonalFeed(models.Model):
    """The secret in a person's own on-call calendar URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"
