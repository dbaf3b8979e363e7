"""Integration pages: the list per team, a new integration, and the integration page — its secret URLs with
copy-paste examples (curl, Alertmanager config, heartbeat pings), its last events, key rotation, the routing
rules editor and the rule-set tester. Thin: forms check shape, oncall.integration_services decides, and the
tester asks the router itself (oncall.routing) which rule a sample matches."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from oncall import alert_lifecycle, routing
from oncall import alert_selectors as selectors
from oncall import integration_services as services
from oncall.models import EscalationPolicy, Integration, IntegrationKind, Route, Team
from opsportal.core.exceptions import Conflict
from opsportal.core.forms import form_apply, refusal_text
from opsportal.core.roles import ADMINISTER, RESPOND
from opsportal.portal import integration_forms as f
from opsportal.portal.access import staff_required
from opsportal.portal.sample_payloads import SampleError, read_sample

# Where the doors listen (oncall's ingestion endpoints). One place, so the examples follow if they move.
PAGERDUTY_PATH = "/v2/enqueue"
ALERTMANAGER_PATH = "/hooks/alertmanager/{key}"
GENERIC_PATH = "/hooks/generic/{key}"
PING_PATH = "/ping/{key}"


def _list_context(request, form) -> dict:
    integrations = list(selectors.integrations())
    open_counts = selectors.open_groups_count_by_integration()
    teams: dict[int, dict] = {}
    for integration in integrations:
        integration.open_groups = open_counts.get(integration.pk, 0)
        teams.setdefault(integration.team_id, {"team": integration.team, "integrations": []})[
            "integrations"
        ].append(integration)
    return {"teams": list(teams.values()), "form": form, "may_act": request.user.has_perm(RESPOND)}


@staff_required()
def integration_list(request):
    return render(request, "portal/integrations/list.html", _list_context(request, f.IntegrationForm()))


@require_POST
@staff_required(RESPOND)
def integration_new(request):
    form = f.IntegrationForm(request.POST)
    integration, status = form_apply(
        form, lambda data: services.integration_create(actor=request.user, **form.service_kwargs())
    )
    if status == 200:
        messages.success(request, f"Integration {integration.name} created: point your monitoring at it.")
        return redirect("portal:integration_detail", integration_id=integration.pk)
    return render(request, "portal/integrations/list.html", _list_context(request, form), status=status)


# --- the integration page -----------------------------------------------------------------------------------------


def examples(integration: Integration, base: str) -> dict:
    """Copy-paste snippets for the integration's kind, with its real key and our public URL."""
    key = integration.key
    enqueue = base + PAGERDUTY_PATH
    pagerduty_body = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "disk-full-db-1",
        "payload": {
            "summary": "Disk 95% full on db-1",
            "source": "db-1",
            "severity": "critical",
            "component": "Checkout",
            "custom_details": {"env": "prod", "free_bytes": 1024},
        },
        "links": [{"href": "https://runbooks.example.com/disk-full", "text": "Runbook: disk full"}],
    }
    generic_url = base + GENERIC_PATH.format(key=key)
    out = {
        "urls": [],
        "curl_pagerduty": (
            f"curl -sS -X POST {enqueue} \\\n  -H 'Content-Type: application/json' \\\n"
            f"  -d '{json.dumps(pagerduty_body, indent=2)}'"
        ),
        "curl_pagerduty_resolve": (
            f"curl -sS -X POST {enqueue} -H 'Content-Type: application/json' \\\n"
            f"""  -d '{{"routing_key": "{key}", "event_action": "resolve", "dedup_key": "disk-full-db-1"}}'"""
        ),
        "curl_generic": (
            f"curl -sS -X POST {generic_url} \\\n  -H 'Content-Type: application/json' \\\n"
            """  -d '{"summary": "Backup job failed", "severity": "error", "dedup": "nightly-backup",\n"""
            """       "details": "exit code 3", "labels": {"env": "prod"}}'"""
        ),
        "curl_query": (
            f"curl -sS -X POST '{generic_url}?summary=Backup+failed&dedup=nightly-backup&details=exit+code+3'\n"
            f"curl -sS -X POST '{generic_url}?dedup=nightly-backup&action=close'"
        ),
        "alertmanager": (
            "receivers:\n"
            "  - name: opsportal\n"
            "    webhook_configs:\n"
            f"      - url: {base + ALERTMANAGER_PATH.format(key=key)}\n"
            "        send_resolved: true\n"
            "  # or, through Alertmanager's PagerDuty integration with our URL:\n"
            "  - name: opsportal-pagerduty\n"
            "    pagerduty_configs:\n"
            f"      - url: {enqueue}\n"
            f"        routing_key: {key}\n"
            "        send_resolved: true\n"
        ),
        "pings": [],
    }
    out["urls"] = [
        ("PagerDuty Events API v2", enqueue + f"  (routing_key {key})"),
        ("Alertmanager webhook", base + ALERTMANAGER_PATH.format(key=key)),
        ("Generic JSON / query string", generic_url),
    ]
    if integration.kind == IntegrationKind.HEARTBEAT:
        ping = base + PING_PATH.format(key=key)
        out["pings"] = [
            ("Success", ping),
            ("Job started", ping + "/start"),
            ("Job failed", ping + "/fail"),
            ("Exit code (0 is success)", ping + "/<exit code>"),
        ]
        out["curl_ping"] = (
            f"curl -fsS -m 10 --retry 5 {ping}/start\n./nightly-job.sh\ncurl -fsS -m 10 --retry 5 {ping}/$?"
        )
    return out


