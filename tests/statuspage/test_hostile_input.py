"""Hostile input on the public side: rows stored before the input rules (a vertical tab in an update, a line break
in a public title) no longer break the feeds, the static export or the emails; feed bodies are escaped text; every
subscriber email and SMS shows where to manage or stop it; out-of-range dates in public query strings are a 400."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from opsportal.core.services import job_execute, jobs_claim_due
from opsportal.incidents import services as incidents
from opsportal.incidents.models import Incident, PublicUpdate
from opsportal.notifications.delivery import deliver_due_batches
from opsportal.notifications.models import Delivery
from opsportal.notifications.transports.sms import sms_text
from statuspage.models import Component, Subscriber
from tests.notifications.test_email import mail_sink as mail_sink  # a fixture: real SMTP on loopback

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own feed, parsed in a test


@pytest.fixture
def checkout():
    return Component.objects.create(name="Checkout")


@pytest.fixture
def subscribers(checkout):
    now = timezone.now()
    email = Subscriber.objects.create(channel="email", address="ana@shop.example.com", confirmed_at=now)
    sms = Subscriber.objects.create(channel="sms", address="+14165550100", confirmed_at=now)
    return {"email": email, "sms": sms}


@pytest.fixture
def legacy(rob, checkout):
    """An incident whose public title and first update were stored before the rules refused them."""
    incident = incidents.incident_declare(actor=rob, title="Checkout errors", severity="P2")
    update = incidents.incident_post_update(
        actor=rob, incident=incident, status="investigating", body="On it."
    )
    Incident.objects.filter(pk=incident.pk).update(public_title="Checkout\nerrors\r\nBcc: all@example.com")
    PublicUpdate.objects.filter(pk=update.pk).update(body="Card\x0bpayments\x1b fail\ufffe <b>now</b>")
    return Incident.objects.get(pk=incident.pk)


def _deliver_everything() -> None:
    for _ in range(5):
        for job_id in jobs_claim_due():
            job_execute(job_id=job_id)
        deliver_due_batches()


@pytest.mark.parametrize("path", ["/history.rss", "/history.atom"])
def test_feeds_survive_control_characters_stored_before_the_rules(client, legacy, path):
    response = client.get(path)
    assert response.status_code == 200
    root = parse_xml(response.content)  # well-formed XML 1.0
    text = ET.tostring(root, encoding="unicode")
    assert "Checkout errors Bcc: all@example.com — Investigating" in text
    assert "Cardpayments fail" in text


def test_feed_bodies_are_escaped_text(client, legacy):
    root = parse_xml(client.get("/history.atom").content)
    summary = root.find(f"{ATOM}entry/{ATOM}summary")
    # A reader unescapes once and shows the characters "<b>", never bold text or a script.
    assert "&lt;b&gt;now&lt;/b&gt;" in summary.text and "<b>" not in summary.text
    rss = parse_xml(client.get("/history.rss").content)
    assert "&lt;b&gt;now&lt;/b&gt;" in rss.find("channel/item/description").text


def test_static_export_survives_control_characters_stored_before_the_rules(tmp_path, legacy):
    call_command("export_statuspage", str(tmp_path))
    assert parse_xml((tmp_path / "history.rss").read_bytes()).tag == "rss"
    assert parse_xml((tmp_path / "history.atom").read_bytes()).tag == f"{ATOM}feed"
    assert (tmp_path / f"incidents/{legacy.pk}/index.html").exists()


@pytest.mark.parametrize("path", ["/", "/api/v2/summary.json", "/api/v2/incidents.json", "/history/"])
def test_public_pages_and_json_survive_stored_control_characters(client, legacy, path):
    assert client.get(path).status_code == 200


def test_a_title_with_a_line_break_stored_before_the_rules_still_reaches_email(
    rob, legacy, subscribers, mail_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incidents.incident_post_update(actor=rob, incident=legacy, status="identified", body="Found it.")
    _deliver_everything()
    assert not Delivery.objects.filter(channel="email").exclude(status="sent").exists()
    subjects = [mail["Subject"] for _, mail in mail_sink.messages]
    assert "[Identified] Checkout errors Bcc: all@example.com" in subjects
    assert all(mail["Bcc"] is None for _, mail in mail_sink.messages)


def test_subscriber_email_shows_a_visible_manage_and_unsubscribe_link(
    rob, checkout, subscribers, mail_sink, django_capture_on_commit_callbacks
):
    incident = incidents.incident_declare(actor=rob, title="Checkout errors", severity="P2")
    with django_capture_on_commit_callbacks(execute=True):
        incidents.incident_post_update(actor=rob, incident=incident, status="investigating", body="On it.")
    _deliver_everything()
    [(_, mail)] = [(to, mail) for to, mail in mail_sink.messages if to == ["ana@shop.example.com"]]
    manage_url = Delivery.objects.get(channel="email").context["manage_url"]
    assert f"Manage your subscription or unsubscribe: {manage_url}" in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert f'href="{manage_url}"' in html and "Manage your subscription or unsubscribe</a>" in html


def test_a_long_body_line_still_gets_its_own_manage_link(
    rob, checkout, subscribers, mail_sink, django_capture_on_commit_callbacks
):
    """A line past 998 bytes makes the text part quoted-printable: the per-recipient link must still be right."""
    incident = incidents.incident_declare(actor=rob, title="Checkout errors", severity="P2")
    with django_capture_on_commit_callbacks(execute=True):
        incidents.incident_post_update(
            actor=rob, incident=incident, status="investigating", body="slow " * 900
        )
    _deliver_everything()
    [(_, mail)] = [(to, mail) for to, mail in mail_sink.messages if to == ["ana@shop.example.com"]]
    manage_url = Delivery.objects.get(channel="email").context["manage_url"]
    assert manage_url in mail.get_body(("plain",)).get_content()


def test_subscriber_sms_shows_where_to_stop_it(
    rob, checkout, subscribers, django_capture_on_commit_callbacks
):
    incident = incidents.incident_declare(
        actor=rob, title="x", public_title="Zahlungen verzögert — 支付延迟 " * 5, severity="P2"
    )
    with django_capture_on_commit_callbacks(execute=True):
        incidents.incident_post_update(actor=rob, incident=incident, status="investigating", body="On it.")
    _deliver_everything()
    delivery = Delivery.objects.get(channel="sms")
    text = sms_text(delivery)
    assert text.endswith(f"Manage/stop: {delivery.context['manage_url']}")


@pytest.mark.parametrize("before", ["9999-12", "0001-01", "abc", "2026-13"])
def test_history_with_a_month_out_of_range_answers_400(client, before):
    assert client.get(f"/history/?before={before}").status_code == 400


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        ("email", "ana@shop.example.com\r\nBcc: all@example.com"),
        ("email", "ana@shop\x0b.example.com"),
        ("sms", "+14165550100\x00"),
        ("webhook", "https://hooks.example.com/\x85status"),
        ("email", "a" * 600 + "@shop.example.com"),
    ],
)
def test_subscribe_refuses_addresses_with_control_characters(
    client, api, alice, make_token, channel, address
):
    client.post("/subscribe/", {"channel": channel, "address": address})
    token = make_token(alice, "subscribers:write")
    response = api.post("/api/v1/subscribers/", {"channel": channel, "address": address}, token=token)
    assert response.status_code == 400
    assert not Subscriber.objects.exists()


def test_maintenance_calendar_drops_control_characters_stored_before_the_rules(client, rob):
    import icalendar

    from opsportal.changes import services as maintenance
    from opsportal.changes.models import MaintenanceWindow

    start = timezone.now() + timedelta(days=2)
    window = maintenance.maintenance_schedule(
        actor=rob,
        title="Payouts",
        body="Pause.",
        components=[],
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
    )
    MaintenanceWindow.objects.filter(pk=window.pk).update(title="Payouts\x0bswitch\x1b")
    response = client.get("/maintenance.ics")
    assert response.status_code == 200
    assert not any(ord(c) < 32 and c not in "\r\n\t" for c in response.content.decode())
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert "Payoutsswitch" in str(event["SUMMARY"])
