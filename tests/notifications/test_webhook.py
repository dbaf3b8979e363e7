"""Webhooks against a real HTTP server on loopback: signatures, idempotency keys across retries, permanent
4xx, redirects not followed, and SSRF targets refused at send time."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import time_machine

from opsportal.notifications.delivery import deliver_due_batches
from opsportal.notifications.models import Delivery
from opsportal.notifications.services import Recipient
from tests.notifications.conftest import delivery_of

Status = Delivery.Status
SECRET = "whsec-partner-7"
PAYLOAD = {"meta": {"unsubscribe": "https://status.example.com/u/x"}, "incident": {"name": "Checkout slow"}}


@pytest.fixture
def sink(http_sink, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    return http_sink()


def _signature_ok(request) -> bool:
    timestamp = request.headers["x-opsportal-timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers.get("x-opsportal-signature", ""), f"v1={expected}")


def test_webhook_posts_signed_json_with_an_idempotency_key(enqueue, sink):
    with time_machine.travel(1_795_000_000, tick=False):
        message = enqueue(
            Recipient("webhook", f"{sink.url}/hook", context={"secret": SECRET}), payload=PAYLOAD
        )
        assert deliver_due_batches() == 1

    [request] = sink.requests
    row = delivery_of(message)
    assert request.path == "/hook"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == PAYLOAD
    assert request.headers["x-opsportal-timestamp"] == "1795000000"
    assert _signature_ok(request)
    assert request.headers["idempotency-key"] == str(row.idempotency_key)
    assert row.status == Status.SENT


def test_webhook_without_a_secret_is_sent_unsigned(enqueue, sink):
    enqueue(Recipient("webhook", f"{sink.url}/hook"), payload=PAYLOAD)
    deliver_due_batches()
    [request] = sink.requests
    assert "x-opsportal-signature" not in request.headers
    assert "x-opsportal-timestamp" in request.headers


def test_server_error_is_retried_with_the_same_idempotency_key(enqueue, sink):
    sink.reply("/flaky", (500, {}, b"oops"), (200, {}, b"ok"))
    with time_machine.travel("2026-11-27 14:00Z", tick=False) as clock:
        message = enqueue(
            Recipient("webhook", f"{sink.url}/flaky", context={"secret": SECRET}), payload=PAYLOAD
        )
        deliver_due_batches()
        row = delivery_of(message)
        assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 1, "Webhook answered HTTP 500")

        clock.move_to(row.next_attempt_at)
        deliver_due_batches()

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, "")
    keys = [request.headers["idempotency-key"] for request in sink.requests]
    assert keys == [str(row.idempotency_key)] * 2
    assert all(_signature_ok(request) for request in sink.requests)


def test_too_many_requests_waits_at_least_as_long_as_asked(enqueue, sink):
    sink.reply("/slow-down", (429, {"Retry-After": "600"}, b""))
    with time_machine.travel("2026-11-27 14:00Z", tick=False):
        message = enqueue(Recipient("webhook", f"{sink.url}/slow-down"), payload=PAYLOAD)
        deliver_due_batches()
        row = delivery_of(message)
        assert row.status == Status.PENDING
        assert (row.next_attempt_at - row.created_at).total_seconds() >= 600


def test_not_found_is_permanent(enqueue, sink):
    sink.reply("/gone", (404, {}, b"no such hook"))
    message = enqueue(Recipient("webhook", f"{sink.url}/gone"), payload=PAYLOAD)

    deliver_due_batches()

    row = delivery_of(message)
    assert (row.status, row.attempts, row.last_error) == (Status.DEAD, 1, "Webhook answered HTTP 404")
    assert deliver_due_batches() == 0
    assert len(sink.requests) == 1


def test_redirects_are_not_followed(enqueue, sink):
    sink.reply("/moved", (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b""))
    message = enqueue(Recipient("webhook", f"{sink.url}/moved"), payload=PAYLOAD)

    deliver_due_batches()

    row = delivery_of(message)
    assert row.status == Status.DEAD
    assert "redirects are not followed" in row.last_error
    assert [request.path for request in sink.requests] == ["/moved"]


def test_ssrf_target_is_refused_at_send_time(enqueue, sink, settings):
    # Allowed when the subscriber signed up (say DNS pointed elsewhere), refused when we are about to send.
    message = enqueue(Recipient("webhook", f"{sink.url}/internal"), payload=PAYLOAD)
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    deliver_due_batches()

    row = delivery_of(message)
    assert row.status == Status.DEAD
    assert row.last_error == f"Refused URL {sink.url}/internal: 127.0.0.1 is not a public address"
    assert sink.requests == []


def test_a_batch_to_one_receiver_reuses_one_connection(enqueue, sink):
    enqueue(*(Recipient("webhook", f"{sink.url}/hook/{n}") for n in range(5)), payload=PAYLOAD)
    assert deliver_due_batches() == 5
    assert len(sink.requests) == 5
    assert len(sink.connections) == 1


def test_dns_rebinding_after_sign_up_cannot_reach_inside(enqueue, settings):
    """The name answers "public" (127.0.0.2 stands in) to the sign-up check and to the send's one lookup, and
    points inside (127.0.0.3) from then on: the send connects to the address it checked, never looks again."""
    from opsportal.core.outbound import reset_resolver, set_resolver
    from opsportal.notifications.validation import validate_webhook_url
    from tests.core.test_outbound import ScriptedResolver, _free_port_on_both, http_server

    settings.WEBHOOKS_ALLOW_PRIVATE = False
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    port = _free_port_on_both()
    resolver = ScriptedResolver(["127.0.0.2"], ["127.0.0.2"], ["127.0.0.3"])
    token = set_resolver(resolver)
    try:
        with http_server("127.0.0.2", port) as (_, outside), http_server("127.0.0.3", port) as (_, inside):
            url = validate_webhook_url(f"http://hooks.partner.test:{port}/hook")
            message = enqueue(Recipient("webhook", url), payload=PAYLOAD)
            deliver_due_batches()
    finally:
        reset_resolver(token)

    assert delivery_of(message).status == Status.SENT
    assert len(resolver.lookups) == 2  # sign-up, then one per connection
    assert [request["path"] for request in outside] == ["/hook"]
    assert inside == []


def test_a_huge_answer_to_a_webhook_is_not_stored_and_a_2xx_still_counts(enqueue, sink):
    sink.reply("/big", (200, {}, b"z" * 200_000))
    message = enqueue(Recipient("webhook", f"{sink.url}/big"), payload=PAYLOAD)
    deliver_due_batches()
    assert delivery_of(message).status == Status.SENT
