"""Pages from personal rules: who is paged how and when, default rules, re-runs writing nothing twice, the
rate limit's one summary for an SMS storm, and nobody paged after an acknowledgement commits."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from oncall import alerting, paging
from oncall.models import AlertLogEntry, ContactKind, ContactMethod, Page
from opsportal.notifications.models import Delivery, Message
from tests.oncall.paging.conftest import EMAIL, PUSH, SMS, T0

Status = Page.Status


def _due(group_pages):
    return sorted((p.contact_method.kind, p.due_at) for p in group_pages)


def test_pages_schedule_follows_the_persons_rules(rob, group, verified):
    verified(rob, PUSH, delay=0)
    verified(rob, SMS, "+14165550100", delay=1)
    verified(rob, EMAIL, "rob@ops.example.com", delay=5, urgency="low")  # not for a high-urgency alert

    pages = paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)

    assert _due(pages) == [(PUSH, T0), (SMS, T0 + timedelta(minutes=1))]
    entry = AlertLogEntry.objects.get(group=group, kind=AlertLogEntry.Kind.PAGED)
    assert entry.text == "paged rob (level 1): push now, SMS +1 min"


def test_pages_schedule_skips_unverified_and_disabled_methods(rob, group, verified):
    verified(rob, SMS, "+14165550100", delay=0)
    ContactMethod.objects.update(verified_at=None)
    verified(rob, EMAIL, "pager@ops.example.com", delay=2)
    ContactMethod.objects.filter(kind=EMAIL).update(enabled=False)

    pages = paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)

    # No usable rule: the default, push now and the account email a minute later.
    assert _due(pages) == [(EMAIL, T0 + timedelta(minutes=1)), (PUSH, T0)]
    assert {p.contact_method.address for p in pages} == {"", "rob@ops.example.com"}
    assert all(p.rule is None for p in pages)


def test_default_rules_for_people_with_none(rob, ana, group):
    ana.email = ""
    ana.save(update_fields=["email"])

    pages = paging.pages_schedule(group=group, users=[rob, ana], step=1, level=0, now=T0)

    by_user = {(p.user.username, p.contact_method.kind) for p in pages}
    assert by_user == {("rob", PUSH), ("rob", EMAIL), ("ana", PUSH)}  # ana has no account email
    assert {p.dedupe_key.rsplit(":", 1)[1] for p in pages} == {"default-push", "default-email"}
    texts = set(AlertLogEntry.objects.filter(kind=AlertLogEntry.Kind.PAGED).values_list("text", flat=True))
    assert texts == {"paged rob (level 1): push now, email +1 min", "paged ana (level 1): push now"}


def test_pages_schedule_rerun_writes_nothing_twice(rob, group, verified):
    verified(rob, SMS, "+14165550100", delay=0)
    first = paging.pages_schedule(group=group, users=[rob], step=3, level=1, now=T0)
    again = paging.pages_schedule(group=group, users=[rob], step=3, level=1, now=T0 + timedelta(seconds=5))

    assert [p.pk for p in first] == [p.pk for p in again]
    assert Page.objects.count() == 1
    assert AlertLogEntry.objects.filter(kind=AlertLogEntry.Kind.PAGED).count() == 1
    assert first[0].dedupe_key == f"page:{group.pk}:3:{rob.pk}:{first[0].rule_id}"


def test_pages_send_due_hands_due_pages_to_the_outbox(rob, group, verified):
    verified(rob, PUSH, delay=0)
    verified(rob, SMS, "+14165550100", delay=1)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)

    assert paging.pages_send_due(now=T0) == 1  # only the push is due
    push = Page.objects.get(contact_method__kind=PUSH)
    assert push.status == Status.SENT and push.delivery.channel == "websocket"
    assert push.delivery.address == str(rob.pk) and push.delivery.recipient_ref == f"page:{push.pk}"
    assert push.delivery.message.kind == "alert_page"

    assert paging.pages_send_due(now=T0 + timedelta(minutes=1)) == 1
    sms = Page.objects.get(contact_method__kind=SMS)
    assert sms.status == Status.SENT and sms.delivery.address == "+14165550100"
    text = sms.delivery.message.payload["sms"]
    assert text.startswith(f"[#{group.pk}] P0 Checkout error rate") and text.endswith(
        f"reply {group.pk}a to ack"
    )
    # Twice is harmless: nothing is due any more.
    assert paging.pages_send_due(now=T0 + timedelta(minutes=1)) == 0
    assert Message.objects.filter(kind="alert_page").count() == 2


def test_pages_of_a_group_that_is_no_longer_triggered_are_cancelled(rob, group, verified):
    verified(rob, SMS, "+14165550100", delay=0)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    group.status = "acknowledged"
    group.save(update_fields=["status"])

    assert paging.pages_send_due(now=T0) == 0
    assert Page.objects.get().status == Status.CANCELLED
    assert not Delivery.objects.exists()


def test_an_sms_storm_sends_one_summary_not_fifty(rob, make_group, verified):
    verified(rob, SMS, "+14165550100", delay=0)
    groups = [make_group(f"Disk full on db-{n}") for n in range(50)]
    for group in groups:
        paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)

    assert paging.pages_send_due(now=T0) == 1  # the first goes out; the limit holds the other 49
    assert Page.objects.filter(status=Status.HELD).count() == 49
    assert AlertLogEntry.objects.filter(kind=AlertLogEntry.Kind.RATE_LIMITED).count() == 49
    # Within the minute the window stays shut.
    assert paging.pages_send_due(now=T0 + timedelta(seconds=30)) == 0

    assert paging.pages_send_due(now=T0 + timedelta(seconds=61)) == 49
    sms = Delivery.objects.filter(channel="sms").order_by("pk")
    assert sms.count() == 2  # one page, one summary
    summary = sms.last()
    assert Page.objects.filter(status=Status.SUMMARISED, delivery=summary).count() == 49
    text = summary.message.payload["sms"]
    assert text.startswith(f"49 more alerts: #{groups[1].pk} P0 Disk full on db-1; #{groups[2].pk}")
    assert text.endswith(f"reply <id>a to ack each, e.g. {groups[1].pk}a") and len(text) <= 160
    assert paging.pages_send_due(now=T0 + timedelta(minutes=5)) == 0


def test_rate_limit_per_hour_holds_until_the_window_reopens(rob, make_group, verified, settings):
    settings.PAGE_RATE_LIMITS = {"sms": {"per_minute": 0, "per_hour": 2}}
    verified(rob, SMS, "+14165550100", delay=0)
    for n in range(4):
        paging.pages_schedule(group=make_group(f"alert {n}"), users=[rob], step=1, level=0, now=T0)

    assert paging.pages_send_due(now=T0) == 2
    assert paging.pages_send_due(now=T0 + timedelta(minutes=59)) == 0
    assert paging.pages_send_due(now=T0 + timedelta(minutes=61)) == 2  # one summary of the two held
    assert Delivery.objects.count() == 3


def test_held_pages_of_an_acknowledged_group_are_left_out_of_the_summary(rob, make_group, verified):
    verified(rob, SMS, "+14165550100", delay=0)
    first, second, third = (make_group(f"alert {n}") for n in range(3))
    for group in (first, second, third):
        paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)
    with time_machine.travel(T0 + timedelta(seconds=10), tick=False):
        alerting.alert_group_acknowledge(actor=rob, group=second, via="portal")

    # One held page is left: it goes out as a page of its own, with its link, not a summary of one.
    assert paging.pages_send_due(now=T0 + timedelta(seconds=61)) == 1
    assert Page.objects.get(group=second).status == Status.CANCELLED
    page = Page.objects.get(group=third)
    assert page.status == Status.SENT and page.delivery.recipient_ref == f"page:{page.pk}"


def test_nobody_is_paged_after_an_acknowledgement_commits(rob, ana, group, verified):
    verified(rob, PUSH, delay=0)
    verified(rob, SMS, "+14165550100", delay=1)
    verified(ana, SMS, "+353861234567", delay=0)
    with time_machine.travel(T0, tick=False) as clock:
        paging.pages_schedule(group=group, users=[rob, ana], step=1, level=0, now=T0)
        paging.pages_send_due(now=T0)  # rob's push and ana's SMS are in the outbox, not yet sent
        assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 2
        clock.shift(timedelta(seconds=20))

        alerting.alert_group_acknowledge(actor=ana, group=group, via="sms")
        paging.pages_cancel(group=group)

        clock.shift(timedelta(minutes=5))
        assert paging.pages_send_due() == 0
    assert set(Page.objects.values_list("status", flat=True)) == {Status.SENT, Status.CANCELLED}
    assert Page.objects.get(contact_method__kind=SMS, user=rob).status == Status.CANCELLED
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.CANCELLED}


def test_pages_cancel_keeps_a_summary_shared_with_alerts_still_triggered(rob, make_group, verified):
    verified(rob, SMS, "+14165550100", delay=0)
    groups = [make_group(f"alert {n}") for n in range(3)]
    for group in groups:
        paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)
    paging.pages_send_due(now=T0 + timedelta(seconds=61))
    summary = Page.objects.get(group=groups[1]).delivery

    groups[1].status = "acknowledged"
    groups[1].save(update_fields=["status"])
    paging.pages_cancel(group=groups[1])

    summary.refresh_from_db()
    assert summary.status == Delivery.Status.PENDING  # groups[2] is in it and still triggered


def test_pages_of_shows_each_pages_delivery_status(rob, group, verified):
    verified(rob, PUSH, delay=0)
    verified(rob, SMS, "+14165550100", delay=1)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)
    Delivery.objects.update(status=Delivery.Status.DEAD)

    views = paging.pages_of(group)

    assert [(v.channel, v.delivery_status) for v in views] == [("push", "dead"), ("SMS", "scheduled")]


def test_a_page_whose_method_was_removed_fails(rob, group, verified):
    method = verified(rob, SMS, "+14165550100", delay=0)
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    method.delete()

    assert paging.pages_send_due(now=T0) == 0
    page = Page.objects.get()
    assert page.status == Status.FAILED and page.note == "contact method removed"


def test_push_pages_are_sent_without_a_link(rob, group):
    paging.pages_schedule(group=group, users=[rob], step=1, level=0, now=T0)
    paging.pages_send_due(now=T0)
    page = Page.objects.get(contact_method__kind=ContactKind.PUSH)

    assert paging.pages_send_context(refs=[f"page:{page.pk}"]) == {}


def test_pages_send_due_queries_do_not_grow_with_pages(make_staff, make_group, verified, settings):
    settings.PAGE_RATE_LIMITS = {"sms": {"per_minute": 1, "per_hour": 10}}
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run(people: int) -> int:
        users = [make_staff(f"p{people}-{n}", None) for n in range(people)]
        for user in users:
            verified(user, SMS, f"+1416{people:03d}{user.pk:04d}", delay=0)
        for n in range(3):  # three alerts each: one page goes out, two are held, per person
            paging.pages_schedule(group=make_group(f"alert {n}"), users=users, step=1, level=0, now=T0)
        with CaptureQueriesContext(connection) as queries:
            paging.pages_send_due(now=T0)
        Page.objects.all().delete()
        return len(queries)

    assert run(2) == run(20)
