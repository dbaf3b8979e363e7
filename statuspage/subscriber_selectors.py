"""Subscriber reads: who hears about which components, the portal's list and counts, a partner's own rows."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from statuspage.models import Component, Subscriber, SubscriberChannel, SubscriberStatus

# Each status as a filter, so lists, counts and the API agree on what "active" means.
STATUS_FILTERS: dict[str, Q] = {
    SubscriberStatus.PENDING: Q(
        confirmed_at__isnull=True, unsubscribed_at__isnull=True, quarantined_at__isnull=True
    ),
    SubscriberStatus.ACTIVE: Q(
        confirmed_at__isnull=False, unsubscribed_at__isnull=True, quarantined_at__isnull=True
    ),
    SubscriberStatus.QUARANTINED: Q(unsubscribed_at__isnull=True, quarantined_at__isnull=False),
    SubscriberStatus.UNSUBSCRIBED: Q(unsubscribed_at__isnull=False),
}


def subscribers_for_components(component_ids: Iterable[int]) -> QuerySet[Subscriber]:
    """Confirmed, reachable subscribers who follow any of these components or everything.

    One query with EXISTS subqueries (no JOIN + DISTINCT), ordered by id so callers can stream it with
    .iterator(chunk_size=...) over 100k rows."""
    ids = list(component_ids)
    through = Subscriber.components.through
    follows_some = through.objects.filter(subscriber_id=OuterRef("pk"))
    follows_these = follows_some.filter(component_id__in=ids)
    return (
        Subscriber.objects.filter(STATUS_FILTERS[SubscriberStatus.ACTIVE])
        .filter(~Exists(follows_some) | Exists(follows_these))
        .only("id", "channel", "address", "secret")
        .order_by("id")
    )


def subscriber_list(*, channel: str = "", status: str = "") -> QuerySet[Subscriber]:
    rows = Subscriber.objects.select_related("owner").prefetch_related(
        Prefetch("components", queryset=Component.objects.only("id", "name").order_by("name"))
    )
    if channel:
        rows = rows.filter(channel=channel)
    if status:
        rows = rows.filter(STATUS_FILTERS[status])
    return rows.order_by("-created_at", "-id")


def subscriber_counts() -> dict:
    """{"status": {status: n}, "channel": {channel: n not unsubscribed}, "total": n} for the portal's summary:
    one query grouped by channel (three rows), every other figure summed from it, so they always add up."""
    per_channel = (
        Subscriber.objects.values("channel")
        .annotate(**{name: Count("id", filter=q) for name, q in STATUS_FILTERS.items()})
        .order_by()
    )
    status = dict.fromkeys(STATUS_FILTERS, 0)
    channel = dict.fromkeys(SubscriberChannel.values, 0)
    for row in per_channel:
        for name in STATUS_FILTERS:
            status[name] += row[name]
        if row["channel"] in channel:
            channel[row["channel"]] = (
                sum(row[name] for name in STATUS_FILTERS) - row[SubscriberStatus.UNSUBSCRIBED]
            )
    return {"status": status, "channel": channel, "total": sum(status.values())}


def partner_subscribers(owner) -> QuerySet[Subscriber]:
    """A partner's own subscriptions; everybody else's do not exist for them. An email or SMS sign-up shows
    once its recipient confirmed: until then, whether the address was new or already on the list stays
    unknown to the partner."""
    return (
        Subscriber.objects.filter(owner=owner, confirmed_at__isnull=False)
        .prefetch_related(Prefetch("components", queryset=Component.objects.only("id").order_by("id")))
        .order_by("id")
    )


def partner_subscriber_or_404(owner, subscriber_id: int) -> Subscriber:
    return get_object_or_404(partner_subscribers(owner), pk=subscriber_id)


def subscribable_components() -> QuerySet[Component]:
    """Components the public may follow: only those shown on the public page."""
    return Component.objects.filter(showcase=True).select_related("group")
