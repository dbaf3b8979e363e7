"""Maintenance in the staff portal: who may see and act, the schedule form, lifecycle buttons, updates,
rescheduling, and conflicts shown with the service's own words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opsportal.changes import services
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from opsportal.core.services import SYSTEM
from statuspage.models import Component

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "responder", "incident_commander", "admin")


@pytest.fixture
def payouts():
    return Component.objects.create(name="Payouts")


@pytest.fixture
def window(payouts):
    start = timezone.now() + timedelta(days=2)
    return services.maintenance_schedule(
        actor=SYSTEM,
        title="Payouts bank-file switch",
        body="Payouts pause for an hour.",
        components=[payouts],
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
    )


def _local(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _detail(window) -> str:
    return reverse("portal:maintenance_detail", args=[window.pk])


def _action(window, name: str) -> str:
    return reverse(f"portal:maintenance_{name}", args=[window.pk])


def test_maintenance_pages_open_for_every_staff_role(personas, client_for, window):
    for role in ROLES:
        client = client_for(personas[role])
        for url in (reverse("portal:maintenance_list"), _detail(window)):
            assert client.get(url).status_code == 200, (role, url)


def test_maintenance_pages_refuse_outsiders_and_send_anonymous_to_login(personas, client_for, client, window):
    outsider = client_for(personas["none"])
    for url in (reverse("portal:maintenance_list"), _detail(window), reverse("portal:maintenance_new")):
        assert outsider.get(url).status_code == 403, url
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:login"))


def test_viewers_see_no_actions_and_every_action_is_403_for_them(vera, client_for, window):
    client = client_for(vera)
    html = client.get(_detail(window)).content.decode()
    assert "Start now" not in html and "Post update" not in html and "Reschedule" not in html
    assert "needs the responder role" in html
    assert client.get(reverse("portal:maintenance_new")).status_code == 403
    posts = {
        "transition": {"status": "cancelled"},
        "post_update": {"body": "hello"},
        "reschedule": {"scheduled_for": "2030-01-01T01:00", "scheduled_until": "2030-01-01T02:00"},
    }
    for name, data in posts.items():
        assert client.post(_action(window, name), data).status_code == 403, name
    window.refresh_from_db()
    assert window.status == "scheduled" and window.updates.count() == 1


def test_the_list_groups_windows_and_shows_utc_times_and_components(rob, client_for, window, payouts):
    running = services.maintenance_schedule(
        actor=SYSTEM,
        title="Search reindex",
        body="Search may be slow.",
        components=[],
        scheduled_for=timezone.now() + timedelta(hours=1),
        scheduled_until=timezone.now() + timedelta(hours=2),
    )
    services.maintenance_transition(actor=SYSTEM, window=running, status="in_progress")
    response = client_for(rob).get(reverse("portal:maintenance_list"))
    html = response.content.decode()
    assert html.index("In progress") < html.index("Search reindex") < html.index("Upcoming")
    assert html.index("Upcoming") < html.index("Payouts bank-file switch") < html.index("Past")
    start = window.scheduled_for.astimezone(UTC)
    assert f'<time datetime="{start.isoformat()}">{start:%Y-%m-%d %H:%M} UTC</time>' in html
    assert "Payouts</td>" in html
    assert 'aria-current="page">Maintenance</a>' in html


def test_scheduling_creates_the_window_reading_times_as_utc(rob, client_for, payouts):
    start = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    form = client_for(rob).get(reverse("portal:maintenance_new")).content.decode()
    assert 'type="datetime-local"' in form and "UTC" in form
    response = client_for(rob).post(
        reverse("portal:maintenance_new"),
        {
            "title": "Payouts bank-file switch",
            "body": "Payouts pause.",
            "components": [payouts.pk],
            "scheduled_for": _local(start),
            "scheduled_until": _local(start + timedelta(hours=1)),
        },
    )
    window = MaintenanceWindow.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(window)
    assert (window.scheduled_for, window.scheduled_until) == (start, start + timedelta(hours=1))
    assert list(window.components.all()) == [payouts]
    assert window.created_by == rob


def test_a_staff_time_zone_does_not_change_how_times_are_read(make_staff, client_for, settings):
    settings.TIME_ZONE = "America/Toronto"
    chloe = make_staff("chloe", "responder", time_zone="America/Vancouver")
    start = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    client_for(chloe).post(
        reverse("portal:maintenance_new"),
        {
            "title": "x",
            "body": "y",
            "scheduled_for": _local(start),
            "scheduled_until": _local(start + timedelta(hours=1)),
        },
    )
    assert MaintenanceWindow.objects.get().scheduled_for == start


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"scheduled_for": "not a time"}, "scheduled_for", "Enter a valid date/time."),
        ({"components": ["999999"]}, "components", "Select a valid choice."),
        # Meaning, from the service: shown on the same form.
        ({"scheduled_until": "START"}, "scheduled_until", "The window must end after it starts."),
        (
            {"scheduled_for": "PAST2", "scheduled_until": "PAST1"},
            "scheduled_until",
            "This window would already be over.",
        ),
    ],
)
def test_schedule_form_errors_are_shown_and_nothing_is_saved(rob, client_for, payouts, data, field, message):
    start = timezone.now() + timedelta(days=1)
    moments = {
        "START": _local(start),
        "PAST1": _local(timezone.now() - timedelta(hours=1)),
        "PAST2": _local(timezone.now() - timedelta(hours=2)),
    }
    post = {
        "title": "Upgrade",
        "body": "Short pause.",
        "components": [payouts.pk],
        "scheduled_for": _local(start),
        "scheduled_until": _local(start + timedelta(hours=1)),
    }
    post.update(
        {key: moments.get(value, value) if isinstance(value, str) else value for key, value in data.items()}
    )
    response = client_for(rob).post(reverse("portal:maintenance_new"), post)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    html = response.content.decode()
    assert 'role="alert"' in html and "was not scheduled" in html
    assert not MaintenanceWindow.objects.exists()
    assert not MaintenanceUpdate.objects.exists()


def test_the_detail_offers_only_the_allowed_next_statuses(rob, client_for, window):
    client = client_for(rob)
    html = client.get(_detail(window)).content.decode()
    assert 'value="in_progress"' in html and 'value="cancelled"' in html
    assert 'value="completed"' not in html and 'value="verifying"' not in html
    assert "Reschedule" in html

    response = client.post(_action(window, "transition"), {"status": "in_progress", "body": ""})
    assert response.status_code == 302 and response["Location"] == _detail(window)
    window.refresh_from_db()
    assert window.status == "in_progress" and window.started_at is not None
    assert Component.objects.get(name="Payouts").status == "under_maintenance"

    page = client.get(_detail(window))
    html = page.content.decode()
    assert "Maintenance is now in progress." in html
    assert 'value="verifying"' in html and 'value="completed"' in html
    assert 'value="cancelled"' not in html
    assert 'id="reschedule-title"' not in html

    client.post(_action(window, "transition"), {"status": "completed", "body": "All done, thanks."})
    window.refresh_from_db()
    assert window.status == "completed"
    assert Component.objects.get(name="Payouts").status == "operational"
    html = client.get(_detail(window)).content.decode()
    assert "its status is final" in html and "All done, thanks." in html
    assert 'name="status"' not in html


def test_an_illegal_transition_shows_the_conflict_with_409(rob, client_for, window):
    response = client_for(rob).post(_action(window, "transition"), {"status": "completed"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "cannot go from scheduled to completed" in html
    window.refresh_from_db()
    assert window.status == "scheduled"


def test_an_unknown_status_is_a_400(rob, client_for, window):
    response = client_for(rob).post(_action(window, "transition"), {"status": "exploded"})
    assert response.status_code == 400
    window.refresh_from_db()
    assert window.status == "scheduled"


def test_posting_an_update_adds_it_to_the_list(rob, client_for, window):
    client = client_for(rob)
    response = client.post(_action(window, "post_update"), {"body": "Bank confirmed the new format."})
    assert response.status_code == 302
    update = window.updates.order_by("-id").first()
    assert (update.body, update.status, update.author) == ("Bank confirmed the new format.", "scheduled", rob)
    assert "Bank confirmed the new format." in client.get(_detail(window)).content.decode()


def test_an_empty_update_is_a_400_and_saves_nothing(rob, client_for, window):
    response = client_for(rob).post(_action(window, "post_update"), {"body": ""})
    assert response.status_code == 400
    assert response.context["update_form"].errors["body"]
    assert window.updates.count() == 1


def test_rescheduling_moves_the_window(rob, client_for, window):
    start = (timezone.now() + timedelta(days=5)).replace(second=0, microsecond=0)
    response = client_for(rob).post(
        _action(window, "reschedule"),
        {"scheduled_for": _local(start), "scheduled_until": _local(start + timedelta(hours=2))},
    )
    assert response.status_code == 302
    window.refresh_from_db()
    assert (window.scheduled_for, window.scheduled_until) == (start, start + timedelta(hours=2))


def test_rescheduling_backwards_is_a_400_on_the_field(rob, client_for, window):
    start = timezone.now() + timedelta(days=5)
    response = client_for(rob).post(
        _action(window, "reschedule"),
        {"scheduled_for": _local(start), "scheduled_until": _local(start - timedelta(hours=1))},
    )
    assert response.status_code == 400
    assert response.context["reschedule_form"].errors["scheduled_until"] == [
        "The window must end after it starts."
    ]


def test_rescheduling_a_started_window_is_a_409_with_the_reason(rob, client_for, window):
    services.maintenance_transition(actor=SYSTEM, window=window, status="in_progress")
    start = timezone.now() + timedelta(days=5)
    response = client_for(rob).post(
        _action(window, "reschedule"),
        {"scheduled_for": _local(start), "scheduled_until": _local(start + timedelta(hours=1))},
    )
    assert response.status_code == 409
    assert "Only a window that has not started can be rescheduled." in response.content.decode()


def test_the_reschedule_form_shows_the_current_times_in_utc(rob, client_for, window, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    html = client_for(rob).get(_detail(window)).content.decode()
    assert f'value="{_local(window.scheduled_for)}"' in html


def test_unknown_window_is_404(rob, client_for):
    assert client_for(rob).get(reverse("portal:maintenance_detail", args=[999999])).status_code == 404
    assert (
        client_for(rob)
        .post(reverse("portal:maintenance_transition", args=[999999]), {"status": "cancelled"})
        .status_code
        == 404
    )
