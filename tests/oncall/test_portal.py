"""On-call portal pages: the now board, a schedule's week, and the override/swap/layer forms, per role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oncall import rotation, selectors
from oncall.models import ScheduleLayer, ScheduleOverride, ShiftSwap

pytestmark = pytest.mark.django_db

BOARD = reverse("portal:oncall_board")


def detail_url(slug="payments-primary", **query) -> str:
    url = reverse("portal:oncall_schedule", kwargs={"slug": slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.parametrize(
    ("persona", "status"),
    [("admin", 200), ("incident_commander", 200), ("responder", 200), ("viewer", 200), ("none", 403)],
)
def test_oncall_pages_access_per_role(personas, schedule, client_for, persona, status):
    client = client_for(personas[persona])
    assert client.get(BOARD).status_code == status
    assert client.get(detail_url()).status_code == status


def test_oncall_pages_send_anonymous_to_login(schedule, client_for):
    response = client_for(None).get(BOARD)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_board_shows_who_the_engine_says_is_on_call(schedule, vera, client_for):
    now = timezone.now()
    engine = selectors.rotation_schedule(selectors.schedule_detail(schedule.slug))
    expected = rotation.on_call_at(engine, now)
    handoff = rotation.next_handoff(engine, now)

    response = client_for(vera).get(BOARD)

    assert response.status_code == 200
    body = response.content.decode()
    assert f'<strong class="on-call-person">{expected}</strong>' in body
    assert f'<time datetime="{handoff.when.isoformat()}">' in body
    row = next(row for entry in response.context["teams"] for row in entry["rows"])
    assert row.on_call == expected


def test_board_warns_of_coverage_gaps(schedule, vera, client_for):
    ScheduleLayer.objects.filter(schedule=schedule).update(
        restrictions=[{"days": [0], "start": "09:00", "end": "17:00"}]
    )
    body = client_for(vera).get(BOARD).content.decode()
    assert "with nobody on call" in body


def test_week_view_shows_layers_overrides_and_final(schedule, rob, ana, vera, client_for):
    ScheduleOverride.objects.create(
        schedule=schedule,
        user=ana,
        start=datetime(2026, 10, 6, 14, tzinfo=UTC),
        end=datetime(2026, 10, 6, 22, tzinfo=UTC),
        reason="Covering",
    )

    response = client_for(vera).get(detail_url(start="2026-10-07"))

    assert response.status_code == 200
    days = response.context["days"]
    assert [d["day"].isoformat() for d in days][:1] == ["2026-10-05"] and len(days) == 7
    tuesday = {row["label"]: row["bars"] for row in days[1]["rows"]}
    assert [bar["person"] for bar in tuesday["Overrides"]] == ["ana"]
    final_people = [bar["person"] for bar in tuesday["Final"]]
    assert "ana" in final_people
    body = response.content.decode()
    assert "Layer: Toronto" in body and ">ana</text>" in body
    assert schedule.ical_token in body
    assert set(response.context["fairness"].people) <= {"rob", "ana"}
    assert "Add an override" not in body  # viewers get no forms


def test_month_view_covers_the_whole_month(schedule, vera, client_for):
    response = client_for(vera).get(detail_url(view="month", start="2026-10-15"))
    assert response.status_code == 200
    assert len(response.context["days"]) == 31


def test_override_form_end_before_start_is_400_and_saves_nothing(schedule, rob, client_for):
    response = client_for(rob).post(
        reverse("portal:oncall_override_new", kwargs={"slug": schedule.slug}),
        {"user": "rob", "start": "2026-10-06T22:00", "end": "2026-10-06T14:00"},
    )
    assert response.status_code == 400
    assert "It must end after it starts." in response.content.decode()
    assert not ScheduleOverride.objects.exists()


def test_override_form_for_someone_off_the_rota_is_400(schedule, rob, vera, client_for):
    response = client_for(rob).post(
        reverse("portal:oncall_override_new", kwargs={"slug": schedule.slug}),
        {"user": "vera", "start": "2026-10-06T14:00", "end": "2026-10-06T22:00"},
    )
    assert response.status_code == 400
    assert not ScheduleOverride.objects.exists()


def test_override_form_creates_an_override_in_utc(schedule, rob, client_for):
    response = client_for(rob).post(
        reverse("portal:oncall_override_new", kwargs={"slug": schedule.slug}),
        {"user": "ana", "start": "2026-10-06T14:00", "end": "2026-10-06T22:00"},
    )
    assert response.status_code == 302
    override = ScheduleOverride.objects.get()
    assert (override.user.username, override.start) == ("ana", datetime(2026, 10, 6, 14, tzinfo=UTC))


def test_swap_proposed_then_accepted_by_counterpart_creates_an_override(schedule, rob, ana, client_for):
    start = timezone.now().replace(microsecond=0, second=0) + timedelta(days=2)
    response = client_for(rob).post(
        reverse("portal:oncall_swap_new", kwargs={"slug": schedule.slug}),
        {
            "counterpart": "ana",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    swap = ShiftSwap.objects.get()
    decide = reverse("portal:oncall_swap_decide", kwargs={"slug": schedule.slug, "swap_id": swap.pk})

    page = client_for(ana).get(detail_url()).content.decode()
    assert decide in page  # the counterpart sees Accept/Decline

    assert client_for(rob).post(decide, {"decision": "accept"}).status_code == 403  # not addressed to rob
    response = client_for(ana).post(decide, {"decision": "accept"})

    assert response.status_code == 302
    swap.refresh_from_db()
    assert swap.status == "accepted"
    assert (swap.override.user, swap.override.start, swap.override.end) == (
        ana,
        start,
        start + timedelta(hours=8),
    )
    again = client_for(ana).post(decide, {"decision": "decline"})
    assert again.status_code == 409


def test_layer_form_adds_a_business_hours_layer(schedule, rob, client_for):
    response = client_for(rob).post(
        reverse("portal:oncall_layer_new", kwargs={"slug": schedule.slug}),
        {
            "name": "Dublin days",
            "participants": "ana, rob",
            "turn_count": "1",
            "turn_unit": "weeks",
            "handoff_time": "09:00",
            "start": "2026-10-05",
            "time_zone": "Europe/Dublin",
            "hours_days": ["0", "1", "2", "3", "4"],
            "hours_start": "09:00",
            "hours_end": "17:00",
        },
    )
    assert response.status_code == 302
    layer = ScheduleLayer.objects.get(name="Dublin days")
    assert layer.position == 1
    assert layer.restrictions == [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}]
    assert [p.user.username for p in layer.places.order_by("position")] == ["ana", "rob"]


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"participants": "rob, nobody"}, "No active staff member named nobody."),
        ({"time_zone": "Mars/Olympus"}, "is not an IANA time zone name"),
        ({"name": "Toronto"}, "Another layer of this schedule has that name."),
        ({"hours_start": "09:00"}, "or none of them"),
    ],
)
def test_layer_form_errors_are_400_and_save_nothing(schedule, rob, client_for, changes, field_error):
    data = {
        "name": "Extra",
        "participants": "rob",
        "turn_count": "1",
        "turn_unit": "days",
        "handoff_time": "09:00",
        "start": "2026-10-05",
        "time_zone": "UTC",
    } | changes
    response = client_for(rob).post(reverse("portal:oncall_layer_new", kwargs={"slug": schedule.slug}), data)
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert ScheduleLayer.objects.filter(schedule=schedule).count() == 1


@pytest.mark.parametrize("name", ["oncall_override_new", "oncall_swap_new", "oncall_layer_new"])
def test_viewer_post_is_403(schedule, vera, client_for, name):
    response = client_for(vera).post(reverse(f"portal:{name}", kwargs={"slug": schedule.slug}), {})
    assert response.status_code == 403


def test_viewer_cannot_decide_a_swap(schedule, rob, ana, vera, client_for):
    swap = ShiftSwap.objects.create(
        schedule=schedule,
        requester=rob,
        counterpart=ana,
        start=datetime(2026, 10, 6, tzinfo=UTC),
        end=datetime(2026, 10, 7, tzinfo=UTC),
    )
    decide = reverse("portal:oncall_swap_decide", kwargs={"slug": schedule.slug, "swap_id": swap.pk})
    assert client_for(vera).post(decide, {"decision": "accept"}).status_code == 403
    swap.refresh_from_db()
    assert swap.status == "proposed"
