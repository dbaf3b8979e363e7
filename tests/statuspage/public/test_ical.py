"""The maintenance calendar: RFC 5545 that a real parser reads back, with UTC times, folding and escaping."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core.cache import cache
from django.utils import timezone

from opsportal.changes.services import maintenance_schedule, maintenance_transition
from opsportal.core.icalendar_text import escape_text, fold
from statuspage.models import Component

pytestmark = pytest.mark.django_db


def test_ical_escape_text_escapes_what_rfc_5545_says():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert escape_text("x\r\ny") == "x\\ny"


def test_ical_fold_keeps_every_line_within_75_octets_and_never_splits_a_character():
    line = "DESCRIPTION:" + "é€" * 60
    folded = fold(line)
    physical = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in physical)
    assert all(part.startswith(" ") for part in physical[1:])
    assert "".join([physical[0]] + [part[1:] for part in physical[1:]]) == line
    assert fold("SUMMARY:short") == "SUMMARY:short"


@pytest.fixture
def windows(rob):
    payouts = Component.objects.create(name="Payouts")
    Component.objects.create(name="Hidden ledger", showcase=False)
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    upcoming = maintenance_schedule(
        actor=rob,
        title="Payout bank switch; phase 1, EU",
        body="Payouts pause for 30 minutes.\nPlease retry afterwards. " + "Long text, " * 20,
        components=[payouts],
        scheduled_for=start,
        scheduled_until=start + timedelta(minutes=30),
    )
    cancelled = maintenance_schedule(
        actor=rob,
        title="Réindexation",
        body="Search may be slow.",
        components=[],
        scheduled_for=start + timedelta(days=1),
        scheduled_until=start + timedelta(days=1, hours=2),
    )
    maintenance_transition(actor=rob, window=cancelled, status="cancelled")
    return {"upcoming": upcoming, "cancelled": cancelled, "start": start}


def test_ical_feed_parses_back_with_the_windows_and_their_times(client, windows, settings):
    response = client.get("/maintenance.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))

    calendar = icalendar.Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    upcoming, cancelled, start = windows["upcoming"], windows["cancelled"], windows["start"]
    assert set(events) == {f"maintenance-{upcoming.pk}@127.0.0.1", f"maintenance-{cancelled.pk}@127.0.0.1"}

    event = events[f"maintenance-{upcoming.pk}@127.0.0.1"]
    assert event.decoded("DTSTART") == start.astimezone(UTC)
    assert event.decoded("DTEND") == start.astimezone(UTC) + timedelta(minutes=30)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert isinstance(event.decoded("DTSTAMP"), datetime)
    assert str(event["SUMMARY"]) == "Maintenance: Payout bank switch; phase 1, EU"
    description = str(event["DESCRIPTION"])
    assert description.startswith("Payouts pause for 30 minutes.\nPlease retry afterwards.")
    assert "Affected: Payouts" in description and "Hidden ledger" not in description
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["URL"]) == f"{settings.PUBLIC_URL}/maintenance/{upcoming.pk}/"

    gone = events[f"maintenance-{cancelled.pk}@127.0.0.1"]
    assert str(gone["STATUS"]) == "CANCELLED"
    assert str(gone["SUMMARY"]) == "Maintenance: Réindexation"


def test_ical_uids_and_bytes_are_stable_between_requests(client, windows):
    first = client.get("/maintenance.ics")
    cache.clear()  # render again from the database: the same state gives the same bytes
    second = client.get("/maintenance.ics")
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    assert client.get("/maintenance.ics", headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert first["Access-Control-Allow-Origin"] == "*"


def test_ical_a_rescheduled_window_shows_on_the_next_request(
    client, windows, rob, django_capture_on_commit_callbacks
):
    from opsportal.changes.services import maintenance_reschedule

    client.get("/maintenance.ics")
    new_start = windows["start"] + timedelta(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        maintenance_reschedule(
            actor=rob,
            window=windows["upcoming"],
            scheduled_for=new_start,
            scheduled_until=new_start + timedelta(hours=1),
        )
    calendar = icalendar.Calendar.from_ical(client.get("/maintenance.ics").content)
    event = next(
        e
        for e in calendar.walk("VEVENT")
        if str(e["UID"]).startswith(f"maintenance-{windows['upcoming'].pk}@")
    )
    assert event.decoded("DTSTART") == new_start.astimezone(UTC)


def test_ical_an_empty_calendar_is_valid(client, db):
    calendar = icalendar.Calendar.from_ical(client.get("/maintenance.ics").content)
    assert calendar.walk("VEVENT") == []
