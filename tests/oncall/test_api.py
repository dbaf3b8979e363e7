"""On-call through API v1: who is on call, schedules, the final schedule, overrides and swaps; scopes and
problems for refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from oncall import rotation, selectors, services
from oncall.models import Schedule, ScheduleOverride
from opsportal.core.services import SYSTEM

pytestmark = pytest.mark.django_db

ONCALL = "/api/v1/oncall/"
SCHEDULES = ONCALL + "schedules/"
# Toronto daily layer from 2026-10-01 09:00 local (13:00Z in EDT): rob, ana, rob, ...
AT = datetime(2026, 10, 20, 15, tzinfo=UTC)  # turn 19: ana


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.fixture
def read_token(vera, make_token):
    return make_token(vera, "oncall:read")


@pytest.fixture
def write_token(rob, make_token):
    return make_token(rob, "oncall:write")


def test_oncall_at_instant_names_person_source_and_handoff(api, schedule, read_token):
    response = api.get(ONCALL, data={"at": "2026-10-20T11:00:00-04:00"}, token=read_token)
    assert response.status_code == 200, response.content
    (row,) = response.json()["results"]
    assert row["schedule"] == "payments-primary" and row["team"] == "payments"
    assert (row["person"], row["source"]) == ("ana", "Toronto")
    handoff = row["next_handoff"]
    assert handoff == {"at": "2026-10-21T13:00:00Z", "from_person": "ana", "to_person": "rob"}


def test_oncall_override_is_the_source(api, schedule, rob, read_token):
    services.override_create(actor=SYSTEM, schedule=schedule, user=rob, start=AT, end=AT + timedelta(hours=1))
    (row,) = api.get(ONCALL, data={"at": "2026-10-20T15:30:00Z"}, token=read_token).json()["results"]
    assert (row["person"], row["source"]) == ("rob", "override")
    assert row["next_handoff"] == {"at": "2026-10-20T16:00:00Z", "from_person": "rob", "to_person": "ana"}


def test_oncall_filters(api, schedule, team, read_token):
    services.schedule_create(actor=SYSTEM, name="Other", slug="other", team=team)
    both = api.get(ONCALL, data={"at": "2026-10-20T15:00:00Z"}, token=read_token).json()["results"]
    assert [r["schedule"] for r in both] == ["other", "payments-primary"]
    assert [r["person"] for r in both] == [None, "ana"]
    only = api.get(ONCALL, data={"at": "2026-10-20T15:00:00Z", "schedule": "other"}, token=read_token).json()
    assert [r["schedule"] for r in only["results"]] == ["other"]
    assert api.get(ONCALL, data={"team": "nope"}, token=read_token).json()["results"] == []
    assert len(api.get(ONCALL, data={"region": "EU"}, token=read_token).json()["results"]) == 2
    assert api.get(ONCALL, data={"region": "APAC"}, token=read_token).json()["results"] == []


def test_oncall_defaults_to_now_and_refuses_naive_times(api, schedule, read_token):
    assert api.get(ONCALL, token=read_token).status_code == 200
    body = assert_problem(api.get(ONCALL, data={"at": "2026-10-20T15:00:00"}, token=read_token), 400)
    assert "at" in body["errors"]
    assert_problem(api.get(ONCALL, data={"at": "yesterday"}, token=read_token), 400)


def test_oncall_needs_a_token_with_scope(api, schedule, vera, make_token):
    assert_problem(api.get(ONCALL), 401)
    assert_problem(api.get(ONCALL, token=make_token(vera, "incidents:read")), 403)


def test_oncall_query_count_is_constant(
    api, schedule, team, rob, ana, read_token, django_assert_max_num_queries
):
    for n in range(8):
        other = services.schedule_create(actor=SYSTEM, name=f"S{n}", slug=f"s{n}", team=team)
        services.layer_create(
            actor=SYSTEM,
            schedule=other,
            name="L",
            participants=[rob, ana],
            start=date(2026, 1, 1),
            time_zone="UTC",
        )
    # token lookup and scope checks, the page's count, then four for all the page's schedules
    with django_assert_max_num_queries(9):
        response = api.get(ONCALL, data={"at": "2026-10-20T15:00:00Z"}, token=read_token)
    assert len(response.json()["results"]) == 9
    with django_assert_max_num_queries(9):
        response = api.get(ONCALL, data={"at": "2026-10-20T15:00:00Z", "page_size": 4}, token=read_token)
    assert len(response.json()["results"]) == 4


def test_oncall_is_paginated_like_every_list(api, schedule, team, rob, ana, read_token):
    for n in range(4):
        other = services.schedule_create(actor=SYSTEM, name=f"S{n}", slug=f"s{n}", team=team)
        services.layer_create(
            actor=SYSTEM,
            schedule=other,
            name="L",
            participants=[rob],
            start=date(2026, 1, 1),
            time_zone="UTC",
        )
    query = {"at": "2026-10-20T15:00:00Z", "page_size": 2}
    first = api.get(ONCALL, data=query, token=read_token).json()
    assert first["count"] == 5 and first["previous"] is None and first["at"] == "2026-10-20T15:00:00Z"
    assert [row["schedule"] for row in first["results"]] == ["payments-primary", "s0"]
    last = api.get(ONCALL, data={**query, "page": 3}, token=read_token).json()
    assert [row["schedule"] for row in last["results"]] == ["s3"] and last["next"] is None
    assert last["results"][0]["person"] == "rob" and last["broken"] == []
    assert_problem(api.get(ONCALL, data={**query, "page": 4}, token=read_token), 404)
    assert_problem(api.get(ONCALL, data={"page_size": 5000}, token=read_token), 400)


def test_oncall_filters_by_user_who_takes_turns_or_covers(api, schedule, team, rob, ana, read_token):
    mine = services.schedule_create(actor=SYSTEM, name="Rob only", slug="rob-only", team=team)
    services.layer_create(
        actor=SYSTEM, schedule=mine, name="L", participants=[rob], start=date(2026, 1, 1), time_zone="UTC"
    )
    services.schedule_create(actor=SYSTEM, name="Empty", slug="empty", team=team)
    at = {"at": "2026-10-20T15:00:00Z"}
    rows = api.get(ONCALL, data={**at, "user": "ana"}, token=read_token).json()["results"]
    assert [row["schedule"] for row in rows] == ["payments-primary"]
    rows = api.get(ONCALL, data={**at, "user": "rob"}, token=read_token).json()["results"]
    assert [row["schedule"] for row in rows] == ["payments-primary", "rob-only"]
    # An override puts ana on "Rob only" until it is over.
    services.override_create(actor=SYSTEM, schedule=mine, user=ana, start=AT, end=AT + timedelta(hours=1))
    rows = api.get(ONCALL, data={**at, "user": "ana"}, token=read_token).json()["results"]
    assert [row["schedule"] for row in rows] == ["payments-primary", "rob-only"]
    later = {"at": "2026-10-22T15:00:00Z", "user": "ana"}
    assert [row["schedule"] for row in api.get(ONCALL, data=later, token=read_token).json()["results"]] == [
        "payments-primary"
    ]
    assert api.get(ONCALL, data={**at, "user": "nobody"}, token=read_token).json()["results"] == []


def test_schedule_list_create_and_detail(api, schedule, team, read_token, write_token):
    listed = api.get(SCHEDULES, token=read_token).json()["results"]
    assert listed == [
        {"name": "Payments primary", "slug": "payments-primary", "team": "payments", "time_zone": "UTC"}
    ]
    detail = api.get(SCHEDULES + "payments-primary/", token=read_token).json()
    (layer,) = detail["layers"]
    assert layer["participants"] == ["rob", "ana"] and layer["turn_unit"] == "days"
    assert layer["handoff_time"] == "09:00:00" and layer["time_zone"] == "America/Toronto"
    assert "ical_token" not in detail
    assert_problem(api.post(SCHEDULES, {"name": "N", "slug": "n", "team": "payments"}, token=read_token), 403)
    made = api.post(
        SCHEDULES,
        {"name": "N", "slug": "n", "team": "payments", "time_zone": "Asia/Kolkata"},
        token=write_token,
    )
    assert made.status_code == 201, made.content
    assert made.json()["layers"] == [] and Schedule.objects.get(slug="n").time_zone == "Asia/Kolkata"
    assert_problem(
        api.post(SCHEDULES, {"name": "N", "slug": "n", "team": "payments"}, token=write_token), 400
    )
    assert_problem(api.post(SCHEDULES, {"name": "M", "slug": "m", "team": "ghosts"}, token=write_token), 400)
    assert_problem(api.get(SCHEDULES + "ghosts/", token=read_token), 404)


def test_final_schedule_matches_engine_across_dst(api, schedule, read_token):
    start, end = "2026-10-30T00:00:00Z", "2026-11-04T00:00:00Z"
    response = api.get(
        SCHEDULES + "payments-primary/final/", data={"start": start, "end": end}, token=read_token
    )
    assert response.status_code == 200, response.content
    engine = selectors.rotation_schedule(selectors.schedules_for_engine().get(pk=schedule.pk))
    expected = rotation.final_schedule(
        engine, datetime(2026, 10, 30, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)
    )
    got = [(s["start"], s["end"], s["person"], s["source"]) for s in response.json()["shifts"]]
    assert got == [
        (f"{x.start:%Y-%m-%dT%H:%M:%SZ}", f"{x.end:%Y-%m-%dT%H:%M:%SZ}", x.person, x.source) for x in expected
    ]
    # 09:00 Toronto is 13:00Z before 1 November and 14:00Z after it: the turn across the change lasts 25 hours.
    ends = {s["end"] for s in response.json()["shifts"]}
    assert {"2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z"} <= ends


def test_final_schedule_refuses_long_or_backwards_ranges(api, schedule, read_token):
    url = SCHEDULES + "payments-primary/final/"
    assert_problem(
        api.get(url, data={"start": "2026-01-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"}, token=read_token),
        400,
    )
    assert_problem(
        api.get(url, data={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, token=read_token),
        400,
    )
    assert_problem(api.get(url, data={"start": "2026-01-01T00:00:00Z"}, token=read_token), 400)


def test_override_create_and_list(api, schedule, read_token, write_token):
    url = SCHEDULES + "payments-primary/overrides/"
    body = {
        "user": "ana",
        "start": "2026-10-20T10:00:00-04:00",
        "end": "2026-10-20T18:00:00-04:00",
        "reason": "dentist",
    }
    made = api.post(url, body, token=write_token)
    assert made.status_code == 201, made.content
    assert made.json()["start"] == "2026-10-20T14:00:00Z" and made.json()["created_by"] == "rob"
    assert [o["user"] for o in api.get(url, token=read_token).json()["results"]] == ["ana"]
    assert_problem(api.post(url, {**body, "end": body["start"]}, token=write_token), 400)
    assert_problem(api.post(url, {**body, "user": "charlie-nobody"}, token=write_token), 400)
    assert_problem(api.post(url, {**body, "start": "2026-10-20T10:00:00"}, token=write_token), 400)


def test_swap_propose_accept_through_api(api, schedule, ana, make_token, write_token):
    body = {"counterpart": "ana", "start": "2026-10-21T13:00:00Z", "end": "2026-10-22T13:00:00Z"}
    proposed = api.post(SCHEDULES + "payments-primary/swaps/", body, token=write_token)
    assert proposed.status_code == 201, proposed.content
    swap_id = proposed.json()["id"]
    assert_problem(
        api.post(f"{ONCALL}swaps/{swap_id}/accept/", token=write_token), 403
    )  # rob asked; ana decides
    ana_token = make_token(ana, "oncall:write")
    accepted = api.post(f"{ONCALL}swaps/{swap_id}/accept/", token=ana_token)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["override"] == ScheduleOverride.objects.get().pk
    assert_problem(api.post(f"{ONCALL}swaps/{swap_id}/decline/", token=ana_token), 409)
    (row,) = api.get(ONCALL, data={"at": "2026-10-21T15:00:00Z"}, token=ana_token).json()["results"]
    assert (row["person"], row["source"]) == ("ana", "override")
    assert_problem(api.post(f"{ONCALL}swaps/999/accept/", token=ana_token), 404)


def test_swap_decline_through_api(api, schedule, ana, make_token, write_token):
    body = {"counterpart": "ana", "start": "2026-10-21T13:00:00Z", "end": "2026-10-22T13:00:00Z"}
    swap_id = api.post(SCHEDULES + "payments-primary/swaps/", body, token=write_token).json()["id"]
    declined = api.post(f"{ONCALL}swaps/{swap_id}/decline/", token=make_token(ana, "oncall:write"))
    assert declined.json()["status"] == "declined"
    assert not ScheduleOverride.objects.exists()


@pytest.mark.parametrize(
    "zone", ["localtime", "posixrules", "right/UTC", "Factory", "Mars/Olympus", "Europe/ Dublin", ""]
)
def test_schedule_create_refuses_time_zones_outside_the_iana_list(api, team, write_token, zone):
    body = {"name": "N", "slug": "n", "team": "payments", "time_zone": zone}
    assert_problem(api.post(SCHEDULES, body, token=write_token), 400)
    assert not Schedule.objects.filter(slug="n").exists()
