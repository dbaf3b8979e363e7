"""The delivery log in the portal: counts, per-recipient state, and admin-only retry and cancel."""

import pytest
from django.urls import reverse

from opsportal.notifications.models import Delivery, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def fan_out():
    message = Message.objects.create(
        kind="incident_update",
        dedupe_key="incident-update:1",
        subject="[Investigating] Checkout errors",
        text_body="We are looking into it.",
    )
    rows = [("email", f"m{n}@shop.example", Delivery.Status.SENT) for n in range(3)]
    rows += [
        ("webhook", "http://127.0.0.1:9/hook", Delivery.Status.DEAD),
        ("sms", "+14165550100", Delivery.Status.PENDING),
    ]
    for channel, address, status in rows:
        Delivery.objects.create(
            message=message,
            channel=channel,
            address=address,
            status=status,
            dedupe_key=f"k|{address}",
            last_error="HTTP 404" if status == "dead" else "",
        )
    return message


def test_every_staff_role_sees_counts_and_recipient_states(
    vera, client_for, fan_out, django_assert_max_num_queries
):
    client = client_for(vera)
    with django_assert_max_num_queries(10):
        listing = client.get(reverse("portal:delivery_log"))
    assert listing.status_code == 200 and b"Checkout errors" in listing.content
    detail = client.get(reverse("portal:message_detail", args=[fan_out.pk]))
    html = detail.content.decode()
    assert detail.context["counts"] == {
        "pending": 1,
        "sending": 0,
        "sent": 3,
        "dead": 1,
        "cancelled": 0,
        "total": 5,
    }
    assert "HTTP 404" in html and 'value="4"' in html  # progress: 3 sent + 1 dead of 5
    assert "Retry" not in html and "Cancel what" not in html  # viewers get no admin actions
    progress = client.get(reverse("portal:message_progress", args=[fan_out.pk])).json()
    assert progress["counts"]["sent"] == 3


def test_only_admins_retry_and_cancel(vera, rob, alice, client_for, fan_out):
    dead = Delivery.objects.get(status="dead")
    for user in (vera, rob):
        assert client_for(user).post(reverse("portal:delivery_retry", args=[dead.pk])).status_code == 403
        assert client_for(user).post(reverse("portal:message_cancel", args=[fan_out.pk])).status_code == 403
    admin = client_for(alice)
    assert admin.post(reverse("portal:message_cancel", args=[fan_out.pk])).status_code == 302
    assert Delivery.objects.get(channel="sms").status == "cancelled"
    assert admin.post(reverse("portal:delivery_retry", args=[dead.pk])).status_code == 302
    dead.refresh_from_db()
    assert dead.status in ("pending", "sent", "dead")  # retried: back in the queue (and maybe already tried)
    assert dead.attempts <= 1


@pytest.fixture
def stuck(fan_out):
    """A row whose worker died mid-send: still `sending`, its claim not renewed for a minute."""
    from datetime import timedelta

    from django.utils import timezone

    return Delivery.objects.create(
        message=fan_out,
        channel="email",
        address="stuck@shop.example",
        status=Delivery.Status.SENDING,
        attempts=1,
        claimed_at=timezone.now() - timedelta(minutes=1),
        claimed_by="celery@ops-1/4242/abc",
        dedupe_key="k|stuck",
    )


def test_admins_see_stuck_rows_and_release_them_audited(alice, vera, client_for, fan_out, stuck):
    from opsportal.core.models import AuditEntry

    page = client_for(alice).get(reverse("portal:message_detail", args=[fan_out.pk])).content.decode()
    assert "1 delivery is stuck in sending" in page and "Release stuck deliveries now" in page
    assert (
        "Release stuck"
        not in client_for(vera).get(reverse("portal:message_detail", args=[fan_out.pk])).content.decode()
    )
    assert client_for(vera).post(reverse("portal:delivery_release", args=[stuck.pk])).status_code == 403
    response = client_for(alice).post(reverse("portal:delivery_release", args=[stuck.pk]))
    assert response.status_code == 302
    stuck.refresh_from_db()
    # Back in the queue (and, with no worker running, tried inline at once), its attempt count kept.
    assert stuck.status != "sending" and stuck.claimed_by == "" and stuck.attempts >= 1
    assert AuditEntry.objects.filter(
        action="notification.delivery_released", object_id=str(stuck.pk)
    ).exists()


def test_admins_cancel_a_stuck_row_and_nothing_sends_it(alice, client_for, stuck):
    assert client_for(alice).post(reverse("portal:delivery_cancel", args=[stuck.pk])).status_code == 302
    stuck.refresh_from_db()
    assert stuck.status == "cancelled"


def test_a_row_whose_worker_is_alive_is_not_stuck_and_cannot_be_released(alice, client_for, stuck):
    from django.utils import timezone

    Delivery.objects.filter(pk=stuck.pk).update(
        claimed_at=timezone.now()
    )  # its worker just renewed the claim
    client_for(alice).post(reverse("portal:delivery_release", args=[stuck.pk]))
    client_for(alice).post(reverse("portal:delivery_cancel", args=[stuck.pk]))
    stuck.refresh_from_db()
    assert stuck.status == "sending"


def test_a_stuck_row_retried_afresh_keeps_its_idempotency_key(alice, client_for, stuck):
    key = stuck.idempotency_key
    client_for(alice).post(reverse("portal:delivery_retry", args=[stuck.pk]))
    stuck.refresh_from_db()
    assert stuck.status != "sending" and stuck.idempotency_key == key
