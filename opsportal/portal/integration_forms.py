"""Integration forms: a new integration, its settings, one routing rule (conditions written one per line),
and the rule-set tester's pasted payload. They check shape; oncall.integration_services checks meaning."""

from __future__ import annotations

from datetime import timedelta

from django import forms

from oncall import alert_lifecycle, heartbeat_schedule, routing
from oncall.alert_selectors import policies_for_choice, policies_of_team
from oncall.models import Integration, IntegrationKind, Route, Team
from opsportal.core.fields import BodyFormField, LineFormField
from opsportal.core.text import NAME_MAX
from opsportal.core.time_zones import validate_time_zone
from opsportal.incidents.models import Severity
from opsportal.portal.forms import PanelForm

URGENCY_CHOICES = [(u, u.capitalize()) for u in alert_lifecycle.URGENCIES]
SEVERITY_CHOICES = [(s, s) for s in Severity.values]
MAX_ACK_TIMEOUT_MINUTES = 7 * 24 * 60
CONDITIONS_MAX = 5000
SAMPLE_MAX = 64 * 1024  # a pasted sample; a real event body is far smaller


class PolicyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, policy) -> str:
        return f"{policy.team.name}: {policy.name}"


def _minutes(value: int | None) -> timedelta | None:
    return timedelta(minutes=value) if value else None


def _whole_minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)


class IntegrationForm(PanelForm):
    id_prefix = "integration"
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"))
    name = LineFormField(max_length=NAME_MAX, help_text="What sends, e.g. “Prometheus production”.")
    kind = forms.ChoiceField(choices=IntegrationKind.choices)
    escalation_policy = PolicyChoiceField(
        queryset=policies_for_choice(),
        required=False,
        label="Default escalation policy",
        help_text="One of the team's policies; used when no routing rule matches.",
    )
    urgency = forms.ChoiceField(choices=URGENCY_CHOICES, initial=alert_lifecycle.HIGH)
    ack_timeout_minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_ACK_TIMEOUT_MINUTES,
        required=False,
        label="Ack timeout (minutes)",
        help_text="An acknowledged alert triggers again after this long. Empty: never.",
    )
    declare_incident_for = forms.MultipleChoiceField(
        choices=SEVERITY_CHOICES[:2],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Declare an incident for",
    )
    # Bounds are oncall.heartbeat_schedule's, which heartbeats.heartbeat_configure checks.
    heartbeat_period_minutes = forms.IntegerField(
        min_value=_whole_minutes(heartbeat_schedule.PERIOD_MIN),
        max_value=_whole_minutes(heartbeat_schedule.PERIOD_MAX),
        required=False,
        label="Heartbeat: expect a ping every (minutes)",
    )
    heartbeat_grace_minutes = forms.IntegerField(
        min_value=_whole_minutes(heartbeat_schedule.GRACE_MIN),
        max_value=_whole_minutes(heartbeat_schedule.GRACE_MAX),
        required=False,
        label="Heartbeat: grace (minutes)",
    )
    heartbeat_cron = LineFormField(
        max_length=100,
        required=False,
        label="Heartbeat: or a cron schedule",
        help_text="Instead of a period, e.g. “30 2 * * *” for a job at 02:30 every night.",
    )
    heartbeat_time_zone = LineFormField(
        max_length=64,
        required=False,
        validators=[validate_time_zone],
        label="Heartbeat: the cron schedule's time zone",
        help_text="IANA name, e.g. Europe/Dublin. Empty: UTC.",
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "team": data["team"],
            "name": data["name"],
            "kind": data["kind"],
            "escalation_policy": data["escalation_policy"],
            "urgency": data["urgency"],
            "ack_timeout": _minutes(data["ack_timeout_minutes"]),
            "declare_incident_for": data["declare_incident_for"],
            "heartbeat_period": _minutes(data["heartbeat_period_minutes"]),
            "heartbeat_grace": _minutes(data["heartbeat_grace_minutes"]),
            "heartbeat_cron": data["heartbeat_cron"],
            "heartbeat_time_zone": data["heartbeat_time_zone"] or "UTC",
        }


