"""On-call: regions (follow-the-sun), teams and who belongs to them."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models

from opsportal.core.models import validate_time_zone


class Region(models.Model):
    code = models.CharField(max_length=8, unique=True, help_text="NA, EU, APAC")
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    business_day_start = models.TimeField(default=datetime.time(9, 0))
    business_day_end = models.TimeField(default=datetime.time(17, 0))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.code


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")

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
