"""Hostile bodies and parameters over the whole API: JSON nested thousands deep, bodies past the size limit,
NaN, and page numbers or sizes out of range answer a 4xx problem — never a 500 — on every operation."""

from __future__ import annotations

import json
import re
from datetime import date, time

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from oncall import services as oncall_services
from oncall.models import Team
from opsportal.changes.models import MaintenanceWindow
from opsportal.core.parsers import MAX_JSON_DEPTH
from opsportal.core.scopes import ALL_SCOPES
from opsportal.core.services import SYSTEM
from opsportal.incidents import services as incidents
from statuspage.models import Component

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


def _api_routes(patterns=None, prefix="") -> list[str]:
    """Every /api/v1/ route, with its path parameters filled in with ids and slugs the fixture creates."""
    routes = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            routes += _api_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            bare = route.replace("<int:", "").replace("<id:", "").replace("<slug:", "")
            if route.startswith("api/v1/") and "<" not in bare:
                filled = re.sub(r"<(?:int|id):[a-z_]+>", "1", route)
                routes.append("/" + re.sub(r"<slug:[a-z_]+>", "payments-primary", filled))
    return sorted(set(routes) - {"/api/v1/schema/", "/api/v1/docs/"})


ROUTES = _api_routes()


@pytest.fixture
def world(alice, rob):
    """One of everything the routes name, so each request reaches its body parser."""
    team = Team.objects.create(name="Payments", slug="payments")
    schedule = oncall_services.schedule_create(
        actor=SYSTEM, name="Payments primary", slug="payments-primary", team=team
    )
    oncall_services.layer_create(
        actor=SYSTEM,
        schedule=schedule,
        name="Toronto",
        participants=[rob],
        turn_count=1,
        turn_unit="days",
        handoff_time=time(9),
        start=date(2026, 10, 1),
        time_zone="America/Toronto",
    )
    Component.objects.create(name="Checkout")
    incidents.incident_declare(actor=alice, title="Checkout errors", severity="P2")
    return team


@pytest.fixture
def token(alice, make_token):
    return make_token(alice, ",".join(ALL_SCOPES))


def _send(method: str, path: str, body: str | bytes, token: str):
    client = Client(raise_request_exception=False)
    return getattr(client, method)(
        path, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


def test_the_route_walk_finds_the_write_operations():
    assert "/api/v1/incidents/1/updates/" in ROUTES
    assert "/api/v1/oncall/schedules/payments-primary/layers/" in ROUTES


@pytest.mark.parametrize("method", ["post", "patch", "put"])
@pytest.mark.parametrize("path", ROUTES)
def test_json_nested_thousands_deep_is_never_a_500(world, token, path, method):
    response = _send(method, path, DEEP, token)
    assert response.status_code < 500, (path, response.content[:300])
    if response.status_code >= 400:  # (actions without a body, like acknowledge, ignore it and succeed)
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/incidents/", "/api/v1/incidents/1/updates/", "/api/v1/maintenance/", "/api/v1/subscribers/"],
)
@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        json.dumps(
            {"title": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}
        ),
    ],
    ids=["deep", "just-past-the-limit"],
)
def test_deeply_nested_json_is_a_400_malformed_body(world, token, path, body):
    response = _send("post", path, body, token)
    assert response.status_code == 400
    assert response.json()["type"] == "urn:opsportal:problem:malformed-body"
    assert f"deeper than {MAX_JSON_DEPTH}" in response.json()["detail"]


def test_nesting_within_the_limit_still_parses(world, token):
    restrictions = [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}]
    response = _send(
        "post",
        "/api/v1/oncall/schedules/payments-primary/layers/",
        json.dumps(
            {
                "name": "Dublin",
                "participants": ["rob"],
                "start": "2026-10-05",
                "time_zone": "Europe/Dublin",
                "restrictions": restrictions,
            }
        ),
        token,
    )
    assert response.status_code == 201, response.content


def test_a_body_past_the_size_limit_is_a_413_and_changes_nothing(world, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    before = MaintenanceWindow.objects.count()
    body = json.dumps(
        {
            "title": "x",
            "body": "y" * 200_000,
            "scheduled_for": "2030-01-01T00:00:00Z",
            "scheduled_until": "2030-01-01T01:00:00Z",
        }
    )
    response = _send("post", "/api/v1/maintenance/", body, token)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert MaintenanceWindow.objects.count() == before


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_a_400(world, token, constant):
    body = '{"title": "x", "severity": "P2", "team": ' + constant + "}"
    assert _send("post", "/api/v1/incidents/", body, token).status_code == 400


LISTS = ["/api/v1/incidents/", "/api/v1/maintenance/", "/api/v1/subscribers/", "/api/v1/oncall/schedules/"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "query", ["page_size=-5", "page_size=0", "page_size=201", "page_size=1e9", f"page={10**30}", "page=0"]
)
def test_page_and_page_size_out_of_range_answer_400(world, api, token, path, query):
    response = api.get(f"{path}?{query}", token=token)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", LISTS)
def test_page_sizes_within_range_still_page(world, api, token, path):
    assert api.get(f"{path}?page_size=200&page=1", token=token).status_code == 200
    assert api.get(f"{path}?page=last", token=token).status_code == 200