@dataclass(frozen=True)
class RuleOutcome:
    shape: str
    fields: dict
    route: Route | None
    route_number: int | None
    team: Team
    policy: EscalationPolicy | None
    urgency: str
    incident_severity: str
    declare: bool
    suppress: bool


def rule_outcome(integration: Integration, routes: list[Route], payload: str) -> RuleOutcome:
    """What the integration would do with this sample: the same first-match router and severity mapping
    the ingestion uses (oncall.alerting), without storing anything."""
    sample = read_sample(payload)
    route = routing.route_for(routes, sample.fields)
    severity_map = {**alert_lifecycle.DEFAULT_SEVERITY_MAP, **((route.severity_map if route else None) or {})}
    incident_severity = severity_map.get(sample.severity, "P2")
    declare = (route is not None and route.declare_incident) or (
        incident_severity in (integration.declare_incident_for or [])
    )
    return RuleOutcome(
        shape=sample.shape,
        fields=sample.fields,
        route=route,
        route_number=routes.index(route) + 1 if route else None,
        team=route.team if route else integration.team,
        policy=route.escalation_policy if route else integration.escalation_policy,
        urgency=route.urgency if route else integration.urgency,
        incident_severity=incident_severity,
        declare=declare and incident_severity in ("P0", "P1"),
        suppress=bool(route and route.suppress),
    )


def _route_rows(routes: list[Route], *, failed: Route | None = None, failed_form=None) -> list[dict]:
    return [
        {
            "number": n,
            "route": route,
            "form": failed_form if failed is not None and failed.pk == route.pk else f.RouteForm(route=route),
        }
        for n, route in enumerate(routes, start=1)
    ]


def _integration_context(request, integration: Integration, **overrides) -> dict:
    routes = selectors.routes_of(integration)
    may_act = request.user.has_perm(RESPOND)
    context = {
        "integration": integration,
        "may_act": may_act,
        "may_rotate": request.user.has_perm(ADMINISTER),
        # The key is a secret that raises alerts: responders (who wire up monitoring) see it, viewers do not.
        "examples": examples(integration, settings.PUBLIC_URL.rstrip("/")) if may_act else None,
        "events": selectors.last_events_of(integration),
        "routes": _route_rows(routes),
        "route_form": f.RouteForm(initial={"team": integration.team_id}),
        "settings_form": f.IntegrationEditForm(integration=integration),
        "test_form": f.RuleTestForm(),
        "outcome": None,
        "test_error": None,
    }
    context.update(overrides)
    return context


@staff_required()
def integration_detail(request, integration_id: int):
    integration = selectors.integration_or_404(integration_id)
    return render(request, "portal/integrations/detail.html", _integration_context(request, integration))


