"""Hostile input on on-call: turn lengths, dates and spans out of range are refused with a 400; and one schedule
whose stored rows the engine cannot evaluate (saved before these bounds, or edited in the database) is reported,
while every other schedule is still answered — in the API, the portal board, calendar feeds and reminders."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from oncall import services, tasks
from oncall.models import PersonalFeed, Schedule, ScheduleLayer, ScheduleOverride
from opsportal.core.services import SYSTEM
from opsportal.notifications.models import Message

pytestmark = pytest.mark.django_db

ONCALL = "/api/v1/oncall/"
LAYERS = "/api/v1/oncall/schedules/payments-primary/layers/"
OVERRIDES = "/api/v1/oncall/schedules/payments-primary/overrides/"
FINAL = "/api/v1/oncall/schedules/payments-primary/final/"
AT = datetime(2026, 10, 20, 15, tzinfo=UTC)
# The fixture's Toronto daily layer hands over from ana to rob at 09:00 local on 21 October (13:00Z, EDT).
HANDOFF = datetime(2026, 10, 21, 13, tzinfo=UTC)
LAYER = {"name": "L", "participants": ["rob"], "start": "2026-10-05", "time_zone": "UTC"}


@pytest.fixture
def read_token(vera, make_token):
    return make_token(vera, "oncall:read")


@pytest.fixture
def write_token(rob, make_token):
    return make_token(rob, "oncall:write")


@pytest.mark.parametrize(
    "body",
    [
        {**LAYER, "turn_count": 5_000_000, "turn_unit": "days"},
        {**LAYER, "turn_count": 53, "turn_unit": "weeks"},
        {**LAYER, "turn_count": 10**30, "turn_unit": "hours"},
        {**LAYER, "start": "9999-12-31"},
        {**LAYER, "start": "0001-01-01"},
        {**LAYER, "position": 10**30},
        {**LAYER, "restrictions": [{"days": [0], "start": "09:00", "end": "17:00"}] * 51},
    ],
)
def test_layer_out_of_bounds_answers_400_and_adds_nothing(api, schedule, write_token, body):
    before = ScheduleLayer.objects.count()
    response = api.post(LAYERS, body, token=write_token)
    assert response.status_code == 400, response.content
    assert ScheduleLayer.objects.count() == before


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("9999-12-31T00:00:00Z", "9999-12-31T23:59:59Z"),
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"),
        ("2026-11-01T00:00:00Z", "2099-12-31T00:00:00Z"),  # decades of cover: a typo, not a plan
    ],
)
def test_override_out_of_bounds_answers_400(api, schedule, write_token, start, end):
    response = api.post(OVERRIDES, {"user": "rob", "start": start, "end": end}, token=write_token)
    assert response.status_code == 400, response.content
    assert not ScheduleOverride.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        {"at": "9999-12-31T23:59:59Z"},
        {"at": "0001-01-01T00:00:00Z"},
        {"schedule": "x" * 1000},
    ],
)
def test_oncall_query_out_of_range_answers_400(api, schedule, read_token, query):
    assert api.get(ONCALL, data=query, token=read_token).status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"start": "9999-12-30T00:00:00Z", "end": "9999-12-31T23:59:59Z"},
        {"start": "0001-01-01T00:00:00Z", "end": "0001-01-02T00:00:00Z"},
    ],
)
def test_final_schedule_out_of_range_answers_400(api, schedule, read_token, query):
    assert api.get(FINAL, data=query, token=read_token).status_code == 400


def test_service_refuses_a_turn_of_a_million_days(schedule, rob):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.layer_create(
            actor=SYSTEM,
            schedule=schedule,
            name="Forever",
            participants=[rob],
            turn_count=1_000_000,
            turn_unit="days",
            handoff_time=time(9),
            start=date(2026, 10, 1),
            time_zone="UTC",
        )
    assert "turn_count" in caught.value.message_dict


# One broken schedule among good ones.


@pytest.fixture
def broken(team, rob, schedule):
    """A second schedule whose layer was stored before the bounds: a turn of five million days."""
    bad = services.schedule_create(actor=SYSTEM, name="Legacy", slug="legacy", team=team)
    services.layer_create(
        actor=SYSTEM,
        schedule=bad,
        name="Forever",
        participants=[rob],
        turn_count=1,
        turn_unit="days",
        handoff_time=time(9),
        start=date(2026, 10, 1),
        time_zone="UTC",
    )
    ScheduleLayer.objects.filter(schedule=bad).update(turn_count=5_000_000)
    return bad


def test_api_oncall_answers_the_good_schedules_and_reports_the_broken_one(
    api, schedule, broken, read_token, caplog
):
    with caplog.at_level(logging.ERROR, logger="oncall.selectors"):
        response = api.get(ONCALL, data={"at": AT.isoformat()}, token=read_token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["schedule"] for row in body["results"]] == ["payments-primary"]
    assert body["results"][0]["person"] == "ana"
    assert [item["schedule"] for item in body["broken"]] == ["legacy"]
    assert "366 days" in body["broken"][0]["problem"]
    assert "legacy" in caplog.text


def test_api_final_schedule_of_the_broken_one_is_a_409_problem(api, broken, read_token):
    response = api.get(
        "/api/v1/oncall/schedules/legacy/final/",
        data={"start": "2026-10-20T00:00:00Z", "end": "2026-10-21T00:00:00Z"},
        token=read_token,
    )
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"


def test_portal_board_shows_good_schedules_and_names_the_broken_one(client_for, vera, schedule, broken):
    with time_machine.travel(AT, tick=False):
        response = client_for(vera).get("/portal/oncall/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Payments primary" in page
    assert "cannot be evaluated" in page and "Legacy" in page


def test_portal_page_of_the_broken_schedule_still_opens_to_be_fixed(client_for, vera, broken):
    response = client_for(vera).get("/portal/oncall/legacy/")
    assert response.status_code == 200
    assert "cannot be evaluated" in response.content.decode()


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "2026-13-45"])
def test_portal_schedule_page_with_a_date_out_of_range_answers_400(client_for, vera, schedule, start):
    response = client_for(vera).get(f"/portal/oncall/payments-primary/?view=month&start={start}")
    assert response.status_code == 400


def test_personal_calendar_keeps_the_shifts_of_good_schedules(client, schedule, broken, ana):
    feed = PersonalFeed.objects.create(user=ana)
    with time_machine.travel(AT, tick=False):
        response = client.get(f"/oncall/people/ana/{feed.token}.ics")
    assert response.status_code == 200
    assert b"Payments primary" in response.content


def test_calendar_of_the_broken_schedule_is_a_503_not_an_empty_calendar(client, broken):
    broken_row = Schedule.objects.get(slug="legacy")
    response = client.get(f"/oncall/legacy/{broken_row.ical_token}.ics")
    assert response.status_code == 503


def test_handoff_reminders_still_go_out_for_the_good_schedules(schedule, broken):
    with time_machine.travel(HANDOFF - timedelta(minutes=60), tick=False):
        tasks.send_handoff_reminders()
    assert Message.objects.filter(dedupe_key__startswith="handoff:payments-primary:rob:").exists()
