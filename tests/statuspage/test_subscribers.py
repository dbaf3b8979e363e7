"""Public subscriptions: subscribe with double opt-in, signed confirm/manage/unsubscribe links, rate limits,
the honeypot, bad addresses, and the selector that picks who hears about a component."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from opsportal.core.models import AuditEntry
from opsportal.notifications.delivery import deliveries_claim_due
from opsportal.notifications.models import Delivery
from opsportal.notifications.transports.base import filled
from statuspage import subscriptions
from statuspage.models import Component, Subscriber
from statuspage.subscriber_selectors import subscribers_for_components

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_webhooks_refused(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False


@pytest.fixture
def payments():
    return Component.objects.create(name="Payments")


@pytest.fixture
def checkout():
    return Component.objects.create(name="Checkout")


@pytest.fixture
def public():
    # Public pages carry no CSRF token, so these posts must work with CSRF checks on.
    return Client(enforce_csrf_checks=True)


def subscribe(public, **data):
    return public.post("/subscribe/", {"channel": "email", "address": "ops@shop.example", **data})


def confirm_path(subscriber):
    return f"/subscriptions/confirm/{subscriptions.subscriber_confirm_token(subscriber)}/"


def as_sent():
    """The one waiting delivery as the engine hands it to a transport, with what is looked up at send time."""
    [delivery] = deliveries_claim_due()[1]
    return delivery


def manage_path(subscriber, suffix=""):
    return f"/subscriptions/{subscriptions.subscriber_manage_token(subscriber)}/{suffix}"


def test_subscribe_saves_a_pending_subscriber_and_enqueues_one_confirmation(public, payments):
    response = subscribe(public, address="Ops@Shop.EXAMPLE", components=[payments.pk])
    assert response.status_code == 200
    assert "Almost done" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.address == "Ops@shop.example" and subscriber.status == "pending"
    assert list(subscriber.components.all()) == [payments]
    delivery = Delivery.objects.get()
    assert delivery.message.kind == "subscription_confirm"
    assert (delivery.channel, delivery.address) == ("email", "Ops@shop.example")
    # The stored message holds no link: it is signed and filled in as the email goes out.
    assert "/subscriptions/" not in delivery.message.text_body and delivery.context == {}
    delivery = as_sent()
    assert "/subscriptions/confirm/" in filled(delivery, delivery.message.text_body)
    assert "/subscriptions/confirm/" in filled(delivery, delivery.message.html_body)
    assert delivery.send_context["unsubscribe_url"].endswith("/unsubscribe/")
    assert AuditEntry.objects.filter(action="subscriber.subscribed").count() == 1


def test_unconfirmed_subscribers_receive_nothing_but_the_confirmation(public, payments):
    subscribe(public, components=[payments.pk])
    assert list(subscribers_for_components([payments.pk])) == []


def test_the_home_page_carries_a_small_subscribe_form_without_a_csrf_token(public):
    html = public.get("/").content.decode()
    assert 'action="/subscribe/"' in html and 'name="website"' in html
    assert "csrfmiddlewaretoken" not in html


def test_the_subscribe_page_lists_only_public_components(public, payments):
    Component.objects.create(name="Internal batch", showcase=False)
    html = public.get("/subscribe/").content.decode()
    assert "Payments" in html and "Internal batch" not in html and "csrfmiddlewaretoken" not in html


def test_subscribing_an_active_address_again_answers_the_same_and_adds_nothing(public):
    first = subscribe(public)
    Subscriber.objects.update(confirmed_at=timezone.now())
    again = subscribe(public)
    assert again.status_code == first.status_code == 200
    neutral = "If this address is not subscribed yet, we have sent it a confirmation"
    assert neutral in first.content.decode() and neutral in again.content.decode()
    assert Subscriber.objects.count() == 1
    assert Delivery.objects.count() == 1  # confirmed: no new confirmation either


def test_confirm_link_shows_a_button_then_confirms_on_post(public):
    subscribe(public)
    subscriber = Subscriber.objects.get()
    page = public.get(confirm_path(subscriber))
    assert page.status_code == 200 and Subscriber.objects.get().confirmed_at is None
    response = public.post(confirm_path(subscriber))
    assert response.status_code == 200 and "You are subscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == "active"
    assert list(subscribers_for_components([])) == [subscriber]


def test_a_tampered_confirm_link_is_refused(public):
    subscribe(public)
    subscriber = Subscriber.objects.get()
    token = subscriptions.subscriber_confirm_token(subscriber)
    other_pk = token.replace(f"{subscriber.pk}:", f"{subscriber.pk + 1}:", 1)
    for bad in (token[:-2] + "xx", other_pk, "garbage"):
        response = public.post(f"/subscriptions/confirm/{bad}/")
        assert response.status_code == 400 and "not valid" in response.content.decode()
    assert Subscriber.objects.get().confirmed_at is None


def test_an_expired_confirm_link_is_refused(public):
    subscribe(public)
    subscriber = Subscriber.objects.get()
    path = confirm_path(subscriber)
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        response = public.post(path)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert Subscriber.objects.get().confirmed_at is None


def test_one_click_unsubscribe_works_without_login_or_csrf(public):
    subscribe(public)
    subscriber = Subscriber.objects.get()
    subscriptions.subscriber_confirm(token=subscriptions.subscriber_confirm_token(subscriber))
    ask = public.get(manage_path(subscriber, "unsubscribe/"))
    assert ask.status_code == 200 and Subscriber.objects.get().unsubscribed_at is None
    response = public.post(
        manage_path(subscriber, "unsubscribe/"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    assert list(subscribers_for_components([])) == []
    # Twice is fine (mail providers may retry).
    assert public.post(manage_path(subscriber, "unsubscribe/")).status_code == 200
    assert AuditEntry.objects.filter(action="subscriber.unsubscribed").count() == 1


def test_a_tampered_manage_link_is_refused(public):
    subscribe(public)
    subscriber = Subscriber.objects.get()
    response = public.post(manage_path(subscriber, "unsubscribe/").replace(":", ":x", 1))
    assert response.status_code == 404
    assert Subscriber.objects.get().unsubscribed_at is None


def test_the_manage_page_changes_components(public, payments, checkout):
    subscribe(public)
    subscriber = Subscriber.objects.get()
    response = public.post(manage_path(subscriber), {"components": [checkout.pk]})
    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert list(subscriber.components.all()) == [checkout]


def test_rate_limit_per_ip_answers_429(public, settings):
    settings.SUBSCRIBE_RATE_PER_IP = 5
    for n in range(5):
        assert subscribe(public, address=f"ops{n}@shop.example").status_code == 200
    response = subscribe(public, address="ops9@shop.example")
    assert response.status_code == 429 and "Too many" in response.content.decode()
    assert response["Retry-After"]
    assert Subscriber.objects.count() == 5


def test_rate_limit_per_address_answers_429(settings):
    settings.SUBSCRIBE_RATE_PER_ADDRESS = 3
    for n in range(3):
        response = Client(REMOTE_ADDR=f"203.0.113.{n}").post(
            "/subscribe/", {"channel": "email", "address": "victim@shop.example"}
        )
        assert response.status_code == 200
    response = Client(REMOTE_ADDR="203.0.113.99").post(
        "/subscribe/", {"channel": "email", "address": "VICTIM@shop.example".lower()}
    )
    assert response.status_code == 429 and "this address" in response.content.decode()
    assert Delivery.objects.count() == 3  # pending: each ask re-sent the confirmation, the 4th did not


def test_the_honeypot_saves_nothing(public):
    response = subscribe(public, website="http://spam.example")
    assert response.status_code == 200
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("channel", "address", "message"),
    [
        ("email", "not-an-email", "valid email"),
        ("sms", "416 555 0100", "international format"),
        ("webhook", "ftp://hooks.example/x", "http"),
        ("webhook", "http://127.0.0.1:8080/hook", "private, loopback"),
        ("webhook", "http://169.254.169.254/latest/meta-data", "private, loopback"),
        ("webhook", "http://[::1]/hook", "private, loopback"),
        ("carrier-pigeon", "coop 7", "Select a valid choice"),
        ("email", "", "Enter where"),
    ],
)
def test_bad_addresses_get_a_clear_error_and_nothing_is_saved(public, channel, address, message):
    response = subscribe(public, channel=channel, address=address)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()


def test_a_public_webhook_gets_a_confirmation_post_with_the_confirm_url(public, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    subscribe(public, channel="webhook", address="http://127.0.0.1:9/hook")
    subscriber = Subscriber.objects.get()
    delivery = Delivery.objects.get()
    assert delivery.channel == "webhook" and subscriber.secret not in str(delivery.message.payload)
    assert delivery.context == {}
    # The whole payload is the webhook body, its secret and links filled in at send time.
    delivery = as_sent()
    body = filled(delivery, delivery.message.payload)["subscription_confirm"]
    assert "/subscriptions/confirm/" in body["confirm_url"] and body["method"] == "POST"
    assert body["signing_secret"] == subscriber.secret


def test_a_confirmation_webhook_reaches_a_local_receiver_signed(public, settings):
    """End to end through the real delivery engine and webhook transport, to a server on loopback."""
    import hashlib
    import hmac
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from opsportal.notifications.delivery import deliver_due_batches

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.WEBHOOKS_ALLOW_PRIVATE = True
        subscribe(public, channel="webhook", address=f"http://127.0.0.1:{server.server_port}/hook")
        deliver_due_batches()
    finally:
        server.shutdown()
    subscriber = Subscriber.objects.get()
    ((headers, body),) = received
    expected = hmac.new(
        subscriber.secret.encode(), headers["X-Opsportal-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert expected in headers["X-Opsportal-Signature"]
    confirm_url = json.loads(body)["subscription_confirm"]["confirm_url"]
    assert public.post(confirm_url.removeprefix(settings.PUBLIC_URL)).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "active"


def test_an_sms_confirmation_keeps_the_link_whole():
    from opsportal.notifications.transports.sms import sms_text

    Client().post("/subscribe/", {"channel": "sms", "address": "+14165550100"})
    delivery = as_sent()
    text = sms_text(delivery)
    assert text.endswith(delivery.send_context["short_url"]) and "/subscriptions/confirm/" in text


def test_phone_numbers_are_stored_in_e164(public):
    subscribe(public, channel="sms", address="+1 (416) 555-0100")
    assert Subscriber.objects.get().address == "+14165550100"
    assert Delivery.objects.get().channel == "sms"


def test_quarantine_stops_sending_and_is_audited(public):
    subscribe(public)
    subscriber = Subscriber.objects.get()
    subscriptions.subscriber_confirm(token=subscriptions.subscriber_confirm_token(subscriber))
    subscriptions.subscriber_quarantine(subscriber_id=subscriber.pk, reason="550 no such user")
    subscriber.refresh_from_db()
    assert subscriber.status == "quarantined" and subscriber.quarantine_reason == "550 no such user"
    assert list(subscribers_for_components([])) == []
    assert AuditEntry.objects.filter(action="subscriber.quarantined").count() == 1


def test_hard_bounces_from_the_delivery_log_quarantine_subscribers_only():
    subscriber = _active("bounce@shop.example")
    count = subscriptions.subscribers_quarantine_bounced(
        bounces=[(f"subscriber:{subscriber.pk}", "550 5.1.1"), ("user:3", "x"), ("", "y")]
    )
    assert count == 1
    subscriber.refresh_from_db()
    assert subscriber.status == "quarantined"


def _active(address, components=(), **extra):
    subscriber = Subscriber.objects.create(
        channel="email", address=address, confirmed_at=timezone.now(), **extra
    )
    subscriber.components.set(components)
    return subscriber


def test_subscribers_for_components_picks_followers_and_everything_followers(
    payments, checkout, django_assert_num_queries
):
    everything = _active("all@shop.example")
    pays = _active("pay@shop.example", [payments])
    both = _active("both@shop.example", [payments, checkout])
    _active("check@shop.example", [checkout])
    Subscriber.objects.create(channel="email", address="pending@shop.example")  # not confirmed
    _active("gone@shop.example", unsubscribed_at=timezone.now())
    _active("bounced@shop.example", [payments], quarantined_at=timezone.now())
    with django_assert_num_queries(1):
        chosen = list(subscribers_for_components([payments.pk]))
    assert chosen == [everything, pays, both]


def test_subscriber_links_and_the_webhook_secret_are_looked_up_at_send_time_not_stored(payments):
    email = _active("a@shop.example")
    hook = Subscriber.objects.create(
        channel="webhook", address="https://hooks.example/x", secret="s3cr3t", confirmed_at=timezone.now()
    )
    recipients = {r.channel: r for r in subscriptions.subscriber_recipients([email, hook])}
    assert recipients["email"].ref == f"subscriber:{email.pk}"
    assert recipients["email"].context == recipients["webhook"].context == {}
    found = subscriptions.subscribers_send_context(refs=[f"subscriber:{email.pk}", f"subscriber:{hook.pk}"])
    assert found[f"subscriber:{email.pk}"]["unsubscribe_url"].startswith("http")
    assert "secret" not in found[f"subscriber:{email.pk}"]
    assert found[f"subscriber:{hook.pk}"]["secret"] == "s3cr3t"
    manage = found[f"subscriber:{hook.pk}"]["manage_url"]
    token = manage.rstrip("/").rsplit("/", 1)[1]
    assert subscriptions.subscriber_from_manage_token(token) == hook


def test_subscribers_for_components_streams_with_constant_queries(payments, django_assert_num_queries):
    Subscriber.objects.bulk_create(
        Subscriber(channel="email", address=f"m{n}@shop.example", confirmed_at=timezone.now())
        for n in range(250)
    )
    with django_assert_num_queries(1):
        rows = list(subscribers_for_components([payments.pk]).iterator(chunk_size=100))
    assert len(rows) == 250


def test_an_address_may_subscribe_again_after_unsubscribing(public):
    subscribe(public)
    subscriptions.subscriber_unsubscribe(subscriber=Subscriber.objects.get())
    subscribe(public)
    assert Subscriber.objects.count() == 2
    assert Subscriber.objects.filter(unsubscribed_at__isnull=True).count() == 1