@require_POST
@staff_required(RESPOND)
def integration_edit(request, integration_id: int):
    integration = selectors.integration_or_404(integration_id)
    form = f.IntegrationEditForm(request.POST, integration=integration)
    _, status = form_apply(
        form,
        lambda data: services.integration_update(
            actor=request.user, integration=integration, **form.service_kwargs()
        ),
    )
    if status == 200:
        messages.success(request, "Integration saved.")
        return redirect("portal:integration_detail", integration_id=integration.pk)
    context = _integration_context(request, integration, settings_form=form)
    return render(request, "portal/integrations/detail.html", context, status=status)


@require_POST
@staff_required(ADMINISTER)
def integration_rotate(request, integration_id: int):
    integration = selectors.integration_or_404(integration_id)
    services.integration_rotate_key(actor=request.user, integration=integration)
    messages.success(request, "New key made: the old key no longer works. Update every sender.")
    return redirect("portal:integration_detail", integration_id=integration.pk)


# --- routing rules --------------------------------------------------------------------------------------------


def _routes_answer(request, integration: Integration, *, status: int = 200, **overrides):
    if status == 200 and not request.htmx:
        return redirect("portal:integration_detail", integration_id=integration.pk)
    integration = selectors.integration_or_404(integration.pk)
    failed, failed_form = overrides.pop("failed", None), overrides.pop("failed_form", None)
    context = _integration_context(request, integration, **overrides)
    if failed is not None:
        context["routes"] = _route_rows(
            selectors.routes_of(integration), failed=failed, failed_form=failed_form
        )
    template = "portal/integrations/_routes.html" if request.htmx else "portal/integrations/detail.html"
    return render(request, template, context, status=status)


@require_POST
@staff_required(RESPOND)
def route_new(request, integration_id: int):
    integration = selectors.integration_or_404(integration_id)
    form = f.RouteForm(request.POST)
    _, status = form_apply(
        form,
        lambda data: services.route_create(
            actor=request.user, integration=integration, **form.service_kwargs()
        ),
    )
    if status == 200:
        return _routes_answer(request, integration)
    return _routes_answer(request, integration, status=status, route_form=form)


@require_POST
@staff_required(RESPOND)
def route_edit(request, integration_id: int, route_id: int):
    integration = selectors.integration_or_404(integration_id)
    route = selectors.route_of_integration_or_404(integration, route_id)
    form = f.RouteForm(request.POST, route=route)
    _, status = form_apply(
        form, lambda data: services.route_update(actor=request.user, route=route, **form.service_kwargs())
    )
    if status == 200:
        return _routes_answer(request, integration)
    return _routes_answer(request, integration, status=status, failed=route, failed_form=form)


@require_POST
@staff_required(RESPOND)
def route_delete(request, integration_id: int, route_id: int):
    integration = selectors.integration_or_404(integration_id)
    route = selectors.route_of_integration_or_404(integration, route_id)
    services.route_delete(actor=request.user, route=route)
    return _routes_answer(request, integration)


@require_POST
@staff_required(RESPOND)
def route_move(request, integration_id: int, route_id: int):
    integration = selectors.integration_or_404(integration_id)
    route = selectors.route_of_integration_or_404(integration, route_id)
    try:
        services.route_move(actor=request.user, route=route, direction=request.POST.get("direction", ""))
    except (ValidationError, Conflict) as exc:
        return _routes_answer(request, integration, status=400, routes_error=refusal_text(exc))
    return _routes_answer(request, integration)


@require_POST
@staff_required()
def rule_test(request, integration_id: int):
    """Which rule a pasted sample matches and what it would do. Stores nothing: any viewer may ask."""
    integration = selectors.integration_or_404(integration_id)
    form = f.RuleTestForm(request.POST)
    outcome, error, status = None, None, 200
    if form.is_valid():
        try:
            outcome = rule_outcome(
                integration, selectors.routes_of(integration), form.cleaned_data["payload"]
            )
        except SampleError as exc:
            error, status = str(exc), 400
    else:
        status = 400
    context = _integration_context(request, integration, test_form=form, outcome=outcome, test_error=error)
    template = "portal/integrations/_rule_test.html" if request.htmx else "portal/integrations/detail.html"
    return render(request, template, context, status=status)
