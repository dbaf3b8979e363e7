"""Subscribers through API v1: partners manage their own (subscribers:read / subscribers:write); everybody
else's do not exist for them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from opsportal.core.models import AuditEntry
from opsportal.notifications.models import Delivery
from statuspage import subscriptions
from statuspage.models import Component, Subscriber

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscribers/"


@pytest.fixture(autouse=True)
def _loopback_webhooks_refused(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False


@pytest.fixture
def payments():
    return Component.objects.create(name="Payments")


def _send(api, method, url, token, data=None):
    return getattr(api.client, method)(
        url, data=data, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


def test_a_partner_creates_a_webhook_subscription_confirmed_at_once_with_its_secret_shown_once(
    api, rob, make_token, payments
):
    token = make_token(rob, "subscribers:write")
    response = api.post(
        URL,
        {"channel": "webhook", "address": "https://93.184.215.14/hooks/status", "components": [payments.pk]},
        token=token,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    subscriber = Subscriber.objects.get()
    assert body["status"] == "active" and body["components"] == [payments.pk]
    assert body["secret"] == subscriber.secret and len(subscriber.secret) == 64
    assert subscriber.owner == rob and subscriber.confirmed_at is not None
    assert not Delivery.objects.exists()  # the token proves who they are: no confirmation round trip
    assert "secret" not in api.get(f"{URL}{subscriber.pk}/", token=token).json()
    assert "secret" not in api.get(URL, token=token).json()["results"][0]
    assert AuditEntry.objects.get(action="subscriber.created").actor == rob


def test_a_read_token_cannot_create(api, rob, make_token):
    token = make_token(rob, "subscribers:read")
    response = api.post(URL, {"channel": "email", "address": "a@shop.example"}, token=token)
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


def test_another_areas_token_cannot_read(api, rob, make_token):
    token = make_token(rob, "statuspage:read")
    assert api.get(URL, token=token).status_code == 403


def test_no_token_is_401(api):
    assert api.get(URL).status_code == 401


def test_partners_see_only_their_own_and_others_are_404(api, rob, vera, make_token):
    now = timezone.now()
    mine = Subscriber.objects.create(channel="email", address="rob@shop.example", owner=rob, confirmed_at=now)
    theirs = Subscriber.objects.create(
        channel="email", address="vera@shop.example", owner=vera, confirmed_at=now
    )
    Subscriber.objects.create(channel="email", address="public@shop.example")
    token = make_token(rob, "subscribers:write")
    listed = api.get(URL, token=token).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert api.get(f"{URL}{theirs.pk}/", token=token).status_code == 404
    assert _send(api, "patch", f"{URL}{theirs.pk}/", token, {"components": []}).status_code == 404
    assert _send(api, "delete", f"{URL}{theirs.pk}/", token).status_code == 404
    theirs.refresh_from_db()
    assert theirs.unsubscribed_at is None


def test_patch_changes_components_and_delete_unsubscribes(api, rob, make_token, payments):
    token = make_token(rob, "subscribers:write")
    created = api.post(
        URL, {"channel": "webhook", "address": "https://93.184.215.14/hook"}, token=token
    ).json()
    assert created["components"] == []
    patched = _send(api, "patch", f"{URL}{created['id']}/", token, {"components": [payments.pk]})
    assert patched.status_code == 200 and patched.json()["components"] == [payments.pk]
    assert _send(api, "delete", f"{URL}{created['id']}/", token).status_code == 204
    assert Subscriber.objects.get().status == "unsubscribed"
    assert api.get(URL, token=token).json()["results"] == []
    # Changing a cancelled subscription is a conflict, not a silent no-op.
    again = _send(api, "patch", f"{URL}{created['id']}/", token, {"components": []})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"channel": "email", "address": "nope"}, "valid email"),
        ({"channel": "sms", "address": "0800 123"}, "international format"),
        ({"channel": "webhook", "address": "http://10.0.0.5/hook"}, "private, loopback"),
        ({"channel": "webhook", "address": "http://localhost:8000/hook"}, "private, loopback"),
        ({"channel": "pager", "address": "x"}, "channel"),
        ({"channel": "email", "address": "a@shop.example", "components": [999999]}, "components"),
    ],
)
def test_bad_input_is_a_400_problem_and_nothing_is_saved(api, rob, make_token, data, fragment):
    token = make_token(rob, "subscribers:write")
    response = api.post(URL, data, token=token)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert fragment in response.content.decode()
    assert not Subscriber.objects.exists()


def test_hidden_components_cannot_be_followed(api, rob, make_token):
    hidden = Component.objects.create(name="Internal", showcase=False)
    token = make_token(rob, "subscribers:write")
    response = api.post(
        URL, {"channel": "email", "address": "a@shop.example", "components": [hidden.pk]}, token=token
    )
    assert response.status_code == 400


def test_a_webhook_already_subscribed_is_a_conflict(api, rob, make_token):
    token = make_token(rob, "subscribers:write")
    hook = {"channel": "webhook", "address": "https://93.184.215.14/hook"}
    assert api.post(URL, hook, token=token).status_code == 201
    assert api.post(URL, hook, token=token).status_code == 409
    assert Subscriber.objects.count() == 1


def test_the_list_uses_a_constant_number_of_queries(
    api, rob, make_token, payments, django_assert_max_num_queries
):
    for n in range(30):
        Subscriber.objects.create(
            channel="email", address=f"p{n}@shop.example", owner=rob, confirmed_at=timezone.now()
        ).components.add(payments)
    token = make_token(rob, "subscribers:read")
    with django_assert_max_num_queries(8):
        response = api.get(URL, token=token)
    assert response.status_code == 200 and response.json()["count"] == 30


@pytest.mark.parametrize(("channel", "address"), [("email", "Ann@Shop.example"), ("sms", "+14165550100")])
def test_an_email_or_sms_subscription_waits_for_the_recipients_confirmation(
    api, rob, make_token, channel, address
):
    token = make_token(rob, "subscribers:write")
    response = api.post(URL, {"channel": channel, "address": address}, token=token)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "confirmation_requested"
    subscriber = Subscriber.objects.get()
    assert subscriber.owner == rob and subscriber.confirmed_at is None
    # The recipient is asked, exactly as a public sign-up would be; nothing else goes out before they say yes.
    [delivery] = Delivery.objects.all()
    assert delivery.message.kind == "subscription_confirm" and delivery.address == subscriber.address
    assert api.get(URL, token=token).json()["results"] == []
    assert api.get(f"{URL}{subscriber.pk}/", token=token).status_code == 404
    subscriptions.subscriber_confirm(token=subscriptions.subscriber_confirm_token(subscriber))
    assert [row["id"] for row in api.get(URL, token=token).json()["results"]] == [subscriber.pk]


@pytest.mark.parametrize("already", ["public_active", "public_pending", "other_partner", "same_partner"])
def test_the_answer_for_an_address_already_subscribed_is_the_answer_for_a_new_one(
    api, rob, vera, make_token, already
):
    token = make_token(rob, "subscribers:write")
    fresh = api.post(URL, {"channel": "email", "address": "new@shop.example"}, token=token)
    owner = {"other_partner": vera, "same_partner": rob}.get(already)
    confirmed = None if already == "public_pending" else timezone.now()
    existing = Subscriber.objects.create(
        channel="email", address="known@shop.example", owner=owner, confirmed_at=confirmed
    )
    deliveries_before = Delivery.objects.count()
    again = api.post(URL, {"channel": "email", "address": "known@Shop.example"}, token=token)
    assert (again.status_code, again["Content-Type"]) == (fresh.status_code, fresh["Content-Type"])
    assert set(again.json()) == set(fresh.json())
    assert {k: v for k, v in again.json().items() if k != "address"} == {
        k: v for k, v in fresh.json().items() if k != "address"
    }
    # Nothing about the existing subscription changed hands or was sent.
    existing.refresh_from_db()
    assert existing.owner == owner and Delivery.objects.count() == deliveries_before


@pytest.mark.parametrize(
    "address",
    ["https://93.184.215.14/hooks /status", "https://93.184.215.14/hooks\tx", "https://93.184.215.14/h\x0bx"],
)
def test_a_webhook_url_with_whitespace_or_control_characters_is_refused(api, rob, make_token, address):
    token = make_token(rob, "subscribers:write")
    response = api.post(URL, {"channel": "webhook", "address": address}, token=token)
    assert response.status_code == 400, response.content
    assert not Subscriber.objects.exists()
