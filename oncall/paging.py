"""Pages: one notification of one person about one alert group through one contact method, written by an
escalation step from the person's own rules and handed to the outbox when due, unless the group was
acknowledged or resolved first; per-contact-method rate limits with one summary for what they held; the
one-time acknowledge links the outbox asks for at send time."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from oncall import alert_lifecycle as lifecycle
from oncall import page_messages
from oncall.models import (
    AckLink,
    AlertGroup,
    AlertLogEntry,
    ContactKind,
    ContactMethod,
    NotificationRule,
    Page,
)
from opsportal.notifications.models import Channel, Delivery
from opsportal.notifications.services import Notification, Recipient, notifications_enqueue_many

logger = logging.getLogger(__name__)

KIND = "alert_page"
CHANNEL_OF = {
    ContactKind.EMAIL: Channel.EMAIL,
    ContactKind.SMS: Channel.SMS,
    ContactKind.PUSH: Channel.WEBSOCKET,
}
KIND_WORD = {ContactKind.EMAIL: "email", ContactKind.SMS: "SMS", ContactKind.PUSH: "push"}
# People with no usable rule for the alert's urgency: in-app push at once, then their account email.
DEFAULT_PLAN = ((ContactKind.PUSH, 0), (ContactKind.EMAIL, 1))
DEFAULT_LABEL = {ContactKind.PUSH: "In-app", ContactKind.EMAIL: "Account email (default)"}
LINK_TOKEN_BYTES = 12  # 16 URL-safe characters: short enough for an SMS, 96 bits
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
Status = Page.Status


def link_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- who is paged how (inside the escalation step's transaction) -------------------------------------------


@dataclass(frozen=True)
class Planned:
    method: ContactMethod
    rule: NotificationRule | None
    delay_minutes: int

    @property
    def key(self) -> str:
        return str(self.rule.pk) if self.rule is not None else f"default-{self.method.kind}"


def _usable(method: ContactMethod) -> bool:
    return method.enabled and method.verified_at is not None


def _default_method(user, kind: str, methods: list[ContactMethod]) -> ContactMethod | None:
    """The in-app method, or one for the account email (trusted: an admin set it up with the account).
    A method the person added themselves and left unverified or disabled is respected: not paged."""
    address = "" if kind == ContactKind.PUSH else (user.email or "").strip()
    if kind == ContactKind.EMAIL and not address:
        return None
    for method in methods:
        if method.kind == kind and method.address.lower() == address.lower():
            return method if _usable(method) else None
    method, _ = ContactMethod.objects.get_or_create(
        user=user,
        kind=kind,
        address=address,
        defaults={"verified_at": timezone.now(), "label": DEFAULT_LABEL[kind]},
    )
    return method if _usable(method) else None


def plan_for(
    user, urgency: str, *, rules: list[NotificationRule], methods: list[ContactMethod]
) -> list[Planned]:
    """The person's own rules for this urgency whose methods are verified and enabled; none of those: the
    default (push now, account email after a minute), so nobody an escalation names is silently skipped."""
    own = [
        Planned(rule.contact_method, rule, rule.delay_minutes)
        for rule in rules
        if rule.urgency in (NotificationRule.ForUrgency.ANY, urgency) and _usable(rule.contact_method)
    ]
    if own:
        return own
    planned = []
    for kind, delay in DEFAULT_PLAN:
        method = _default_method(user, kind, methods)
        if method is not None:
            planned.append(Planned(method, None, delay))
    return planned


def default_plan_preview(users) -> dict[int, list[str]]:
    """What plan_for's default would page each of `users` by, in words ("In-app now", "Email after 1 min"),
    without creating the default methods it would: for the policy editor's dry run, which must not write."""
    methods: dict[int, list[ContactMethod]] = defaultdict(list)
    for method in ContactMethod.objects.filter(user__in=[user.pk for user in users]):
        methods[method.user_id].append(method)
    preview: dict[int, list[str]] = {}
    for user in users:
        words = []
        for kind, delay in DEFAULT_PLAN:
            address = "" if kind == ContactKind.PUSH else (user.email or "").strip()
            if kind == ContactKind.EMAIL and not address:
                continue
            existing = [
                m for m in methods[user.pk] if m.kind == kind and m.address.lower() == address.lower()
            ]
            if existing and not _usable(existing[0]):
                continue  # their own choice to pause or leave it unverified is respected, as when paging
            words.append(
                f"{ContactKind(kind).label} {'now' if delay == 0 else f'after {delay} min'} (default)"
            )
        preview[user.pk] = words
    return preview


