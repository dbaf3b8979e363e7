"""Every API operation × every kind of principal: the answer's status, and that nothing internal (internal
titles, summaries, notes, post-mortem text, hidden components, staff names) reaches a partner or a principal
that was refused.

Operations are read from the URLconf, so a new endpoint is in this matrix the moment it is routed; a new
path parameter fails the test until it is given a value below. Every token was created while its holder
could have everything, and the role was changed afterwards: what a token may do is the holder's role *now*.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from oncall import alerting, contacts, integration_services
from oncall import escalation_services as policy_services
from oncall.events import InboundEvent
from oncall.models import Team
from opsportal.changes.services import maintenance_schedule
from opsportal.core.identity_services import api_token_create, partner_create
from opsportal.core.roles import Role
from opsportal.core.scopes import ALL_SCOPES, PARTNER_SCOPES
from opsportal.core.services import SYSTEM, staff_set_role
from opsportal.incidents import postmortems
from opsportal.incidents.services import incident_add_note, incident_declare, incident_post_update
from statuspage.models import Component, Subscriber
from tests.conftest import staff_create

pytestmark = pytest.mark.django_db

SECRET = "q7zx"  # every internal marker carries it, so one search finds any of them
STAFF = {
    "admin": (f"{SECRET}-alice", Role.ADMIN),
    "incident_commander": (f"{SECRET}-irene", Role.INCIDENT_COMMANDER),
    "responder": (f"{SECRET}-rob", Role.RESPONDER),
    "viewer": (f"{SECRET}-vera", Role.VIEWER),
    "role_removed": (f"{SECRET}-rita", None),
    "deactivated": (f"{SECRET}-dan", Role.RESPONDER),
}
PRINCIPALS = ["partner", *STAFF]
# Principals that must never see anything internal, whatever they call.
OUTSIDERS = {"partner", "role_removed", "deactivated"}
PUBLIC_DOCS = {"schema/", "docs/"}  # served to anyone, not a token operation

# Where a service (not the token gate) refuses a role for an action: (operation, principal).
SERVICE_REFUSALS: set[tuple[str, str]] = set()


def _api_operations() -> list[tuple[str, str, type]]:
    """(method, route, view class) for every routed /api/v1/ operation."""
    resolver = get_resolver()
    [api] = [p for p in resolver.url_patterns if isinstance(p, URLResolver) and p.namespace == "api"]
    operations = []
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if route in PUBLIC_DOCS:
            continue
        view = pattern.callback.view_class
        for method in ("get", "post", "patch", "put", "delete"):
            if hasattr(view, method):
                operations.append((method, route, view))
    return operations


OPERATIONS = _api_operations()


def test_the_matrix_covers_the_whole_api():
    # A sanity floor: if routing changes so that this finds nothing, the matrix would pass vacuously.
    assert len(OPERATIONS) >= 40
    assert {route for _, route, _ in OPERATIONS} >= {"incidents/", "status/incidents/", "subscribers/"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end: each test runs in a savepoint
    within it, and every call a test makes is rolled back too, so each test meets the same world."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _world()
        transaction.set_rollback(True)


def _world() -> dict:
    users = {}
    for key, (username, _) in STAFF.items():
        users[key] = staff_create(username, Role.ADMIN)
        users[key].first_name, users[key].last_name = f"{SECRET}First", f"{SECRET}Last"
        users[key].save()
    admin = users["admin"]
    tokens = {}
    for key, user in users.items():
        _, tokens[key] = api_token_create(actor=SYSTEM, user=user, name="matrix", scopes=list(ALL_SCOPES))
    for key, (_, role) in STAFF.items():
        staff_set_role(actor=SYSTEM, user=users[key], role=role)
    users["deactivated"].is_active = False
    users["deactivated"].save()
    partner = partner_create(actor=SYSTEM, name="Acme Payments", contacts=[("Ann", "ann@acme.example")])
    _, tokens["partner"] = api_token_create(
        actor=SYSTEM, partner=partner, name="matrix", scopes=list(PARTNER_SCOPES)
    )

    checkout = Component.objects.create(name="Checkout")
    hidden = Component.objects.create(name=f"{SECRET}-hidden-database", showcase=False)
    incident = incident_declare(
        actor=admin,
        title=f"{SECRET}-internal-title",
        public_title="Checkout is slow",
        summary=f"{SECRET}-summary",
        severity="P1",
        components=[(checkout, "degraded_performance"), (hidden, "major_outage")],
        commander=users["incident_commander"],
    )
    incident_add_note(actor=admin, incident=incident, body=f"{SECRET}-note")
    incident_post_update(
        actor=admin,
        incident=incident,
        status="identified",
        body="We found the cause and are fixing it.",
        component_statuses=[(checkout, "degraded_performance"), (hidden, "major_outage")],
    )
    postmortem = postmortems.postmortem_start(actor=admin, incident=incident)
    postmortems.postmortem_edit(actor=admin, postmortem=postmortem, root_cause=f"{SECRET}-root-cause")
    now = timezone.now()
    window = maintenance_schedule(
        actor=admin,
        title="Database upgrade",
        body="Checkout may pause for a minute.",
        components=[checkout, hidden],
        scheduled_for=now + timedelta(days=1),
        scheduled_until=now + timedelta(days=1, hours=1),
    )
    subscriber = Subscriber.objects.create(
        channel="email", address="ops@acme.example", owner=partner.account, confirmed_at=now
    )
    alerting_world = _alerting_world(admin)
    params = {
        **alerting_world,
        "incident_id": incident.pk,
        "window_id": window.pk,
        "component_id": checkout.pk,
        "subscriber_id": subscriber.pk,
        "slug": "follow-the-sun",
        "layer_id": 999_999,
        "swap_id": 999_999,
    }
    return {"tokens": tokens, "params": params}


def _alerting_world(admin) -> dict:
    """An integration with a route and a policy, a triggered alert group, and the admin's own contact method and
    rule (so for everyone else they do not exist)."""
    team = Team.objects.create(name="Payments", slug="payments")
    policy = policy_services.policy_create(actor=SYSTEM, team=team, name=f"{SECRET}-policy")
    policy_services.policy_set_levels(
        actor=SYSTEM, policy=policy, levels=[{"targets": [{"kind": "team", "team": team}]}]
    )
    integration = integration_services.integration_create(
        actor=SYSTEM, team=team, name=f"{SECRET}-integration", kind="pagerduty", escalation_policy=policy
    )
    route = integration_services.route_create(
        actor=SYSTEM, integration=integration, name="Critical", conditions=[], team=team
    )
    event = InboundEvent(action="trigger", dedup_key="disk", summary=f"{SECRET}-alert summary")
    (stored,) = alerting.alert_events_ingest(integration=integration, events=[event])
    method = contacts.contact_method_add(actor=admin, user=admin, kind="push")
    rule = contacts.notification_rule_add(actor=admin, user=admin, method=method, delay_minutes=0)
    return {
        "integration_id": integration.pk,
        "route_id": route.pk,
        "policy_id": policy.pk,
        "group_id": stored.group.pk,
        "contact_method_id": method.pk,
        "rule_id": rule.pk,
    }


def _path(route: str, params: dict) -> str:
    path = route
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        name = path[start + 1 : end].split(":")[-1]
        assert name in params, f"Give the matrix a value for the new path parameter {name!r}."
        path = path[:start] + str(params[name]) + path[end + 1 :]
    return f"/api/v1/{path}"


def _gate(principal: str, method: str, view) -> int | None:
    """What the token gate must answer (401 or 403), or None when the call must get past it."""
    if principal == "deactivated":
        return 401
    if principal == "role_removed":
        return 403
    writes = method != "get"
    area = getattr(view, "scope_area", None)
    if principal == "partner":
        if not getattr(view, "partner_access", False):
            return 403
        scope = f"{area}:{'write' if writes else 'read'}" if area else None
        return 403 if scope is not None and scope not in PARTNER_SCOPES else None
    if principal == "viewer" and writes:
        return 403
    return None


# Path parameters that name nothing in the world above: reads that pass the gate answer 404 for them (or 400
# when a required query parameter is checked first).
UNKNOWN_PARAMS = ("<slug:slug>", "<id:layer_id>", "<id:swap_id>")


def _read_statuses(principal: str, route: str) -> set[int]:
    if any(param in route for param in UNKNOWN_PARAMS):
        return {400, 404}
    if "<id:subscriber_id>" in route and principal != "partner":
        return {404}  # the subscription is the partner's: for anyone else it does not exist
    return {200}


@pytest.mark.parametrize(
    ("method", "route", "view"), OPERATIONS, ids=[f"{m.upper()} {r}" for m, r, _ in OPERATIONS]
)
def test_every_operation_answers_each_principal_by_its_current_authority(world, method, route, view):
    path = _path(route, world["params"])
    for principal in PRINCIPALS:
        client = Client()
        headers = {"Authorization": f"Bearer {world['tokens'][principal]}"}
        with transaction.atomic():
            # Each principal meets the same world: what one call changes is rolled back for the next.
            if method == "get":
                response = client.get(path, headers=headers)
            else:
                response = getattr(client, method)(
                    path, data=json.dumps({}), content_type="application/json", headers=headers
                )
            transaction.set_rollback(True)
        label = f"{principal}: {method.upper()} {path} -> {response.status_code} {response.content[:300]!r}"
        assert response.status_code < 500, label
        expected = _gate(principal, method, view)
        if expected is not None:
            assert response.status_code == expected, label
            assert response["Content-Type"] == "application/problem+json", label
        elif (f"{method} {route}", principal) in SERVICE_REFUSALS:
            assert response.status_code == 403, label
        elif method == "get":
            assert response.status_code in _read_statuses(principal, route), label
        else:
            assert response.status_code not in (401, 403), label
        if principal in OUTSIDERS or response.status_code in (401, 403):
            assert SECRET not in response.content.decode(errors="replace"), label
