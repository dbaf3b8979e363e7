"""Hostile input on maintenance: control characters, multi-line titles, oversized bodies and years out of range
are refused (a 400 problem in the API, a form error in the portal), and no window, update or message appears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opsportal.changes import services
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from opsportal.core.services import SYSTEM
from opsportal.notifications.models import Message

pytestmark = pytest.mark.django_db

MAINTENANCE = "/api/v1/maintenance/"
VALID = {
    "title": "Payouts bank-file switch",
    "body": "Payouts pause for an hour.",
    "scheduled_for": "2030-01-01T00:00:00Z",
    "scheduled_until": "2030-01-01T01:00:00Z",
}


@pytest.fixture
def token(rob, make_token):
    return make_token(rob, "statuspage:write")


@pytest.fixture
def window():
    start = timezone.now() + timedelta(days=2)
    return services.maintenance_schedule(
        actor=SYSTEM,
        title="Payouts bank-file switch",
        body="Payouts pause for an hour.",
        components=[],
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Payouts\nswitch"),
        ("title", "Payouts\x0bswitch"),
        ("title", "x" * 201),
        ("body", "Pause\x0bnow"),
        ("body", "x" * 2_400_000),
        ("scheduled_for", "9999-12-31T22:00:00Z"),
        ("scheduled_until", "9999-12-31T23:59:59Z"),
        ("scheduled_for", "0001-01-01T00:00:00Z"),
    ],
)
def test_api_schedule_refuses_hostile_fields(api, token, field, value):
    response = api.post(MAINTENANCE, {**VALID, field: value}, token=token)
    assert response.status_code in (400, 413), response.content
    assert not MaintenanceWindow.objects.exists() and not Message.objects.exists()


@pytest.mark.parametrize("body", ["Done\x0b.", "Done\x00.", "x" * 5_001])
def test_api_update_refuses_hostile_bodies(api, token, window, body):
    before = MaintenanceUpdate.objects.count()
    response = api.post(f"{MAINTENANCE}{window.pk}/updates/", {"body": body}, token=token)
    assert response.status_code == 400
    assert MaintenanceUpdate.objects.count() == before


def test_api_reschedule_to_year_9999_answers_400(api, token, window):
    response = api.post(
        f"{MAINTENANCE}{window.pk}/reschedule/",
        {"scheduled_for": "9999-12-31T00:00:00Z", "scheduled_until": "9999-12-31T23:00:00Z"},
        token=token,
    )
    assert response.status_code == 400
    window.refresh_from_db()
    assert window.scheduled_for.year != 9999


def test_service_refuses_year_9999(rob):
    with pytest.raises(ValidationError):
        services.maintenance_schedule(
            actor=rob,
            title="x",
            body="y",
            components=[],
            scheduled_for=datetime(9999, 12, 31, 22, tzinfo=UTC),
            scheduled_until=datetime(9999, 12, 31, 23, tzinfo=UTC),
        )
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {
            "title": "Payouts\x0bswitch",
            "body": "ok",
            "scheduled_for": "2030-01-01T00:00",
            "scheduled_until": "2030-01-01T01:00",
        },
        {
            "title": "ok",
            "body": "a\x1bb",
            "scheduled_for": "2030-01-01T00:00",
            "scheduled_until": "2030-01-01T01:00",
        },
        {
            "title": "ok",
            "body": "ok",
            "scheduled_for": "9999-12-31T22:00",
            "scheduled_until": "9999-12-31T23:00",
        },
    ],
)
def test_portal_schedule_form_refuses_hostile_input(client_for, irene, data):
    response = client_for(irene).post("/portal/maintenance/new/", data)
    assert response.status_code in (200, 400)
    assert not MaintenanceWindow.objects.exists()