class IntegrationEditForm(PanelForm):
    id_prefix = "settings"
    name = LineFormField(max_length=NAME_MAX)
    enabled = forms.BooleanField(required=False, help_text="A disabled integration refuses events.")
    escalation_policy = PolicyChoiceField(
        queryset=policies_for_choice(), required=False, label="Default policy"
    )
    urgency = forms.ChoiceField(choices=URGENCY_CHOICES)
    ack_timeout_minutes = forms.IntegerField(
        min_value=1, max_value=MAX_ACK_TIMEOUT_MINUTES, required=False, label="Ack timeout (minutes)"
    )
    declare_incident_for = forms.MultipleChoiceField(
        choices=SEVERITY_CHOICES[:2],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Declare an incident for",
    )

    def __init__(self, *args, integration: Integration, **kwargs):
        timeout = integration.ack_timeout
        kwargs.setdefault(
            "initial",
            {
                "name": integration.name,
                "enabled": integration.enabled,
                "escalation_policy": integration.escalation_policy_id,
                "urgency": integration.urgency,
                "ack_timeout_minutes": int(timeout.total_seconds() // 60) if timeout else None,
                "declare_incident_for": integration.declare_incident_for,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["escalation_policy"].queryset = policies_of_team(integration.team).select_related("team")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "enabled": data["enabled"],
            "escalation_policy": data["escalation_policy"],
            "urgency": data["urgency"],
            "ack_timeout": _minutes(data["ack_timeout_minutes"]),
            "declare_incident_for": data["declare_incident_for"],
        }


def parse_conditions(text: str) -> list[dict]:
    """One condition per line: `<field> <operator> [value]`, e.g. `labels.env equals prod`,
    `severity in critical, error`, `labels.team exists`. Raises ValidationError with the line's number."""
    conditions = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) < 2:
            raise forms.ValidationError(f"Line {number}: write <field> <operator> <value>.")
        field, op = parts[0], parts[1]
        value = parts[2].strip() if len(parts) == 3 else ""
        if op == "exists":
            conditions.append({"field": field, "op": op})
        elif op == "in":
            conditions.append(
                {"field": field, "op": op, "value": [v.strip() for v in value.split(",") if v.strip()]}
            )
        else:
            conditions.append({"field": field, "op": op, "value": value})
    problems = routing.condition_errors(conditions)
    if problems:
        raise forms.ValidationError(problems)
    return conditions


def conditions_text(conditions: list) -> str:
    lines = []
    for condition in conditions or []:
        value = condition.get("value")
        if isinstance(value, list):
            value = ", ".join(value)
        lines.append(
            " ".join(str(part) for part in (condition.get("field"), condition.get("op"), value or "") if part)
        )
    return "\n".join(lines)


def parse_severity_map(text: str) -> dict:
    """`critical=P0, error=P1`: source severity = incident severity, separated by commas."""
    mapping = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        source, sep, target = part.partition("=")
        source, target = source.strip(), target.strip()
        if not sep or source not in alert_lifecycle.SOURCE_SEVERITIES or target not in Severity.values:
            raise forms.ValidationError(
                f"Write source=target pairs: sources {', '.join(alert_lifecycle.SOURCE_SEVERITIES)}, "
                f"targets {', '.join(Severity.values)}."
            )
        mapping[source] = target
    return mapping


class RouteForm(PanelForm):
    name = LineFormField(max_length=NAME_MAX)
    conditions = BodyFormField(
        max_length=CONDITIONS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: <field> <operator> <value>. Fields: "
        + ", ".join(routing.FIELDS)
        + ", labels.<name>. Operators: "
        + ", ".join(routing.OPERATORS)
        + ". Empty: matches every alert.",
    )
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"))
    escalation_policy = PolicyChoiceField(queryset=policies_for_choice(), required=False, label="Policy")
    urgency = forms.ChoiceField(choices=URGENCY_CHOICES, initial=alert_lifecycle.HIGH)
    severity_map = LineFormField(
        max_length=200,
        required=False,
        label="Severity map",
        help_text="e.g. critical=P0, error=P1, warning=P3",
    )
    declare_incident = forms.BooleanField(required=False, help_text="Declare an incident for P0/P1 alerts")
    suppress = forms.BooleanField(required=False, help_text="Record matching alerts, page nobody")

    def __init__(self, *args, route: Route | None = None, **kwargs):
        kwargs.setdefault("auto_id", f"route{route.pk if route else 'new'}_%s")
        if route is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": route.name,
                    "conditions": conditions_text(route.conditions),
                    "team": route.team_id,
                    "escalation_policy": route.escalation_policy_id,
                    "urgency": route.urgency,
                    "severity_map": ", ".join(f"{k}={v}" for k, v in (route.severity_map or {}).items()),
                    "declare_incident": route.declare_incident,
                    "suppress": route.suppress,
                },
            )
        super().__init__(*args, **kwargs)

    def clean_conditions(self) -> list[dict]:
        return parse_conditions(self.cleaned_data["conditions"])

    def clean_severity_map(self) -> dict:
        return parse_severity_map(self.cleaned_data["severity_map"])

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "conditions": data["conditions"],
            "team": data["team"],
            "escalation_policy": data["escalation_policy"],
            "urgency": data["urgency"],
            "severity_map": data["severity_map"],
            "declare_incident": data["declare_incident"],
            "suppress": data["suppress"],
        }


class RuleTestForm(forms.Form):
    payload = BodyFormField(
        max_length=SAMPLE_MAX,
        widget=forms.Textarea(attrs={"rows": 8, "class": "payload", "spellcheck": "false"}),
        label="Sample payload",
        help_text="A PagerDuty Events v2 body, an Alertmanager webhook body, or generic JSON.",
    )
