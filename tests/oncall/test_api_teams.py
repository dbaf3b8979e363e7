"""/api/v1/oncall/teams/: teams with their members, a page at a time, filtered by region or member; hostile
paging and filters are refused with a problem."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from oncall.models import Region, Team, TeamMembership

pytestmark = pytest.mark.django_db

TEAMS = "/api/v1/oncall/teams/"


@pytest.fixture
def read_token(vera, make_token):
    return make_token(vera, "oncall:read")


@pytest.fixture
def many_teams(team):
    """Payments (rob NA, ana EU) and 119 more teams "Team 000".."Team 118", each with two engineers of their own
    (one in NA, one in EU, the EU one with a full name) and the team's number in APAC for every tenth team."""
    na, eu = Region.objects.get(code="NA"), Region.objects.get(code="EU")
    apac = Region.objects.create(code="APAC", name="Asia-Pacific", time_zone="Asia/Singapore", position=2)
    users = get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"eng{n:03d}{side}", first_name="Eng" if side == "e" else "", last_name=f"{n}"
        )
        for n in range(119)
        for side in "ne"
    )
    teams = Team.objects.bulk_create(Team(name=f"Team {n:03d}", slug=f"team-{n:03d}") for n in range(119))
    rows = []
    for n, made in enumerate(teams):
        rows += [
            TeamMembership(team=made, user=users[2 * n], region=na),
            TeamMembership(team=made, user=users[2 * n + 1], region=apac if n % 10 == 0 else eu),
        ]
    TeamMembership.objects.bulk_create(rows)
    return teams


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_teams_list_members_by_region_then_username(api, team, read_token):
    answer = api.get(TEAMS, token=read_token).json()
    assert answer["count"] == 1 and answer["next"] is None and answer["previous"] is None
    (payments,) = answer["results"]
    assert (payments["name"], payments["slug"], payments["id"]) == ("Payments", "payments", team.pk)
    assert payments["members"] == [
        {"username": "rob", "name": "", "region": "NA"},
        {"username": "ana", "name": "", "region": "EU"},
    ]


def test_teams_a_page_of_50_shows_50_with_links_and_the_totals(api, many_teams, read_token):
    first = api.get(TEAMS, token=read_token).json()
    assert first["count"] == 120 and len(first["results"]) == 50 and first["previous"] is None
    assert first["next"].endswith("/api/v1/oncall/teams/?page=2")
    assert [t["name"] for t in first["results"][:2]] == ["Payments", "Team 000"]
    assert first["results"][1]["members"] == [
        {"username": "eng000n", "name": "0", "region": "NA"},
        {"username": "eng000e", "name": "Eng 0", "region": "APAC"},
    ]
    second = api.get(first["next"], token=read_token).json()
    last = api.get(TEAMS, data={"page": 3}, token=read_token).json()
    assert len(second["results"]) == 50 and len(last["results"]) == 20 and last["next"] is None
    seen = [t["slug"] for page in (first, second, last) for t in page["results"]]
    assert len(seen) == len(set(seen)) == 120
    assert sum(len(t["members"]) for page in (first, second, last) for t in page["results"]) == 240
    whole = api.get(TEAMS, data={"page_size": 200}, token=read_token).json()
    assert len(whole["results"]) == 120 and whole["next"] is None


def test_teams_query_count_does_not_grow_with_the_teams(
    api, many_teams, read_token, django_assert_max_num_queries
):
    # token lookup and scope checks, the page's count, the page's teams, their members
    with django_assert_max_num_queries(5) as few:
        api.get(TEAMS, data={"page_size": 2}, token=read_token)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(TEAMS, data={"page_size": 200}, token=read_token)
    assert len(response.json()["results"]) == 120


def test_teams_filter_by_region_and_member(api, many_teams, rob, read_token):
    apac = api.get(TEAMS, data={"region": "apac"}, token=read_token).json()
    assert apac["count"] == 12
    assert [t["slug"] for t in apac["results"][:2]] == ["team-000", "team-010"]
    # A team is listed once with every member, whichever of them made it match.
    assert [m["region"] for m in apac["results"][0]["members"]] == ["NA", "APAC"]
    mine = api.get(TEAMS, data={"member": "rob"}, token=read_token).json()
    assert [t["slug"] for t in mine["results"]] == ["payments"] and mine["count"] == 1
    both = api.get(TEAMS, data={"member": "eng010e", "region": "APAC"}, token=read_token).json()
    assert [t["slug"] for t in both["results"]] == ["team-010"]
    nobody = api.get(TEAMS, data={"member": "someone.else@example.com"}, token=read_token).json()
    assert nobody["count"] == 0 and nobody["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"page_size": "201"},
        {"page_size": "0"},
        {"page_size": "-1"},
        {"page_size": "ten"},
        {"page_size": "²"},
        {"page": "0"},
        {"page": "1e9"},
        {"page": "99999999999999999999"},
        {"region": "R" * 9},
        {"region": "N\x00A"},
        {"member": "rob'; DROP TABLE oncall_team; --"},
        {"member": "x" * 151},
    ],
)
def test_teams_refuse_hostile_paging_and_filters(api, team, read_token, query):
    problem = assert_problem(api.get(TEAMS, data=query, token=read_token), 400)
    assert set(query) & set(problem.get("errors", problem)), problem
    assert Team.objects.count() == 1


def test_teams_page_past_the_last_is_a_not_found_problem(api, team, read_token):
    assert_problem(api.get(TEAMS, data={"page": 2}, token=read_token), 404)
    assert api.get(TEAMS, data={"page": "last"}, token=read_token).json()["count"] == 1


def test_teams_need_a_token_with_oncall_read(api, team, vera, make_token):
    assert_problem(api.get(TEAMS), 401)
    assert_problem(api.get(TEAMS, token=make_token(vera, "incidents:read")), 403)


def test_teams_schema_describes_the_page_its_filters_and_members(client):
    schema = client.get("/api/v1/schema/", headers={"Accept": "application/json"}).json()
    operation = schema["paths"]["/api/v1/oncall/teams/"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert {"page", "page_size", "region", "member"} <= set(parameters)
    assert parameters["page_size"]["maximum"] == 200 and parameters["region"]["maxLength"] == 8
    assert {"400", "200"} <= set(operation["responses"])
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][page["$ref"].rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    team = schema["components"]["schemas"][page["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[1]]
    member = schema["components"]["schemas"][team["properties"]["members"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(member["properties"]) == {"username", "name", "region"}
