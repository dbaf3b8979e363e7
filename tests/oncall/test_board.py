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