def _plan_words(plan: list[Planned]) -> str:
    parts = []
    for item in sorted(plan, key=lambda p: (p.delay_minutes, p.method.kind)):
        when = "now" if item.delay_minutes == 0 else f"+{item.delay_minutes} min"
        parts.append(f"{KIND_WORD[item.method.kind]} {when}")
    return ", ".join(parts)


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


@dataclass(frozen=True)
class PageRequest:
    """An escalation step's ask: page these people about this group, as step `step` at level `level`."""

    group: AlertGroup
    users: tuple
    step: int
    level: int


def pages_schedule(*, group: AlertGroup, users, step: int, level: int, now: datetime) -> list[Page]:
    """One page per person and matching rule, due after the rule's delay. Runs inside the escalation step's
    transaction; the dedupe key makes a re-run of the same step write nothing twice. `level` is the
    escalation level's index (0 = the first level)."""
    rows = pages_schedule_many([PageRequest(group, tuple(users), step, level)], now=now)
    return list(
        Page.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows]).select_related(
            "contact_method", "user"
        )
    )


def pages_schedule_many(requests: list[PageRequest], *, now: datetime) -> list[Page]:
    """pages_schedule for a whole batch of escalation steps in a constant number of statements: everyone's
    rules and methods read once, the pages and their log lines written in one INSERT each."""
    users = {user.pk: user for request in requests for user in request.users}
    rules_by_user: dict[int, list[NotificationRule]] = defaultdict(list)
    for rule in NotificationRule.objects.filter(user_id__in=users).select_related("contact_method"):
        rules_by_user[rule.user_id].append(rule)
    methods_by_user: dict[int, list[ContactMethod]] = defaultdict(list)
    for method in ContactMethod.objects.filter(
        user_id__in=users, kind__in=[ContactKind.PUSH, ContactKind.EMAIL]
    ):
        methods_by_user[method.user_id].append(method)
    rows: list[Page] = []
    lines: list[tuple[AlertGroup, object, int, int, list[Planned], list[str]]] = []
    plans: dict[tuple[int, str], list[Planned]] = {}
    for request in requests:
        group = request.group
        for user in request.users:
            plan_key = (user.pk, group.urgency)
            if plan_key not in plans:
                plans[plan_key] = plan_for(
                    user, group.urgency, rules=rules_by_user[user.pk], methods=methods_by_user[user.pk]
                )
            plan = plans[plan_key]
            keys = []
            for item in plan:
                key = f"page:{group.pk}:{request.step}:{user.pk}:{item.key}"
                keys.append(key)
                rows.append(
                    Page(
                        group=group,
                        user=user,
                        contact_method=item.method,
                        rule=item.rule,
                        step=request.step,
                        level=request.level,
                        due_at=now + timedelta(minutes=item.delay_minutes),
                        created_at=now,
                        dedupe_key=key,
                    )
                )
            lines.append((group, user, request.level, request.step, plan, keys))
    existing = set(
        Page.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows]).values_list(
            "dedupe_key", flat=True
        )
    )
    Page.objects.bulk_create([row for row in rows if row.dedupe_key not in existing], ignore_conflicts=True)
    AlertLogEntry.objects.bulk_create(
        [
            AlertLogEntry(
                group=group,
                kind=AlertLogEntry.Kind.PAGED,
                actor_label="system",
                at=now,
                text=f"paged {_name(user)} (level {level + 1}): {_plan_words(plan)}"[:2000],
                data={"user": user.pk, "level": level, "step": step},
            )
            for group, user, level, step, plan, keys in lines
            if any(key not in existing for key in keys)
        ]
    )
    return rows


# --- handing due pages to the outbox (the tick) --------------------------------------------------------------


def rate_limits(kind: str) -> tuple[int, int]:
    """(per minute, per hour) for a contact method kind; 0 means no limit."""
    limits = getattr(settings, "PAGE_RATE_LIMITS", {}).get(kind) or {}
    return int(limits.get("per_minute") or 0), int(limits.get("per_hour") or 0)


