"""Subscribers in the staff portal: list with filters and counts, CSV export without secrets, and an
all-or-nothing CSV import for admins."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from opsportal.core.models import AuditEntry
from statuspage.models import Component, Subscriber

pytestmark = pytest.mark.django_db

LIST = "/portal/subscribers/"
EXPORT = "/portal/subscribers/export.csv"
IMPORT = "/portal/subscribers/import/"


@pytest.fixture(autouse=True)
def _loopback_webhooks_refused(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False


@pytest.fixture
def components():
    return Component.objects.create(name="Payments"), Component.objects.create(name="Checkout")


@pytest.fixture
def mixed():
    now = timezone.now()
    active = Subscriber.objects.create(channel="email", address="a@shop.example", confirmed_at=now)
    Subscriber.objects.create(channel="sms", address="+14165550100")  # pending
    Subscriber.objects.create(
        channel="webhook", address="https://hooks.example/x", secret="topsecret", confirmed_at=now
    )
    Subscriber.objects.create(
        channel="email", address="b@shop.example", confirmed_at=now, unsubscribed_at=now
    )
    return active


def _upload(client, text: str):
    return client.post(IMPORT, {"file": SimpleUploadedFile("subs.csv", text.encode(), "text/csv")})


def test_staff_see_subscribers_with_counts_and_filters(client_for, vera, mixed):
    response = client_for(vera).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "a@shop.example" in html and "+14165550100" in html
    assert 'data-status="active">2<' in html and 'data-status="pending">1<' in html
    assert 'data-status="unsubscribed">1<' in html
    filtered = client_for(vera).get(LIST, {"channel": "email", "status": "active"}).content.decode()
    assert "a@shop.example" in filtered and "b@shop.example" not in filtered and "+1416" not in filtered
    assert "topsecret" not in html


def test_the_nav_links_to_subscribers(client_for, vera):
    assert f'href="{LIST}"' in client_for(vera).get("/portal/").content.decode()


def test_outsiders_cannot_see_subscribers(client_for, charlie, mixed):
    assert client_for(charlie).get(LIST).status_code == 403
    assert client_for(None).get(LIST).status_code == 302


def test_the_list_uses_a_bounded_number_of_queries(
    client_for, vera, components, django_assert_max_num_queries
):
    for n in range(40):
        Subscriber.objects.create(channel="email", address=f"m{n}@shop.example").components.set(components)
    client = client_for(vera)
    client.get(LIST)  # warm the session
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200


def test_export_has_every_column_but_secrets_and_is_audited(client_for, alice, mixed, components):
    mixed.components.set(components)
    response = client_for(alice).get(EXPORT)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    assert "secret" not in rows[0] and "topsecret" not in text
    first = next(row for row in rows if row["address"] == "a@shop.example")
    assert first["status"] == "active" and first["components"] == "Checkout;Payments"
    assert next(row for row in rows if row["channel"] == "sms")["address"] == "+14165550100"
    assert AuditEntry.objects.filter(action="subscriber.exported", actor=alice).exists()


@pytest.mark.parametrize("persona", ["viewer", "responder", "incident_commander"])
def test_only_admins_export_subscribers_personal_data(client_for, personas, mixed, persona):
    client = client_for(personas[persona])
    assert client.get(EXPORT).status_code == 403
    assert not AuditEntry.objects.filter(action="subscriber.exported").exists()
    assert "Export CSV" not in client.get(LIST).content.decode()
    assert "Export CSV" in client_for(personas["admin"]).get(LIST).content.decode()


def test_an_admin_imports_a_csv_as_confirmed_subscribers(client_for, alice, components):
    text = (
        "channel,address,components\n"
        "email,Ops@Shop.example,Payments;checkout\n"
        "sms,+1 416 555 0100,\n"
        "webhook,https://93.184.215.14/hook,Payments\n"
    )
    response = _upload(client_for(alice), text)
    assert response.status_code == 200, response.content.decode()
    assert "Imported 3 subscribers" in response.content.decode()
    assert Subscriber.objects.filter(confirmed_at__isnull=False).count() == 3
    email = Subscriber.objects.get(channel="email")
    assert email.address == "Ops@shop.example" and email.components.count() == 2
    assert len(Subscriber.objects.get(channel="webhook").secret) == 64
    assert AuditEntry.objects.get(action="subscriber.imported").after == {"imported": 3, "skipped": 0}


def test_a_bad_row_imports_nothing_and_every_bad_row_is_named(client_for, alice, components):
    text = (
        "channel,address,components\n"
        "email,good@shop.example,Payments\n"
        "email,not-an-email,\n"
        "sms,12345,\n"
        "webhook,http://192.168.1.10/hook,\n"
        "email,other@shop.example,Nonexistent\n"
        "email,good@SHOP.example,\n"
        "fax,+14165550100,\n"
    )
    response = _upload(client_for(alice), text)
    html = response.content.decode()
    assert response.status_code == 400
    assert not Subscriber.objects.exists()
    assert "Nothing was imported: 6 rows to fix" in html
    assert "Line 3: Enter a valid email address" in html
    assert "Line 4: Give the number in international format" in html
    assert "Line 5: Webhooks cannot point at private" in html
    assert "Line 6: Unknown component(s): Nonexistent." in html
    assert "Line 7: Same email address as line 2." in html
    assert "Line 8: Choose one of: email, sms, webhook." in html
    assert not AuditEntry.objects.filter(action="subscriber.imported").exists()


def test_import_skips_addresses_already_subscribed(client_for, alice, mixed):
    response = _upload(client_for(alice), "channel,address\nemail,a@shop.example\nemail,new@shop.example\n")
    assert response.status_code == 200
    assert "Imported 1 subscriber" in response.content.decode()
    assert "Line 2: Already subscribed" in response.content.decode()


def test_a_file_without_the_header_is_refused(client_for, alice):
    response = _upload(client_for(alice), "email,a@shop.example\n")
    assert response.status_code == 400 and "header" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_only_admins_import(client_for, irene):
    response = _upload(client_for(irene), "channel,address\nemail,a@shop.example\n")
    assert response.status_code == 403
    assert not Subscriber.objects.exists()
