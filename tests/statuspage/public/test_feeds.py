"""RSS 2.0 and Atom feeds of public incident and maintenance updates: valid XML, right elements, nothing internal."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from django.utils import timezone

from opsportal.changes.services import maintenance_schedule, maintenance_transition
from opsportal.incidents.services import incident_add_note, incident_declare, incident_post_update
from statuspage.models import Component

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SECRETS = (b"SECRET-title", b"SECRET-summary", b"SECRET-note")


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own feed, parsed in a test


@pytest.fixture
def history(rob):
    checkout = Component.objects.create(name="Checkout")
    incident = incident_declare(
        actor=rob,
        title="SECRET-title: db failover",
        summary="SECRET-summary",
        severity="P2",
        public_title="Checkout errors & timeouts",
    )
    incident_add_note(actor=rob, incident=incident, body="SECRET-note: promote replica")
    incident_post_update(
        actor=rob,
        incident=incident,
        status="investigating",
        body="We are looking into <checkout> errors.",
        component_statuses=[(checkout, "partial_outage")],
    )
    incident_post_update(actor=rob, incident=incident, status="resolved", body="Checkout is back.")
    incident_declare(actor=rob, title="SECRET-title quiet", severity="P3", public_title="Never public")
    window = maintenance_schedule(
        actor=rob,
        title="Payout bank switch",
        body="Payouts pause for 30 minutes.",
        components=[],
        scheduled_for=timezone.now() + timedelta(hours=1),
        scheduled_until=timezone.now() + timedelta(hours=2),
    )
    maintenance_transition(actor=rob, window=window, status="cancelled", body="Postponed to next week.")
    return {"incident": incident, "window": window}


def test_feeds_rss_is_rss_2_with_one_item_per_public_update(client, history, settings):
    response = client.get("/history.rss")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = parse_xml(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for element in ("title", "link", "description", "lastBuildDate"):
        assert channel.find(element) is not None and channel.find(element).text, element
    items = channel.findall("item")
    titles = [item.findtext("title") for item in items]
    assert titles == [
        "Maintenance: Payout bank switch — Cancelled",
        "Maintenance: Payout bank switch — Scheduled",
        "Checkout errors & timeouts — Resolved",
        "Checkout errors & timeouts — Investigating",
    ]
    incident, window = history["incident"], history["window"]
    by_title = {item.findtext("title"): item for item in items}
    investigating = by_title["Checkout errors & timeouts — Investigating"]
    # Escaped text: feed readers treat a description as HTML, so "<checkout>" must arrive as the characters.
    assert investigating.findtext("description") == "We are looking into &lt;checkout&gt; errors."
    assert investigating.findtext("link") == f"{settings.PUBLIC_URL}/incidents/{incident.pk}/"
    assert investigating.find("guid").get("isPermaLink") == "false"
    assert parsedate_to_datetime(investigating.findtext("pubDate")).tzinfo is not None
    cancelled = by_title["Maintenance: Payout bank switch — Cancelled"]
    assert cancelled.findtext("link") == f"{settings.PUBLIC_URL}/maintenance/{window.pk}/"
    assert cancelled.findtext("description") == "Postponed to next week."
    assert len({item.findtext("guid") for item in items}) == len(items)


def test_feeds_atom_has_the_required_elements(client, history, settings):
    response = client.get("/history.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = parse_xml(response.content)
    assert root.tag == f"{ATOM}feed"
    for element in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{element}") is not None, element
    self_link = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link and self_link[0].get("href") == f"{settings.PUBLIC_URL}/history.atom"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 4
    for entry in entries:
        for element in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{element}") is not None, element
    first_incident_entry = next(e for e in entries if "Checkout" in e.findtext(f"{ATOM}title"))
    assert (
        first_incident_entry.find(f"{ATOM}link").get("href").endswith(f"/incidents/{history['incident'].pk}/")
    )


def test_feeds_never_carry_internal_fields(client, history):
    for path in ("/history.rss", "/history.atom"):
        content = client.get(path).content
        for secret in (*SECRETS, b"Never public"):
            assert secret not in content, (path, secret)


def test_feeds_are_cached_with_etags_and_open_to_any_origin(client, history, django_assert_num_queries):
    first = client.get("/history.rss")
    assert first["Access-Control-Allow-Origin"] == "*"
    with django_assert_num_queries(0):
        again = client.get("/history.rss", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_feeds_show_a_committed_update_on_the_next_request(
    client, history, rob, django_capture_on_commit_callbacks
):
    client.get("/history.atom")
    with django_capture_on_commit_callbacks(execute=True):
        window = maintenance_schedule(
            actor=rob,
            title="Ledger migration",
            body="Reports are delayed.",
            components=[],
            scheduled_for=timezone.now() + timedelta(days=1),
            scheduled_until=timezone.now() + timedelta(days=1, hours=1),
        )
    assert window.pk
    assert b"Ledger migration" in client.get("/history.atom").content


def test_feeds_of_an_empty_page_are_valid(client, db):
    for path in ("/history.rss", "/history.atom"):
        response = client.get(path)
        assert response.status_code == 200
        parse_xml(response.content)
