"""Maintenance windows through API v1: schedule, list, read, move on, post updates, reschedule; scopes and
problems for refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from opsportal.changes import services
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from opsportal.core.models import AuditEntry
from opsportal.core.services import SYSTEM
from statuspage.models import Component

pytestmark = pytest.mark.django_db

MAINTENANCE = "/api/v1/maintenance/"


def url(window, action=""):
    return f"{MAINTENANCE}{window.pk}/" + (f"{action}/" if action else "")


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:opsportal:problem:")
    return body


@pytest.fixture
def payouts():
    return Component.objects.create(name="Payouts")


@pytest.fixture
def write_token(rob, make_token):
    return make_token(rob, "statuspage:write")


@pytest.fixture
def read_token(rob, make_token):
    return make_token(rob, "statuspage:read")


def _schedule(title="Payouts bank-file switch", components=(), days=2):
    start = timezone.now() + timedelta(days=days)
    return services.maintenance_schedule(
        actor=SYSTEM,
        title=title,
        body="Payouts pause for an hour.",
        components=list(components),
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
    )


def _times(days=2, hours=1):
    start = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
    return start, start + timedelta(hours=hours)


def test_schedule_answers_201_with_the_window_and_records_it(api, rob, payouts, write_token):
    start, end = _times()
    response = api.post(
        MAINTENANCE,
        {
            "title": "Payouts bank-file switch",
            "body": "Payouts pause for an hour.",
            "components": [payouts.pk],
            "scheduled_for": start.isoformat(),
            "scheduled_until": end.isoformat(),
        },
        token=write_token,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    window = MaintenanceWindow.objects.get(pk=body["id"])
    assert (body["title"], body["status"], body["created_by"]) == (
        "Payouts bank-file switch",
        "scheduled",
        "rob",
    )
    assert body["components"] == [{"id": payouts.pk, "name": "Payouts"}]
    assert (window.scheduled_for, window.scheduled_until) == (start, end)
    assert [u["status"] for u in body["updates"]] == ["scheduled"]
    assert body["links"]["self"].endswith(url(window))
    assert body["links"]["transition"].endswith(url(window, "transition"))
    assert AuditEntry.objects.get(action="maintenance.scheduled").actor == rob


def test_times_without_an_offset_are_read_as_utc(api, write_token):
    start, end = _times()
    response = api.post(
        MAINTENANCE,
        {
            "title": "x",
            "body": "y",
            "scheduled_for": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "scheduled_until": end.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        token=write_token,
    )
    assert response.status_code == 201, response.content
    assert MaintenanceWindow.objects.get().scheduled_for == start


def test_unknown_component_ids_and_missing_fields_are_400_with_field_errors(api, payouts, write_token):
    start = _times()[0]
    response = api.post(
        MAINTENANCE,
        {"body": "y", "components": [payouts.pk, 999999], "scheduled_for": start.isoformat()},
        token=write_token,
    )
    errors = assert_problem(response, 400)["errors"]
    assert set(errors) == {"title", "components", "scheduled_until"}
    assert "999999" in str(errors["components"])
    assert not MaintenanceWindow.objects.exists() and not MaintenanceUpdate.objects.exists()


@pytest.mark.parametrize(
    ("start_offset", "end_offset", "message"),
    [
        (timedelta(hours=2), timedelta(hours=1), "The window must end after it starts."),
        (timedelta(hours=-3), timedelta(hours=-1), "This window would already be over."),
    ],
)
def test_the_service_refusing_the_times_is_a_400_on_the_field(
    api, write_token, start_offset, end_offset, message
):
    now = timezone.now()
    response = api.post(
        MAINTENANCE,
        {
            "title": "x",
            "body": "y",
            "scheduled_for": (now + start_offset).isoformat(),
            "scheduled_until": (now + end_offset).isoformat(),
        },
        token=write_token,
    )
    assert assert_problem(response, 400)["errors"] == {"scheduled_until": [message]}
    assert not MaintenanceWindow.objects.exists()


def test_a_read_token_reads_but_cannot_write_and_no_token_is_401(api, rob, make_token, read_token):
    window = _schedule()
    assert api.get(MAINTENANCE, token=read_token).status_code == 200
    assert api.get(url(window), token=read_token).status_code == 200
    start, end = _times()
    writes = [
        (MAINTENANCE, {"title": "x", "body": "y", "scheduled_for": start, "scheduled_until": end}),
        (url(window, "transition"), {"status": "cancelled"}),
        (url(window, "updates"), {"body": "hi"}),
        (url(window, "reschedule"), {"scheduled_for": start, "scheduled_until": end}),
    ]
    for path, data in writes:
        body = assert_problem(api.post(path, data, token=read_token), 403)
        assert "statuspage:write" in body["detail"]
    assert_problem(api.get(MAINTENANCE), 401)
    incidents_only = make_token(rob, "incidents:write")
    assert_problem(api.get(MAINTENANCE, token=incidents_only), 403)
    window.refresh_from_db()
    assert window.status == "scheduled" and window.updates.count() == 1


def test_a_legal_transition_answers_200_with_the_moved_window(api, payouts, write_token):
    window = _schedule(components=[payouts])
    response = api.post(url(window, "transition"), {"status": "in_progress"}, token=write_token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "in_progress" and body["started_at"]
    assert Component.objects.get(pk=payouts.pk).status == "under_maintenance"
    response = api.post(
        url(window, "transition"), {"status": "completed", "body": "Done early."}, token=write_token
    )
    body = response.json()
    assert (body["status"], body["updates"][0]["body"]) == ("completed", "Done early.")
    assert Component.objects.get(pk=payouts.pk).status == "operational"


def test_an_illegal_transition_is_a_409_and_changes_nothing(api, write_token):
    window = _schedule()
    body = assert_problem(
        api.post(url(window, "transition"), {"status": "completed"}, token=write_token), 409
    )
    assert "cannot go from scheduled to completed" in body["detail"]
    window.refresh_from_db()
    assert window.status == "scheduled" and window.updates.count() == 1


def test_an_unknown_status_is_a_400(api, write_token):
    window = _schedule()
    errors = assert_problem(
        api.post(url(window, "transition"), {"status": "exploded"}, token=write_token), 400
    )
    assert "status" in errors["errors"]


def test_posting_an_update_answers_201(api, write_token):
    window = _schedule()
    response = api.post(url(window, "updates"), {"body": "Bank confirmed."}, token=write_token)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["body"], body["author"]) == ("scheduled", "Bank confirmed.", "rob")
    assert api.get(url(window), token=write_token).json()["updates"][0]["body"] == "Bank confirmed."
    assert "body" in assert_problem(api.post(url(window, "updates"), {}, token=write_token), 400)["errors"]
    assert (
        "body"
        in assert_problem(api.post(url(window, "updates"), {"body": "   "}, token=write_token), 400)["errors"]
    )
    assert window.updates.count() == 2


def test_reschedule_moves_a_scheduled_window_and_refuses_a_started_one(api, write_token):
    window = _schedule()
    start, end = _times(days=4, hours=2)
    response = api.post(
        url(window, "reschedule"),
        {"scheduled_for": start.isoformat(), "scheduled_until": end.isoformat()},
        token=write_token,
    )
    assert response.status_code == 200, response.content
    window.refresh_from_db()
    assert (window.scheduled_for, window.scheduled_until) == (start, end)

    backwards = {"scheduled_for": end.isoformat(), "scheduled_until": start.isoformat()}
    errors = assert_problem(api.post(url(window, "reschedule"), backwards, token=write_token), 400)["errors"]
    assert errors == {"scheduled_until": ["The window must end after it starts."]}

    services.maintenance_transition(actor=SYSTEM, window=window, status="in_progress")
    body = assert_problem(
        api.post(
            url(window, "reschedule"),
            {"scheduled_for": start.isoformat(), "scheduled_until": end.isoformat()},
            token=write_token,
        ),
        409,
    )
    assert "has not started" in body["detail"]


def test_the_list_filters_by_status_latest_first(api, read_token):
    soon = _schedule(title="Soon", days=1)
    later = _schedule(title="Later", days=3)
    cancelled = _schedule(title="Called off", days=2)
    services.maintenance_transition(actor=SYSTEM, window=cancelled, status="cancelled")
    body = api.get(MAINTENANCE, token=read_token).json()
    assert body["count"] == 3
    assert [w["title"] for w in body["results"]] == ["Later", "Called off", "Soon"]
    scheduled = api.get(f"{MAINTENANCE}?status=scheduled", token=read_token).json()
    assert [w["id"] for w in scheduled["results"]] == [later.pk, soon.pk]
    assert "updates" not in scheduled["results"][0]
    assert "status" in assert_problem(api.get(f"{MAINTENANCE}?status=nope", token=read_token), 400)["errors"]


def test_the_list_paginates_with_a_bounded_number_of_queries(
    api, payouts, read_token, django_assert_max_num_queries
):
    other = Component.objects.create(name="Reports")
    for index in range(12):
        _schedule(title=f"Window {index}", components=[payouts, other], days=index + 1)
    with django_assert_max_num_queries(6):
        response = api.get(f"{MAINTENANCE}?page_size=10", token=read_token)
    body = response.json()
    assert body["count"] == 12 and len(body["results"]) == 10
    assert all(len(w["components"]) == 2 for w in body["results"])


def test_the_detail_reads_with_a_bounded_number_of_queries(
    api, payouts, read_token, django_assert_max_num_queries
):
    window = _schedule(components=[payouts])
    for index in range(5):
        services.maintenance_post_update(actor=SYSTEM, window=window, body=f"Update {index}")
    with django_assert_max_num_queries(6):
        body = api.get(url(window), token=read_token).json()
    assert len(body["updates"]) == 6


def test_unknown_window_is_a_404_problem(api, write_token):
    assert_problem(api.get(f"{MAINTENANCE}999999/", token=write_token), 404)
    assert_problem(
        api.post(f"{MAINTENANCE}999999/transition/", {"status": "cancelled"}, token=write_token), 404
    )


def test_the_schema_documents_the_maintenance_endpoints(client):
    schema = client.get("/api/v1/schema/", headers={"Accept": "application/json"}).json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/maintenance/"])
    assert "get" in paths["/api/v1/maintenance/{window_id}/"]
    for action in ("transition", "updates", "reschedule"):
        operation = paths[f"/api/v1/maintenance/{{window_id}}/{action}/"]["post"]
        assert operation["tags"] == ["maintenance"] and operation["summary"]
