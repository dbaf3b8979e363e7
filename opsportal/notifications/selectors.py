"""Outbox reads for the delivery log: messages with counts by status, and their deliveries."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from opsportal.notifications.models import Delivery, Message

STATUSES = [status for status, _ in Delivery.Status.choices]


def messages_with_counts(*, kind: str = "") -> QuerySet[Message]:
    """Each message annotated with how many deliveries are in each status: one query for the page."""
    counts = {f"n_{status}": Count("deliveries", filter=Q(deliveries__status=status)) for status in STATUSES}
    messages = Message.objects.annotate(n_total=Count("deliveries"), **counts).order_by("-created_at", "-id")
    return messages.filter(kind=kind) if kind else messages


def message_counts(message: Message) -> dict[str, int]:
    rows = Delivery.objects.filter(message=message).values("status").annotate(n=Count("id"))
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    counts["total"] = sum(counts[status] for status in STATUSES)
    return counts


def message_deliveries(message: Message, *, status: str = "", channel: str = "") -> QuerySet[Delivery]:
    deliveries = Delivery.objects.filter(message=message).order_by("id")
    if status:
        deliveries = deliveries.filter(status=status)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    return deliveries


def message_kinds() -> list[str]:
    return list(Message.objects.order_by("kind").values_list("kind", flat=True).distinct())


def message_stuck_count(message: Message) -> int:
    """Rows of `message` stuck in sending: claimed by a worker that stopped renewing its claim."""
    from opsportal.notifications.services import stuck_sending

    return Delivery.objects.filter(message=message).filter(stuck_sending()).count()
