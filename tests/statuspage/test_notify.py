"""Public events reach exactly the subscribers who asked for them, once, in Statuspage's shapes."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from opsportal.changes import services as maintenance
from opsportal.core.services import job_execute, jobs_claim_due
from opsportal.incidents import services as incidents
from opsportal.incidents.postmortems import postmortem_edit, postmortem_start, postmortem_transition
from opsportal.notifications.models import Delivery, Message
from opsportal.notifications.transports.webhook import webhook_body
from statuspage.models import Component, Subscriber
from statuspage.services import component_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout():
    return Component.objects.create(name="Checkout")


@pytest.fixture
def audience(checkout):
    """Who should and should not hear about Checkout."""
    payouts = Component.objects.create(name="Payouts")
    now = timezone.now()

    def subscriber(channel, address, components=(), **fields):
        sub = Subscriber.objects.create(channel=channel, address=address, secret="s3cret", **fields)
        sub.components.set(components)
        return sub

    return {
        "checkout_email": subscriber("email", "ana@shop.example", [checkout], confirmed_at=now),
        "everything_hook": subscriber("webhook", "http://127.0.0.1:9/hook", confirmed_at=now),
        "everything_sms": subscriber("sms", "+14165550100", confirmed_at=now),
        "unconfirmed": subscriber("email", "pending@shop.example", [checkout]),
        "unsubscribed": subscriber(
            "email", "gone@shop.example", [checkout], confirmed_at=now, unsubscribed_at=now
        ),
        "quarantined": subscriber(
            "email", "bounce@shop.example", [checkout], confirmed_at=now, quarantined_at=now
        ),
        "payouts_only": subscriber("email", "payouts@shop.example", [payouts], confirmed_at=now),
    }


def _addresses(kind):
    return sorted(Delivery.objects.filter(message__kind=kind).values_list("address", flat=True))


EXPECTED = sorted(["ana@shop.example", "http://127.0.0.1:9/hook", "+14165550100"])


def test_a_public_update_goes_to_confirmed_subscribers_of_its_components_only(rob, checkout, audience):
    incident = incidents.incident_declare(
        actor=rob, title="SECRET db-7 OOM", public_title="Checkout errors", severity="P2"
    )
    update = incidents.incident_post_update(
        actor=rob,
        incident=incident,
        status="investigating",
        body="We are looking into it.",
        component_statuses=[(checkout, "major_outage")],
    )
    assert _addresses("incident_update") == EXPECTED
    assert not Message.objects.filter(kind="component_status").exists()  # the incident update covers it
    message = Message.objects.get(kind="incident_update")
    assert message.dedupe_key == f"incident-update:{update.pk}"
    assert "Checkout errors" in message.subject and "SECRET" not in message.text_body + message.html_body
    hook = Delivery.objects.get(channel="webhook")
    body = webhook_body(hook)
    assert set(body) == {"meta", "page", "incident"}
    assert body["meta"]["unsubscribe"].startswith("http")
    assert body["incident"]["name"] == "Checkout errors"
    assert body["incident"]["incident_updates"][0]["body"] == "We are looking into it."
    assert "SECRET" not in str(body)
    email = Delivery.objects.get(address="ana@shop.example")
    assert email.context["unsubscribe_url"]


def test_a_plain_component_change_notifies_its_subscribers(rob, checkout, audience):
    component_set_status(actor=rob, component=checkout, status="degraded_performance")
    assert _addresses("component_status") == EXPECTED
    body = webhook_body(Delivery.objects.get(channel="webhook", message__kind="component_status"))
    assert body["component_update"]["new_status"] == "degraded_performance"
    assert body["component_update"]["old_status"] == "operational"
    assert body["component"]["name"] == "Checkout"


def test_maintenance_is_announced_reminded_started_and_completed(rob, checkout, audience):
    with time_machine.travel("2026-11-30 00:00:00+00:00", tick=False) as traveller:
        maintenance.maintenance_schedule(
            actor=rob,
            title="Checkout DB upgrade",
            body="Ten minutes read-only.",
            components=[checkout],
            scheduled_for=timezone.now() + timedelta(hours=3),
            scheduled_until=timezone.now() + timedelta(hours=4),
        )
        for hours in (2, 1, 1):  # reminder at T-1h, start at T, completion at T+1h
            traveller.shift(timedelta(hours=hours))
            for job_id in jobs_claim_due():
                job_execute(job_id=job_id)
    kinds = list(Message.objects.order_by("created_at", "id").values_list("kind", flat=True))
    assert kinds == [
        "maintenance_scheduled",
        "maintenance_reminder",
        "maintenance_in_progress",
        "maintenance_completed",
    ]
    assert _addresses("maintenance_reminder") == EXPECTED
    checkout.refresh_from_db()
    assert checkout.status == "operational"
    assert not Message.objects.filter(kind="component_status").exists()


def test_a_published_postmortem_is_announced_once(rob, irene, checkout, audience):
    incident = incidents.incident_declare(
        actor=rob,
        title="x",
        public_title="Checkout errors",
        severity="P2",
        components=[(checkout, "major_outage")],
    )
    incidents.incident_post_update(
        actor=rob,
        incident=incident,
        status="resolved",
        body="Fixed.",
        component_statuses=[(checkout, "operational")],
    )
    postmortem = postmortem_start(actor=rob, incident=incident)
    postmortem_edit(
        actor=rob,
        postmortem=postmortem,
        summary="s",
        customer_impact="c",
        root_cause="r",
        public_summary="A bad deploy; we now canary.",
    )
    postmortem_transition(actor=rob, postmortem=postmortem, status="in_review")
    postmortem_transition(actor=irene, postmortem=postmortem, status="published")
    message = Message.objects.get(kind="postmortem_published")
    assert "A bad deploy; we now canary." in message.text_body
    assert message.deliveries.count() == 3


def test_texts_fit_two_segments_and_link_to_the_incident_and_to_stopping(rob, checkout, audience):
    from opsportal.notifications.transports.sms import sms_text

    incident = incidents.incident_declare(
        actor=rob, title="x", public_title=("Checkout errors " * 12).strip(), severity="P2"
    )
    incidents.incident_post_update(
        actor=rob,
        incident=incident,
        status="investigating",
        body="On it.",
        component_statuses=[(checkout, "major_outage")],
    )
    delivery = Delivery.objects.get(channel="sms")
    text = sms_text(delivery)
    assert len(text) <= 306
    assert f"/incidents/{incident.pk}/ Manage/stop: " in text
    assert text.endswith(delivery.context["manage_url"])
