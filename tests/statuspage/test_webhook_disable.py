"""Webhooks that keep failing are disabled, and their owner is told once: against a real HTTP server on
loopback that refuses (404, permanent) or recovers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from opsportal.core.models import AuditEntry
from opsportal.notifications.delivery import deliver_due_batches
from opsportal.notifications.models import Delivery, Message
from opsportal.notifications.services import notification_enqueue
from statuspage import subscriptions
from statuspage.models import Subscriber
from statuspage.subscriptions import WEBHOOK_DISABLE_AFTER
from tests.notifications.conftest import http_sink  # noqa: F401  (the loopback HTTP server fixture)

NOT_FOUND = (404, {}, b"no such hook")
OK = (200, {}, b"ok")


@pytest.fixture
def sink(http_sink, settings):  # noqa: F811
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    return http_sink()


@pytest.fixture
def partner_webhook(rob, sink):
    """rob the partner owns webhooks through the API; each path of the sink is one endpoint."""

    def make(path: str):
        return subscriptions.subscriber_create_for_partner(
            actor=rob, channel="webhook", address=f"{sink.url}{path}"
        )

    return make


def _notify(*subscribers, n: int = 1) -> None:
    """n incident updates to these subscribers, each delivered before the next (so order is certain)."""
    for _ in range(n):
        number = Message.objects.count() + 1
        notification_enqueue(
            kind="incident_update",
            dedupe_key=f"incident-update-{number}",
            subject="Checkout is degraded",
            text="We are investigating slow checkouts.",
            payload={"meta": {}, "incident": {"name": "Checkout slow", "n": number}},
            recipients=list(subscriptions.subscriber_recipients(subscribers)),
        )
        deliver_due_batches()


def _disabled_notices() -> list[Delivery]:
    return list(Delivery.objects.filter(message__kind="webhook_disabled"))


def test_webhook_disable_after_repeated_dead_deliveries_quarantines_and_emails_the_owner_once(
    sink, partner_webhook, rob, mailoutbox
):
    sink.reply("/hook", NOT_FOUND)
    hook = partner_webhook("/hook")

    _notify(hook, n=WEBHOOK_DISABLE_AFTER - 1)
    hook.refresh_from_db()
    assert hook.status == "active"
    assert _disabled_notices() == []

    _notify(hook)
    hook.refresh_from_db()
    assert hook.status == "quarantined"
    assert hook.quarantine_reason == (
        f"webhook disabled after {WEBHOOK_DISABLE_AFTER} failed deliveries: Webhook answered HTTP 404"
    )
    [notice] = _disabled_notices()
    assert (notice.channel, notice.address, notice.status) == ("email", rob.email, Delivery.Status.SENT)
    [email] = mailoutbox
    assert email.to == [rob.email]
    assert "your webhook was disabled" in email.subject
    assert subscriptions.subscriber_links(hook)["manage_url"] in email.body
    assert "Webhook answered HTTP 404" in email.body
    audit = AuditEntry.objects.get(action="subscriber.quarantined")
    assert (audit.actor, audit.actor_label, audit.object_id) == (None, "system", str(hook.pk))

    # Retries still in flight die later: the subscriber is already disabled, and nobody is told twice.
    _notify(hook, n=2)
    assert len(_disabled_notices()) == 1
    assert len(mailoutbox) == 1
    assert len(sink.requests) == WEBHOOK_DISABLE_AFTER + 2


def test_webhook_disable_counts_failures_delivered_in_one_chunk(sink, partner_webhook):
    sink.reply("/hook", NOT_FOUND)
    hook = partner_webhook("/hook")
    for n in range(WEBHOOK_DISABLE_AFTER):
        notification_enqueue(
            kind="incident_update",
            dedupe_key=f"batch-{n}",
            subject="s",
            text="t",
            payload={"meta": {}},
            recipients=list(subscriptions.subscriber_recipients([hook])),
        )
    deliver_due_batches()
    hook.refresh_from_db()
    assert hook.status == "quarantined"
    assert len(_disabled_notices()) == 1


def test_a_webhook_that_recovers_is_not_disabled(sink, partner_webhook, mailoutbox):
    # Four failures, one success, four more failures: never five in a row.
    fails = [NOT_FOUND] * (WEBHOOK_DISABLE_AFTER - 1)
    sink.reply("/flaky", *fails, OK, *fails, OK)
    hook = partner_webhook("/flaky")

    _notify(hook, n=2 * (WEBHOOK_DISABLE_AFTER - 1) + 1)

    hook.refresh_from_db()
    assert hook.status == "active"
    assert Delivery.objects.filter(recipient_ref=f"subscriber:{hook.pk}", status="dead").count() == 8
    assert _disabled_notices() == [] and mailoutbox == []


def test_unrelated_subscribers_are_untouched(sink, partner_webhook):
    sink.reply("/broken", NOT_FOUND)
    sink.reply("/healthy", OK)
    broken, healthy = partner_webhook("/broken"), partner_webhook("/healthy")
    reader = subscriptions.subscriber_subscribe(channel="email", address="ops@shop.example").subscriber
    subscriptions.subscriber_confirm(token=subscriptions.subscriber_confirm_token(reader))

    _notify(broken, healthy, reader, n=WEBHOOK_DISABLE_AFTER)

    for subscriber in (broken, healthy, reader):
        subscriber.refresh_from_db()
    assert (broken.status, healthy.status, reader.status) == ("quarantined", "active", "active")
    assert healthy.quarantine_reason == reader.quarantine_reason == ""
    assert len(_disabled_notices()) == 1


def test_a_public_webhook_without_an_owner_is_disabled_without_an_email(db, sink, mailoutbox):
    sink.reply("/hook", NOT_FOUND)
    # A public sign-up, confirmed: nobody owns it, so there is nobody to email.
    hook = subscriptions.subscriber_subscribe(channel="webhook", address=f"{sink.url}/hook").subscriber
    subscriptions.subscriber_confirm(token=subscriptions.subscriber_confirm_token(hook))
    _notify(hook, n=WEBHOOK_DISABLE_AFTER)
    hook.refresh_from_db()
    assert hook.status == "quarantined"
    assert _disabled_notices() == [] and mailoutbox == []


def test_webhook_failure_streaks_take_two_queries_for_many_subscribers(
    sink, partner_webhook, django_assert_num_queries
):
    sink.reply("/a", NOT_FOUND)
    sink.reply("/b", OK)
    a, b = partner_webhook("/a"), partner_webhook("/b")
    _notify(a, b, n=2)
    refs = [f"subscriber:{a.pk}", f"subscriber:{b.pk}", "subscriber:999999"]
    with django_assert_num_queries(2):
        streaks = subscriptions.webhook_failure_streaks(refs=refs)
    assert [status for status, _ in streaks[refs[0]]] == ["dead", "dead"]
    assert [status for status, _ in streaks[refs[1]]] == ["sent", "sent"]
    assert streaks[refs[2]] == []


def test_a_resumed_webhook_needs_five_new_failures_to_be_disabled_again(rob, make_token, api):
    from statuspage.subscriptions import subscriber_quarantine, subscribers_disable_failing_webhooks

    subscriber = Subscriber.objects.create(
        channel="webhook",
        address="http://127.0.0.1:9/hook",
        owner=rob,
        confirmed_at=timezone.now(),
        secret="s",
    )
    message = Message.objects.create(kind="incident_update", dedupe_key="m", subject="s", text_body="t")
    ref = f"subscriber:{subscriber.pk}"
    for n in range(5):
        Delivery.objects.create(
            message=message,
            channel="webhook",
            address=subscriber.address,
            recipient_ref=ref,
            dedupe_key=f"m|{n}",
            status="dead",
            last_error="HTTP 404",
        )
    subscriber_quarantine(subscriber_id=subscriber.pk, reason="webhook disabled after 5 failed deliveries")

    token = make_token(rob, "subscribers:write")
    response = api.post(f"/api/v1/subscribers/{subscriber.pk}/resume/", {}, token=token)
    assert response.status_code == 200, response.content
    subscriber.refresh_from_db()
    assert subscriber.quarantined_at is None and subscriber.resumed_at is not None
    assert AuditEntry.objects.filter(action="subscriber.resumed").exists()

    # The old failures are forgiven: one new failure does not disable it again.
    Delivery.objects.create(
        message=message,
        channel="webhook",
        address=subscriber.address,
        recipient_ref=ref,
        dedupe_key="m|new",
        status="dead",
        last_error="HTTP 404",
    )
    assert subscribers_disable_failing_webhooks(failures=[(ref, "webhook", "HTTP 404")]) == 0
    subscriber.refresh_from_db()
    assert subscriber.quarantined_at is None


def test_someone_elses_subscription_cannot_be_resumed(rob, vera, make_token, api):
    subscriber = Subscriber.objects.create(
        channel="webhook",
        address="http://127.0.0.1:9/x",
        owner=rob,
        confirmed_at=timezone.now(),
        quarantined_at=timezone.now(),
    )
    token = make_token(vera, "subscribers:read")
    assert api.post(f"/api/v1/subscribers/{subscriber.pk}/resume/", {}, token=token).status_code in (403, 404)
    subscriber.refresh_from_db()
    assert subscriber.quarantined_at is not None