def _usage(method_ids: Iterable[int], now: datetime) -> dict[int, tuple[int, int]]:
    """Messages sent on each method in the last minute and hour. A summary is one message for many pages,
    so messages are counted by their outbox row, not by page."""
    sent: dict[int, dict] = defaultdict(dict)
    rows = Page.objects.filter(
        contact_method_id__in=list(method_ids),
        status__in=[Status.SENT, Status.SUMMARISED],
        sent_at__gt=now - HOUR,
    ).values_list("contact_method_id", "delivery_id", "pk", "sent_at")
    for method_id, delivery_id, page_id, sent_at in rows:
        sent[method_id][delivery_id or f"page-{page_id}"] = sent_at
    return {
        method_id: (sum(1 for at in messages.values() if at > now - MINUTE), len(messages))
        for method_id, messages in sent.items()
    }


def _budget(method: ContactMethod, usage: dict[int, tuple[int, int]]) -> int | None:
    """How many more messages the method may take now; None: no limit."""
    per_minute, per_hour = rate_limits(method.kind)
    in_minute, in_hour = usage.get(method.pk, (0, 0))
    room = []
    if per_minute:
        room.append(per_minute - in_minute)
    if per_hour:
        room.append(per_hour - in_hour)
    return max(0, min(room)) if room else None


def _address(method: ContactMethod) -> str:
    return str(method.user_id) if method.kind == ContactKind.PUSH else method.address


def _page_notification(page: Page, group: AlertGroup, method: ContactMethod) -> Notification:
    text = page_messages.page_text(group, with_link=method.kind != ContactKind.PUSH)
    context = {"url": page_messages.portal_alert_url(group.pk)} if method.kind == ContactKind.PUSH else {}
    return Notification(
        kind=KIND,
        dedupe_key=f"page:{page.pk}",
        subject=text.subject,
        text=text.sms if method.kind == ContactKind.PUSH else text.text,
        html=text.html if method.kind == ContactKind.EMAIL else "",
        payload={"sms": text.sms, "alert_group": group.pk, "page": page.pk},
        recipients=(
            Recipient(CHANNEL_OF[method.kind], _address(method), ref=f"page:{page.pk}", context=context),
        ),
        # The email's one-time link is a slot filled at send time (pages_send_context); the SMS transport
        # appends the short link itself.
        recipient_slots=("ack_url",) if method.kind == ContactKind.EMAIL else (),
    )


def _summary_notification(
    pages: list[Page], groups: dict[int, AlertGroup], method: ContactMethod
) -> Notification:
    shown, seen = [], set()
    for page in pages:
        if page.group_id not in seen:
            seen.add(page.group_id)
            shown.append(groups[page.group_id])
    text = page_messages.summary_text(shown)
    return Notification(
        kind=KIND,
        dedupe_key=f"page-summary:{method.pk}:{pages[0].pk}:{pages[-1].pk}:{len(pages)}",
        subject=text.subject,
        text=text.sms if method.kind == ContactKind.PUSH else text.text,
        html=text.html if method.kind == ContactKind.EMAIL else "",
        payload={"sms": text.sms, "alert_groups": [g.pk for g in shown[:100]]},
        recipients=(Recipient(CHANNEL_OF[method.kind], _address(method), ref=f"page-summary:{method.pk}"),),
    )


def _hold(page: Page, method: ContactMethod, now: datetime) -> AlertLogEntry:
    per_minute, per_hour = rate_limits(method.kind)
    page.status, page.note = Status.HELD, "held by the rate limit"
    return AlertLogEntry(
        group_id=page.group_id,
        kind=AlertLogEntry.Kind.RATE_LIMITED,
        actor_label="system",
        at=now,
        text=(
            f"{KIND_WORD[method.kind]} to {_name(page.user)} held by its rate limit "
            f"({per_minute} a minute, {per_hour} an hour): it goes out in one summary when the window reopens"
        )[:2000],
        data={"page": page.pk, "user": page.user_id},
    )


