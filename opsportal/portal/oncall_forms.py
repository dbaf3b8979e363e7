"""On-call forms for the portal: overrides, shift swaps and layers. They check shape; the on-call services decide
whether a person may be put on a schedule, whether a layer clashes, and who may accept a swap.

Times are typed in UTC (like maintenance windows), except a layer's handoff time and business hours, which are
local to the layer's own time zone: that is what keeps a 09:00 handoff at 09:00 across a DST change."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth import get_user_model

from oncall.alert_selectors import SEARCH_MAX
from oncall.models import Team, TurnUnit
from oncall.rotation import MAX_TURN_HOURS
from opsportal.core.bounds import MAX_POSITION
from opsportal.core.fields import DateFormField, LineFormField
from opsportal.core.text import NAME_MAX, TITLE_MAX
from opsportal.core.time_zones import validate_time_zone
from opsportal.portal.forms import PanelForm
from opsportal.portal.maintenance_forms import UTCDateTimeField

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class PersonField(forms.ModelChoiceField):
    """A staff member picked by username."""

    def __init__(self, **kwargs):
        queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        super().__init__(queryset=queryset, to_field_name="username", **kwargs)

    def label_from_instance(self, user) -> str:
        return user.username


class SpanForm(PanelForm):
    start = UTCDateTimeField(label="Starts (UTC)")
    end = UTCDateTimeField(label="Ends (UTC)")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", "It must end after it starts.")
        return data


class OverrideForm(SpanForm):
    id_prefix = "override"
    user = PersonField(label="Who covers")
    reason = LineFormField(max_length=TITLE_MAX, required=False)

    field_order = ["user", "start", "end", "reason"]


class SwapForm(SpanForm):
    id_prefix = "swap"
    counterpart = PersonField(label="Ask", help_text="They take the shift if they accept.")
    reason = LineFormField(max_length=TITLE_MAX, required=False)

    field_order = ["counterpart", "start", "end", "reason"]


class SwapDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("decline", "Decline"), ("cancel", "Cancel")])


class LayerForm(PanelForm):
    id_prefix = "layer"
    name = LineFormField(max_length=NAME_MAX)
    position = forms.IntegerField(
        min_value=0,
        max_value=MAX_POSITION,
        required=False,
        help_text="Higher wins where layers overlap. Empty: on top.",
    )
    participants = LineFormField(
        max_length=1000, help_text="Usernames in rotation order, separated by commas (e.g. rob, ana)."
    )
    turn_count = forms.IntegerField(min_value=1, max_value=MAX_TURN_HOURS, initial=1, label="Turn length")
    turn_unit = forms.ChoiceField(choices=TurnUnit.choices, initial=TurnUnit.WEEKS, label="Unit")
    handoff_time = forms.TimeField(
        initial=datetime.time(9, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Local time in the layer's zone.",
    )
    start = DateFormField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label="First turn on",
        help_text="Local date in the layer's zone.",
    )
    time_zone = LineFormField(
        max_length=64,
        initial="UTC",
        validators=[validate_time_zone],
        help_text="IANA name, e.g. Europe/Dublin.",
    )
    hours_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="On call only on",
    )
    hours_start = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="From"
    )
    hours_end = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="Until"
    )

    def clean_participants(self) -> list:
        names = [name.strip() for name in self.cleaned_data["participants"].split(",") if name.strip()]
        if not names:
            raise forms.ValidationError("Name at least one person.")
        users = get_user_model().objects.filter(username__in=names, is_active=True)
        by_name = {user.username: user for user in users}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise forms.ValidationError(f"No active staff member named {', '.join(unknown)}.")
        return [by_name[name] for name in names]

    def clean(self):
        data = super().clean()
        days, start, end = data.get("hours_days"), data.get("hours_start"), data.get("hours_end")
        given = [bool(days), start is not None, end is not None]
        if any(given) and not all(given):
            self.add_error(None, "For business hours give the days, the start and the end; or none of them.")
        data["restrictions"] = (
            [{"days": sorted(days), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}]
            if all(given)
            else []
        )
        return data


class BoardFilterForm(forms.Form):
    """The now board's filter: one team, or a schedule or team name."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), to_field_name="slug", required=False, empty_label="Every team"
    )
    q = LineFormField(
        max_length=SEARCH_MAX,
        required=False,
        label="Schedule or team name",
        widget=forms.SearchInput(attrs={"autocomplete": "off"}),
    )

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {"search": "", "team": ""}
        team = self.cleaned_data.get("team")
        return {"search": self.cleaned_data.get("q") or "", "team": team.slug if team else ""}
