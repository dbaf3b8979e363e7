"""Escalation policy forms: the policy, one level (delay, round robin, conditions, local-time window), one
target, and the dry run. They check shape; oncall.escalation_services checks meaning (zones, windows,
membership). Choices are limited to the policy's own team (its members and schedules), never every user."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model

from oncall import alert_lifecycle
from oncall.alert_selectors import team_members, team_schedules
from oncall.models import EscalationPolicy, Schedule, TargetKind, Team
from oncall.models.escalation import MAX_LEVEL_DELAY_MINUTES, MAX_REPEATS
from opsportal.core.fields import BodyFormField, InstantFormField, LineFormField
from opsportal.core.text import DESCRIPTION_MAX, NAME_MAX
from opsportal.incidents.models import Severity
from opsportal.portal.forms import PanelForm

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
URGENCY_CHOICES = [(u, u.capitalize()) for u in alert_lifecycle.URGENCIES]
SEVERITY_CHOICES = [(s, s) for s in Severity.values]
MAX_LEVEL_NUMBER = 50
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PolicyForm(PanelForm):
    id_prefix = "policy"
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"))
    name = LineFormField(max_length=NAME_MAX)
    description = BodyFormField(
        max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    repeat = forms.IntegerField(
        min_value=0,
        max_value=MAX_REPEATS,
        initial=0,
        help_text="After the last level, start again this many times.",
    )
    repeat_from = forms.IntegerField(
        min_value=1, max_value=MAX_LEVEL_NUMBER, initial=1, label="Repeat from level"
    )

    def __init__(self, *args, policy: EscalationPolicy | None = None, **kwargs):
        if policy is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": policy.name,
                    "description": policy.description,
                    "repeat": policy.repeat,
                    "repeat_from": policy.repeat_from,
                },
            )
        super().__init__(*args, **kwargs)
        if policy is not None:
            del self.fields["team"]  # a policy stays with its team


class LevelForm(PanelForm):
    delay_minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_LEVEL_DELAY_MINUTES,
        initial=5,
        label="Wait (minutes)",
        help_text="for an acknowledgement before the next level",
    )
    round_robin = forms.BooleanField(required=False, label="Round robin (one target per alert, in turn)")
    severities = forms.MultipleChoiceField(
        choices=SEVERITY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only for severities",
    )
    urgencies = forms.MultipleChoiceField(
        choices=URGENCY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only for urgencies",
    )
    tc_zone = LineFormField(
        max_length=64,
        required=False,
        label="Time window zone",
        help_text="Empty: no time window. 'target' (each person's own zone), 'region:EU', or an IANA name.",
    )
    tc_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Days"
    )
    tc_start = forms.TimeField(required=False, widget=TIME_INPUT, input_formats=["%H:%M"], label="From")
    tc_end = forms.TimeField(required=False, widget=TIME_INPUT, input_formats=["%H:%M"], label="Until")
    tc_when = forms.ChoiceField(
        choices=[("inside", "Page inside the window"), ("outside", "Page outside the window")],
        required=False,
        initial="inside",
        label="When",
    )

    def __init__(self, *args, level=None, **kwargs):
        if level is not None:
            kwargs.setdefault("auto_id", f"level{level.pk}_%s")
            window = level.time_condition or {}
            kwargs.setdefault(
                "initial",
                {
                    "delay_minutes": level.delay_minutes,
                    "round_robin": level.round_robin,
                    "severities": level.severities,
                    "urgencies": level.urgencies,
                    "tc_zone": window.get("zone", ""),
                    "tc_days": window.get("days", []),
                    "tc_start": window.get("start"),
                    "tc_end": window.get("end"),
                    "tc_when": window.get("when", "inside"),
                },
            )
        else:
            kwargs.setdefault("auto_id", "newlevel_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        zone = (data.get("tc_zone") or "").strip()
        if not zone:
            data["time_condition"] = {}
            return data
        start, end = data.get("tc_start"), data.get("tc_end")
        if start is None or end is None:
            self.add_error(None, "A time window needs a start and an end (HH:MM).")
            return data
        data["time_condition"] = {
            "zone": zone,
            "days": sorted(data.get("tc_days") or range(7)),
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
            "when": data.get("tc_when") or "inside",
        }
        return data


class UsernameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        full = user.get_full_name()
        return f"{full} ({user.username})" if full else user.username


class TargetForm(PanelForm):
    kind = forms.ChoiceField(choices=TargetKind.choices, label="Page")
    user = UsernameChoiceField(
        queryset=get_user_model().objects.none(), required=False, to_field_name="username"
    )
    schedule = forms.ModelChoiceField(queryset=Schedule.objects.none(), required=False, to_field_name="slug")
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, to_field_name="slug"
    )

    def __init__(self, *args, policy: EscalationPolicy, level=None, **kwargs):
        kwargs.setdefault("auto_id", f"target{level.pk if level else 'new'}_%s")
        super().__init__(*args, **kwargs)
        # Only the policy's team: its members and its schedules (a team of 10, not a company of 10,000).
        self.fields["user"].queryset = team_members(policy.team)
        self.fields["schedule"].queryset = team_schedules(policy.team)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        needed = {
            TargetKind.USER: "user",
            TargetKind.SCHEDULE: "schedule",
            TargetKind.SCHEDULE_SECONDARY: "schedule",
            TargetKind.TEAM: "team",
        }.get(kind)
        if needed and not data.get(needed):
            self.add_error(needed, f"Choose the {needed} to page.")
        return data


class DryRunForm(forms.Form):
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, initial="P1")
    urgency = forms.ChoiceField(choices=URGENCY_CHOICES, initial=alert_lifecycle.HIGH)
    at = InstantFormField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="At (your time)",
        help_text="Empty: now.",
    )

    def __init__(self, *args, zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def instant(self, now: datetime) -> datetime:
        at = self.cleaned_data.get("at")
        if at is None:
            return now
        # The field made the typed wall clock aware in the server's zone; the person typed it in theirs.
        return datetime(at.year, at.month, at.day, at.hour, at.minute, tzinfo=ZoneInfo(self.zone))