def _claim(now: datetime, limit: int) -> tuple[list[Page], dict[int, ContactMethod], dict]:
    """Due pages, and held pages of methods whose window has reopened, locked (SKIP LOCKED)."""
    due = list(
        Page.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Status.SCHEDULED, due_at__lte=now)
        .order_by("due_at", "pk")[:limit]
    )
    held_method_ids = set(
        Page.objects.filter(status=Status.HELD, contact_method__isnull=False)
        .values_list("contact_method_id", flat=True)
        .distinct()
    )
    method_ids = {p.contact_method_id for p in due if p.contact_method_id} | held_method_ids
    methods = ContactMethod.objects.in_bulk(method_ids)
    usage = _usage(method_ids, now)
    reopened = [pk for pk in held_method_ids if pk in methods and _budget(methods[pk], usage) != 0]
    held = list(
        Page.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Status.HELD, contact_method_id__in=reopened)
        .order_by("due_at", "pk")[:limit]
    )
    return due + held, methods, usage


def pages_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Hand due pages to the outbox in one transaction and a constant number of statements: cancelled if
    their group is no longer triggered; held when their contact method is over its rate limit, and summarised
    in ONE message when it reopens. Safe to run in several processes: pages are claimed with SKIP LOCKED, and
    a group an acknowledgement holds is skipped until it commits. Returns how many pages were sent or
    summarised."""
    now = now or timezone.now()
    with transaction.atomic():
        pages, methods, usage = _claim(now, limit)
        if not pages:
            return 0
        # Only the group rows, not their teams: an acknowledgement holding one group must not hide the rest.
        groups = (
            AlertGroup.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("team")
            .in_bulk({p.group_id for p in pages})
        )
        users = get_user_model().objects.in_bulk({p.user_id for p in pages})
        changed: list[Page] = []
        log: list[AlertLogEntry] = []
        outgoing: list[tuple[list[Page], Notification]] = []
        by_method: dict[int, list[Page]] = defaultdict(list)
        for page in pages:
            group = groups.get(page.group_id)
            if group is None:
                continue  # an acknowledgement holds the group: the next tick sees what it decided
            page.user = users[page.user_id]
            method = methods.get(page.contact_method_id)
            if group.status != lifecycle.TRIGGERED:
                page.status, page.note = Status.CANCELLED, "acknowledged or resolved first"
                changed.append(page)
            elif method is None or not _usable(method):
                page.status = Status.FAILED
                page.note = "contact method removed" if method is None else "contact method not usable"
                changed.append(page)
            else:
                by_method[method.pk].append(page)
        for method_id, waiting in by_method.items():
            method = methods[method_id]
            budget = _budget(method, usage)
            already_held = [p for p in waiting if p.status == Status.HELD]
            fresh = [p for p in waiting if p.status == Status.SCHEDULED]
            if already_held and budget != 0:
                # The window reopened: everything waiting on this method goes out as one message.
                batch = sorted(already_held + fresh, key=lambda p: (p.due_at, p.pk))
                if len(batch) == 1:
                    outgoing.append((batch, _page_notification(batch[0], groups[batch[0].group_id], method)))
                else:
                    outgoing.append((batch, _summary_notification(batch, groups, method)))
                continue
            for page in fresh:
                if budget == 0 or already_held:
                    log.append(_hold(page, method, now))
                    changed.append(page)
                    continue
                outgoing.append(([page], _page_notification(page, groups[page.group_id], method)))
                if budget is not None:
                    budget -= 1
        written = notifications_enqueue_many([notification for _, notification in outgoing])
        handed = 0
        for batch, notification in outgoing:
            delivery = (written.get(notification.dedupe_key) or [None])[0]
            summary = len(batch) > 1
            for page in batch:
                page.delivery, page.sent_at = delivery, now
                page.status = Status.SUMMARISED if summary else Status.SENT
                page.note = f"in a summary of {len(batch)}" if summary else ""
                changed.append(page)
            handed += len(batch)
        _save(changed)
        AlertLogEntry.objects.bulk_create(log)
    return handed


def _save(pages: list[Page]) -> None:
    """Write the pages' new status in a few UPDATEs (Django's bulk_update builds a CASE per row and field in
    Python, which cost more than the rest of the tick). Pages sent alone take their own outbox row, found by
    its recipient ref in the same statement; pages sharing a value (a summary's row, a cancellation) go together."""
    together: dict[tuple, list[int]] = defaultdict(list)
    alone: dict[tuple, list[int]] = defaultdict(list)
    for page in pages:
        if page.status == Status.SENT and page.delivery_id is not None:
            alone[(page.status, page.note, page.sent_at)].append(page.pk)
        else:
            together[(page.status, page.note, page.delivery_id, page.sent_at)].append(page.pk)
    for (status, note, delivery_id, sent_at), ids in together.items():
        Page.objects.filter(pk__in=ids).update(
            status=status, note=note, delivery_id=delivery_id, sent_at=sent_at
        )
    own_row = Delivery.objects.filter(
        recipient_ref=Concat(Value("page:"), Cast(OuterRef("pk"), output_field=CharField()))
    ).order_by("-pk")
    for (status, note, sent_at), ids in alone.items():
        Page.objects.filter(pk__in=ids).update(
            status=status, note=note, sent_at=sent_at, delivery_id=Subquery(own_row.values("pk")[:1])
        )


def pages_cancel(*, group: AlertGroup) -> int:
    """Nobody is paged about `group` after the caller's transaction commits: its waiting pages are cancelled,
    and so are its outbox rows not yet picked up (a summary shared with alerts still triggered is kept).
    Call it inside the acknowledge/resolve transaction, with the group locked. Returns pages cancelled."""
    cancelled = Page.objects.filter(group=group, status__in=[Status.SCHEDULED, Status.HELD]).update(
        status=Status.CANCELLED, note="acknowledged or resolved first"
    )
    delivery_ids = set(
        Page.objects.filter(
            group=group, delivery__isnull=False, delivery__status=Delivery.Status.PENDING
        ).values_list("delivery_id", flat=True)
    )
    if delivery_ids:
        shared = set(
            Page.objects.filter(delivery_id__in=delivery_ids, group__status=lifecycle.TRIGGERED)
            .exclude(group=group)
            .values_list("delivery_id", flat=True)
        )
        Delivery.objects.filter(pk__in=delivery_ids - shared, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.CANCELLED, last_error="Alert acknowledged or resolved first"
        )
    return cancelled


# --- reads -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageView:
    """A page as the escalation timeline shows it: who, how, when, and whether it left."""

    page: Page
    channel: str
    delivery_status: str  # the outbox row's status (pending, sending, sent, dead, cancelled), or the page's


def pages_of(group: AlertGroup) -> list[PageView]:
    """Every page about the group, in due order, with its outbox row's status."""
    pages = (
        Page.objects.filter(group=group)
        .select_related("user", "contact_method", "delivery")
        .order_by("due_at", "pk")
    )
    views = []
    for page in pages:
        method = page.contact_method
        channel = KIND_WORD.get(method.kind, method.kind) if method is not None else "-"
        status = page.delivery.status if page.delivery is not None else page.status
        views.append(PageView(page=page, channel=channel, delivery_status=status))
    return views


# --- one-time links, looked up by the outbox at send time ---------------------------------------------------


def ack_link_url(token: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + reverse("alert_ack_link", args=[token])


def ack_link_create(*, page: Page, now: datetime | None = None) -> tuple[AckLink, str]:
    """A fresh one-time link for the page's person and group; only its hash is stored."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    link = AckLink.objects.create(
        token_hash=link_token_hash(token),
        group_id=page.group_id,
        user_id=page.user_id,
        page=page,
        created_at=now,
        expires_at=now + settings.ALERT_LINK_TTL,
    )
    return link, token


def pages_send_context(*, refs: Iterable[str], slots: Iterable[str] = ()) -> dict[str, dict]:
    """NOTIFICATIONS_RECIPIENT_CONTEXT hook for "page:<id>" refs: a new one-time acknowledge link per SMS
    or email page being sent (an attempt that is retried gets a new one; the old one expires on its own)."""
    ids = []
    for ref in refs:
        prefix, _, raw = ref.partition(":")
        if prefix == "page" and raw.isdigit() and len(raw) <= 18:
            ids.append(int(raw))
    now = timezone.now()
    found: dict[str, dict] = {}
    pages = Page.objects.filter(pk__in=ids).exclude(contact_method__kind=ContactKind.PUSH)
    links, tokens = [], {}
    for page in pages.only("id", "group_id", "user_id"):
        token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
        tokens[page.pk] = token
        links.append(
            AckLink(
                token_hash=link_token_hash(token),
                group_id=page.group_id,
                user_id=page.user_id,
                page=page,
                created_at=now,
                expires_at=now + settings.ALERT_LINK_TTL,
            )
        )
    AckLink.objects.bulk_create(links)
    for page_id, token in tokens.items():
        url = ack_link_url(token)
        found[f"page:{page_id}"] = {"short_url": url, "ack_url": url}
    return found
