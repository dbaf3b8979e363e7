"""Escalation: policies with ordered levels and their targets, and the running state of each escalation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from opsportal.core.fields import BodyField, LineField
from opsportal.core.text import DESCRIPTION_MAX, NAME_MAX

# A policy may repeat many times (GoAlert stops at 5; teams asked for more), but not forever.
MAX_REPEATS = 1000
MAX_LEVEL_DELAY_MINUTES = 24 * 60


class EscalationPolicy(models.Model):
    team = models.ForeignKey("oncall.Team", on_delete=models.PROTECT, related_name="escalation_policies")
    name = LineField(max_length=NAME_MAX)
    description = BodyField(max_length=DESCRIPTION_MAX, blank=True)
    # After the last level, start again this many times, from level number `repeat_from` (1 = the first).
    repeat = models.PositiveIntegerField(default=0)
    repeat_from = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__name", "name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="policy_names_unique_per_team"),
            models.CheckConstraint(condition=models.Q(repeat__lte=MAX_REPEATS), name="policy_repeat_bounded"),
            models.CheckConstraint(
                condition=models.Q(repeat_from__gte=1), name="policy_repeat_from_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    """Notify this level's targets, then wait `delay_minutes` for an acknowledgement before the next.

    Conditions (all optional) decide whether the level pages at all for a given alert and instant:
    `severities` / `urgencies` it applies to, and a local-time window:
    {"zone": "target" | "region:EU" | "<IANA zone>", "days": [0..6], "start": "HH:MM", "end": "HH:MM",
     "when": "inside" | "outside"}; with zone "target" each target is judged in its own zone.
    """

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveIntegerField(default=0)
    delay_minutes = models.PositiveIntegerField(default=5)
    round_robin = models.BooleanField(default=False, help_text="Page one target per alert, in turn")
    round_robin_next = models.PositiveIntegerField(default=0)
    severities = models.JSONField(default=list, blank=True, help_text='e.g. ["P0", "P1"]; empty: all')
    urgencies = models.JSONField(default=list, blank=True, help_text='e.g. ["high"]; empty: all')
    time_condition = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["policy", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delay_minutes__gte=1, delay_minutes__lte=MAX_LEVEL_DELAY_MINUTES),
                name="level_delay_bounded",
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy}: level {self.position + 1}"


class TargetKind(models.TextChoices):
    USER = "user", "A person"
    SCHEDULE = "schedule", "Whoever is on call (primary)"
    SCHEDULE_SECONDARY = "schedule_secondary", "The next layer's person (secondary)"
    TEAM = "team", "Every member of a team"


class EscalationTarget(models.Model):
    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="targets")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=TargetKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    schedule = models.ForeignKey(
        "oncall.Schedule", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey("oncall.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["level", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind=TargetKind.USER, user__isnull=False)
                    | models.Q(
                        kind__in=[TargetKind.SCHEDULE, TargetKind.SCHEDULE_SECONDARY], schedule__isnull=False
                    )
                    | models.Q(kind=TargetKind.TEAM, team__isnull=False)
                ),
                name="target_names_what_it_targets",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_id or self.schedule_id or self.team_id}"


class Escalation(models.Model):
    """The running escalation of one alert group. Everything the engine needs is here, including a
    snapshot of the policy taken when it started, so edits to the policy do not change it.

    The tick claims rows whose `next_step_at` has come (SKIP LOCKED), runs one step and advances
    `next_step_at` in the same transaction as the outbox rows it writes: a step runs once, or not at all.
    """

    class Status(models.TextChoices):
        ACTIVE = "active"
        DONE = "done", "Every level and repeat ran"
        STOPPED = "stopped", "Acknowledged or resolved"

    group = models.OneToOneField("oncall.AlertGroup", on_delete=models.CASCADE, related_name="escalation")
    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snapshot = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    level_index = models.PositiveIntegerField(default=0, help_text="The level the next step runs")
    pass_number = models.PositiveIntegerField(
        default=0, help_text="0 on the first pass, 1 on the first repeat"
    )
    steps_taken = models.PositiveIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_step_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_step_at"])]

    def __str__(self) -> str:
        return f"escalation of #{self.group_id}: level {self.level_index + 1}, pass {self.pass_number + 1}"
