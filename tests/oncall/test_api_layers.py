"""Layers through API v1: add a rotation to a schedule and change it; scopes and problems for refusals."""

from __future__ import annotations

import pytest

from oncall.models import ScheduleLayer
from opsportal.core.models import AuditEntry

pytestmark = pytest.mark.django_db

LAYERS = "/api/v1/oncall/schedules/payments-primary/layers/"
FOLLOW_THE_SUN = {
    "name": "Dublin",
    "participants": ["ana", "rob"],
    "start": "2026-10-05",
    "time_zone": "Europe/Dublin",
    "turn_unit": "weeks",
    "handoff_time": "09:00",
    "restrictions": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.fixture
def write_token(rob, make_token):
    return make_token(rob, "oncall:write")


@pytest.fixture
def read_token(vera, make_token):
    return make_token(vera, "oncall:read")


def _toronto(schedule) -> ScheduleLayer:
    return schedule.layers.get(name="Toronto")


def test_layer_create_goes_on_top_and_is_audited(api, schedule, write_token):
    response = api.post(LAYERS, FOLLOW_THE_SUN, token=write_token)
    assert response.status_code == 201, response.content
    body = response.json()
    layer = ScheduleLayer.objects.get(pk=body["id"])
    assert body["position"] == _toronto(schedule).position + 1
    assert body["participants"] == ["ana", "rob"] and body["turn_count"] == 1
    assert body["restrictions"] == FOLLOW_THE_SUN["restrictions"]
    assert (layer.schedule_id, layer.time_zone) == (schedule.pk, "Europe/Dublin")
    assert AuditEntry.objects.filter(action="oncall.layer_created", object_id=str(layer.pk)).exists()
    detail = api.get("/api/v1/oncall/schedules/payments-primary/", token=write_token).json()
    assert [x["name"] for x in detail["layers"]] == ["Toronto", "Dublin"]


def test_layer_create_refusals(api, schedule, write_token, read_token):
    assert_problem(api.post(LAYERS, FOLLOW_THE_SUN, token=read_token), 403)
    assert_problem(api.post(LAYERS, FOLLOW_THE_SUN), 401)
    bad = {
        "time_zone": "Mars/Olympus",
        "participants": [],
        "turn_unit": "fortnights",
        "restrictions": [{"days": [0], "start": "nine"}],
    }
    for field, value in bad.items():
        body = assert_problem(api.post(LAYERS, {**FOLLOW_THE_SUN, field: value}, token=write_token), 400)
        assert field in body["errors"], body
    clash = assert_problem(api.post(LAYERS, {**FOLLOW_THE_SUN, "name": "Toronto"}, token=write_token), 400)
    assert "name" in clash["errors"]
    assert_problem(api.post(LAYERS, {**FOLLOW_THE_SUN, "participants": ["ghost"]}, token=write_token), 400)
    assert_problem(
        api.post(LAYERS.replace("payments-primary", "ghosts"), FOLLOW_THE_SUN, token=write_token), 404
    )
    assert schedule.layers.count() == 1


def test_layer_update_changes_only_what_is_sent(api, schedule, ana, write_token):
    layer = _toronto(schedule)
    response = api.patch(
        f"{LAYERS}{layer.pk}/", {"participants": ["ana"], "turn_count": 2}, token=write_token
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["participants"] == ["ana"] and body["turn_count"] == 2
    assert (body["turn_unit"], body["handoff_time"], body["name"]) == ("days", "09:00:00", "Toronto")
    layer.refresh_from_db()
    assert (layer.turn_count, layer.turn_unit) == (2, "days")
    event = AuditEntry.objects.get(action="oncall.layer_updated", object_id=str(layer.pk))
    assert event.before["participants"] == ["rob", "ana"] and event.after["participants"] == ["ana"]


def test_layer_update_refusals(api, schedule, team, write_token, read_token):
    layer = _toronto(schedule)
    url = f"{LAYERS}{layer.pk}/"
    assert_problem(api.patch(url, {"turn_count": 3}, token=read_token), 403)
    assert "turn_count" in assert_problem(api.patch(url, {"turn_count": 0}, token=write_token), 400)["errors"]
    assert (
        "time_zone"
        in assert_problem(api.patch(url, {"time_zone": "Nowhere"}, token=write_token), 400)["errors"]
    )
    assert_problem(api.patch(f"{LAYERS}999/", {"turn_count": 3}, token=write_token), 404)
    # a layer is reached only through its own schedule
    other = api.post(
        "/api/v1/oncall/schedules/",
        {"name": "Other", "slug": "other", "team": "payments"},
        token=write_token,
    )
    assert other.status_code == 201
    assert_problem(
        api.patch(f"/api/v1/oncall/schedules/other/layers/{layer.pk}/", {"turn_count": 3}, token=write_token),
        404,
    )
    layer.refresh_from_db()
    assert layer.turn_count == 1
