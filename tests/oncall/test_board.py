"""The on-call now board: region clocks in each region's zone, times in the viewer's zone, one row per schedule
under its team, and which region holds it now."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.urls import reverse

from oncall import services
from oncall.models import Region, Team, TeamMembership
from opsportal.core.models import StaffProfile
from opsportal.core.roles import Role
from opsportal.core.services import SYSTEM, staff_set_role
from tests.html_text import element_text, visible_text

pytestmark = pytest.mark.django_db

BOARD = reverse("portal:oncall_board")
# The example: at 12:51 UTC on a December Thursday, Toronto reads 07:51.
DECEMBER = datetime(2026, 12, 3, 12, 51, tzinfo=UTC)
JULY = datetime(2026, 7, 16, 12, 51, tzinfo=UTC)


@pytest.fixture
def apac():
    return Region.objects.create(code="APAC", name="Asia-Pacific", time_zone="Asia/Singapore", position=2)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (DECEMBER, {"NA": "Thu 07:51", "EU": "Thu 12:51", "APAC": "Thu 20:51"}),
        (JULY, {"NA": "Thu 08:51", "EU": "Thu 13:51", "APAC": "Thu 20:51"}),
    ],
)
def test_board_shows_each_region_clock_in_its_own_zone(schedule, apac, vera, client_for, when, expected):
    with time_machine.travel(when, tick=False):
        html = client_for(vera).get(BOARD).content.decode()

    for code, clock in expected.items():
        text = element_text(html, f'data-region="{code}"')
        assert clock in text, (code, text)
        assert "UTC" not in text


def test_board_shows_times_in_the_viewers_own_zone(schedule, make_staff, client_for):
    tokyo_viewer = make_staff("yuki", Role.VIEWER, time_zone="Asia/Tokyo")

    with time_machine.travel(DECEMBER, tick=False):
        html = client_for(tokyo_viewer).get(BOARD).content.decode()

    assert "As of Thu 3 Dec 21:51 your time (Asia/Tokyo)" in visible_text(html)
    # rob (Toronto) hands over to ana (Dublin) at 09:00 Toronto = 14:00 UTC = 23:00 in Tokyo and 14:00 in Dublin.
    row = element_text(html, 'data-schedule="payments-primary"')
    assert "rob" in row and "NA · North America" in row
    assert "Thu 3 Dec 23:00" in row and "→ ana (EU, 14:00 there)" in row
    assert '<time datetime="2026-12-03T14:00:00+00:00">Thu 3 Dec 23:00</time>' in html


def test_board_without_a_profile_shows_utc(schedule, client_for, django_user_model):
    vera_like = django_user_model.objects.create_user(username="nozone", password="x")
    staff_set_role(actor=SYSTEM, user=vera_like, role=Role.VIEWER)
    assert not StaffProfile.objects.filter(user=vera_like).exists()
    with time_machine.travel(DECEMBER, tick=False):
        html = client_for(vera_like).get(BOARD).content.decode()
    assert "As of Thu 3 Dec 12:51 your time (UTC)" in visible_text(html)


def test_board_lists_each_schedule_once_under_its_team_and_names_the_region_holding_it(
    schedule, apac, rob, ana, vera, client_for
):
    checkout = Team.objects.create(name="Checkout", slug="checkout")
    TeamMembership.objects.create(team=checkout, user=ana, region=Region.objects.get(code="EU"))
    TeamMembership.objects.create(team=checkout, user=rob, region=apac)  # rob is APAC for this team
    other = services.schedule_create(
        actor=SYSTEM, name="Checkout primary", slug="checkout-primary", team=checkout
    )
    services.layer_create(
        actor=SYSTEM,
        schedule=other,
        name="Everyone",
        participants=[rob, ana],
        turn_count=1,
        turn_unit="days",
        handoff_time=time(9),
        start=date(2026, 10, 1),
        time_zone="America/Toronto",
    )

    with time_machine.travel(DECEMBER, tick=False):
        response = client_for(vera).get(BOARD)
    html = response.content.decode()

    # Each schedule once, under its own team; no region-by-region repetition.
    assert html.count('data-schedule="payments-primary"') == 1
    assert html.count('data-schedule="checkout-primary"') == 1
    assert [entry["team"].name for entry in response.context["teams"]] == ["Checkout", "Payments"]
    # rob is on call for both; his region differs by team.
    assert "APAC · Asia-Pacific" in element_text(html, 'data-schedule="checkout-primary"')
    assert "NA · North America" in element_text(html, 'data-schedule="payments-primary"')
    assert "Holds Payments primary" in element_text(html, 'data-region="NA"')
    assert "Holds Checkout primary" in element_text(html, 'data-region="APAC"')
    assert "Holds no schedule now" in element_text(html, 'data-region="EU"')


def test_board_says_whether_a_region_is_in_business_hours(schedule, apac, vera, client_for):
    with time_machine.travel(DECEMBER, tick=False):
        html = client_for(vera).get(BOARD).content.decode()
    assert "Outside business hours" in element_text(html, 'data-region="NA"')  # 07:51
    assert "Business hours" in element_text(html, 'data-region="EU"')  # 12:51
    assert "Outside business hours" in element_text(html, 'data-region="APAC"')  # 20:51


def _teams_with_schedules(rob, ana, teams: int, per_team: int) -> None:
    eu = Region.objects.get(code="EU")
    for t in range(teams):
        team = Team.objects.create(name=f"Team {t:02d}", slug=f"team-{t:02d}")
        TeamMembership.objects.create(team=team, user=ana, region=eu)
        for n in range(per_team):
            made = services.schedule_create(
                actor=SYSTEM, name=f"Team {t:02d} s{n}", slug=f"t{t}-s{n}", team=team
            )
            services.layer_create(
                actor=SYSTEM,
                schedule=made,
                name="Day",
                participants=[ana, rob],
                turn_count=1,
                turn_unit="days",
                handoff_time=time(9),
                start=date(2026, 10, 1),
                time_zone="Europe/Dublin",
                restrictions=[{"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}],
            )
            if n == 0:
                services.override_create(
                    actor=SYSTEM,
                    schedule=made,
                    user=rob,
                    start=datetime(2026, 12, 3, 12, tzinfo=UTC),
                    end=datetime(2026, 12, 3, 13, tzinfo=UTC),
                )


def test_board_shows_a_page_of_schedules_team_by_team(schedule, rob, ana, vera, client_for, monkeypatch):
    from opsportal.portal import oncall_views

    monkeypatch.setattr(oncall_views, "BOARD_PAGE_SIZE", 4)
    _teams_with_schedules(rob, ana, teams=3, per_team=2)  # 7 schedules with Payments primary

    with time_machine.travel(DECEMBER, tick=False):
        first = client_for(vera).get(BOARD)
        last = client_for(vera).get(BOARD, {"page": 2})
    html = first.content.decode()
    assert [row.schedule.slug for e in first.context["teams"] for row in e["rows"]] == [
        "payments-primary",
        "t0-s0",
        "t0-s1",
        "t1-s0",
    ]
    assert "1–4 of 7 schedules" in visible_text(html) and "Page 1 of 2" in visible_text(html)
    assert [row.schedule.slug for e in last.context["teams"] for row in e["rows"]] == [
        "t1-s1",
        "t2-s0",
        "t2-s1",
    ]
    # A team cut by the page keeps its heading on the next one; each row says who and whether by override.
    assert "Team 01" in element_text(last.content.decode(), 'data-team="team-01"')
    row = element_text(html, 'data-schedule="t0-s0"')
    # rob covers until 13:00 and then holds the layer's turn anyway: the handoff is at the end of the day's window.
    assert "rob (override)" in row and "Thu 3 Dec 18:00" in row and "→ nobody (gap)" in row
    # The region clocks hold the schedules shown.
    assert "Holds Payments primary" in element_text(html, 'data-region="NA"')


def test_board_filters_by_team_and_by_name_and_swaps_in_results_with_htmx(
    schedule, rob, ana, vera, client_for
):
    _teams_with_schedules(rob, ana, teams=3, per_team=2)
    client = client_for(vera)

    with time_machine.travel(DECEMBER, tick=False):
        by_team = client.get(BOARD, {"team": "team-01"})
        by_name = client.get(BOARD, {"q": "payments"})
        nothing = client.get(BOARD, {"q": "no such thing"})
        partial = client.get(BOARD, {"team": "team-02"}, headers={"HX-Request": "true"})
        unknown = client.get(BOARD, {"team": "not-a-team"})

    def slugs(response):
        return [row.schedule.slug for e in response.context["teams"] for row in e["rows"]]

    assert slugs(by_team) == ["t1-s0", "t1-s1"]
    assert slugs(by_name) == ["payments-primary"]
    assert "No schedules match." in visible_text(nothing.content.decode())
    body = partial.content.decode()
    assert slugs(partial) == ["t2-s0", "t2-s1"]
    assert body.startswith('<div id="oncall-results">') and "<html" not in body
    assert 'data-region="EU"' in body  # the region clocks come along, holding what is shown
    assert unknown.status_code == 400


def test_board_query_count_is_constant(schedule, rob, ana, vera, client_for, django_assert_max_num_queries):
    client = client_for(vera)
    client.get(BOARD)  # the session and the role, once
    with time_machine.travel(DECEMBER, tick=False), django_assert_max_num_queries(16) as few:
        client.get(BOARD)
    _teams_with_schedules(rob, ana, teams=6, per_team=10)
    with time_machine.travel(DECEMBER, tick=False), django_assert_max_num_queries(len(few)) as many:
        response = client.get(BOARD)
    assert len(many) == len(few)
    assert len([row for e in response.context["teams"] for row in e["rows"]]) == 40


def test_board_team_filter_lists_every_team_and_keeps_the_chosen_one(schedule, rob, ana, vera, client_for):
    _teams_with_schedules(rob, ana, teams=3, per_team=1)
    client = client_for(vera)
    with time_machine.travel(DECEMBER, tick=False):
        everything = client.get(BOARD).content.decode()
        chosen = client.get(BOARD, {"team": "team-01"}).content.decode()
        unknown = client.get(BOARD, {"team": "not-a-team"})
    select = element_text(everything, 'id="id_team"')
    assert select.split() == ["Every", "team", "Payments", "Team", "00", "Team", "01", "Team", "02"]
    assert (
        '<label for="id_team">' in everything
        and '<option value="" selected>Every team</option>' in everything
    )
    assert '<option value="team-01" selected>Team 01</option>' in chosen
    assert '<option value="" selected>' not in chosen
    body = unknown.content.decode()
    assert 'aria-invalid="true"' in body and "Select a valid choice" in visible_text(body)
