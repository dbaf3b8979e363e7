"""Pages: one notification of one person about one alert group through one contact method, written by an
escalation step and handed to the outbox when due, unless the group was acknowledged or resolved first."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from oncall import alert_lifecycle as lifecycle
from oncall.models import AlertGroup, ContactKind, ContactMethod, NotificationRule, Page
from opsportal.notifications.models import Channel
from opsportal.notifications.services import Notification, Recipient, notifications_enqueue_many

CHANNEL_OF = {
    ContactKind.EMAIL: Channel.EMAIL,
    ContactKind.SMS: Channel.SMS,
    ContactKind.PUSH: Channel.WEBSOCKET,
}


def _rules_for(user, urgency: str) -> list[NotificationRule]:
    return list(
        NotificationRule.objects.filter(
            user=user,
            urgency__in=["any", urgency],
            contact_method__enabled=True,
            contact_method__verified_at__isnull=False,
        ).select_related("contact_method")
    )


def _push_method(user) -> ContactMethod:
    method, _ = ContactMethod.objects.get_or_create(
        user=user,
        kind=ContactKind.PUSH,
        address="",
        defaults={"verified_at": timezone.now(), "label": "In-app"},
    )
    return method


def pages_schedule(*, group: AlertGroup, users, step: int, level: int, now: datetime) -> list[Page]:
    """One page per person and rule, due after the rule's delay; without rules, an in-app push now."""
    rows = []
    for user in users:
        rules = _rules_for(user, group.urgency)
        plan = [(rule.contact_method, rule, rule.delay_minutes) for rule in rules] or [
            (_push_method(user), None, 0)
        ]
        for method, rule, delay in plan:
            rows.append(
                Page(
                    group=group,
                    user=user,
                    contact_method=method,
                    rule=rule,
                    step=step,
                    level=level,
                    due_at=now + timedelta(minutes=delay),
                    dedupe_key=f"page:{group.pk}:{step}:{user.pk}:{rule.pk if rule else 'default'}",
                )
            )
    Page.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def pages_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Hand due pages to the outbox, all in one transaction and a constant number of statements."""
    now = now or timezone.now()
    with transaction.atomic():
        pages = list(
            Page.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Page.Status.SCHEDULED, due_at__lte=now)
            .select_related("group", "contact_method")
            .order_by("due_at", "pk")[:limit]
        )
        live = [page for page in pages if page.group.status == lifecycle.TRIGGERED]
        for page in pages:
            if page.group.status != lifecycle.TRIGGERED:
                page.status = Page.Status.CANCELLED
        batch = []
        for page in live:
            group, method = page.group, page.contact_method
            address = str(page.user_id) if method.kind == ContactKind.PUSH else method.address
            text = f"[#{group.pk}] {group.incident_severity} {group.summary}"
            batch.append(
                Notification(
                    kind="alert_page",
                    dedupe_key=f"alert-page:{page.pk}",
                    subject=text[:300],
                    text=f"{text}\nReply {group.pk}a to acknowledge.",
                    recipients=(
                        Recipient(channel=CHANNEL_OF[method.kind], address=address, ref=f"page:{page.pk}"),
                    ),
                )
            )
        written = notifications_enqueue_many(batch)
        for page in live:
            rows = written.get(f"alert-page:{page.pk}") or [None]
            page.delivery, page.status, page.sent_at = rows[0], Page.Status.SENT, now
        Page.objects.bulk_update(pages, ["status", "delivery", "sent_at"])
    return len(live)


def pages_cancel(*, group: AlertGroup) -> int:
    return Page.objects.filter(group=group, status=Page.Status.SCHEDULED).update(status=Page.Status.CANCELLED)
