"""Subscriber writes: subscribe with double opt-in, confirm, change components, unsubscribe, quarantine a
bouncing address or a webhook that keeps failing, partner and CSV sign-ups; plus the signed links and the
Recipients a notification needs."""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from opsportal.core.exceptions import Conflict
from opsportal.core.roles import RESPOND
from opsportal.core.services import SYSTEM, audit_record, user_or_none
from opsportal.core.text import validate_line
from opsportal.notifications.models import Delivery
from opsportal.notifications.services import Recipient, notification_enqueue
from opsportal.notifications.validation import normalise_email, normalise_phone, validate_webhook_url
from statuspage.models import Component, Subscriber, SubscriberChannel, SubscriberStatus
from statuspage.subscriber_selectors import subscribers_for_components  # noqa: F401  (part of this API)

CONFIRM_SALT = "statuspage.subscriber.confirm"
MANAGE_SALT = "statuspage.subscriber.manage"
CONFIRM_MAX_AGE = 3 * 24 * 3600  # a confirmation link works for three days
# A webhook is disabled when this many of its latest finished deliveries in a row ended dead.
WEBHOOK_DISABLE_AFTER = 5


# --- addresses ---------------------------------------------------------------------------------------


def subscriber_normalise_address(*, channel: str, address: str, resolve: bool = True) -> str:
    """The address in its one canonical spelling, or ValidationError({"address": ...}) saying why not."""
    if channel not in SubscriberChannel.values:
        raise ValidationError(
            {"channel": f"Choose one of: {', '.join(SubscriberChannel.values)}."}, code="channel"
        )
    try:
        validate_line(address)  # one line, no control characters: addresses end up in mail headers and URLs
        if channel == SubscriberChannel.EMAIL:
            try:
                return normalise_email(address)
            except ValidationError:
                raise ValidationError(
                    "Enter a valid email address, e.g. ops@shop.example.", code="email"
                ) from None
        if channel == SubscriberChannel.SMS:
            return normalise_phone(address)
        normalised = validate_webhook_url(address, resolve=resolve)
    except ValidationError as exc:
        raise ValidationError({"address": exc.messages}, code="address") from None
    if len(normalised) > Subscriber._meta.get_field("address").max_length:
        raise ValidationError({"address": "That URL is too long."}, code="address")
    return normalised


# --- signed links ---------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_URL}{path}"


def subscriber_confirm_token(subscriber: Subscriber) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(str(subscriber.pk))


def subscriber_manage_token(subscriber: Subscriber) -> str:
    # No expiry: the manage and unsubscribe links sit in every message we ever send them.
    return signing.Signer(salt=MANAGE_SALT).sign(str(subscriber.pk))


_TOKEN_SLOT = "TOKEN-SLOT"  # noqa: S105 (a placeholder in a URL, not a secret)


@functools.cache
def _link_templates() -> tuple[str, str]:
    # reverse() costs ~6 µs a call; a 100,000-subscriber fan-out needs two per subscriber. Resolve once.
    return (
        _absolute(reverse("subscription_manage", args=[_TOKEN_SLOT])),
        _absolute(reverse("subscription_unsubscribe", args=[_TOKEN_SLOT])),
    )


def subscriber_links(subscriber: Subscriber) -> dict[str, str]:
    token = subscriber_manage_token(subscriber)
    manage, unsubscribe = _link_templates()
    return {
        "manage_url": manage.replace(_TOKEN_SLOT, token),
        "unsubscribe_url": unsubscribe.replace(_TOKEN_SLOT, token),
    }


def subscriber_confirm_url(subscriber: Subscriber) -> str:
    return _absolute(reverse("subscription_confirm", args=[subscriber_confirm_token(subscriber)]))


def subscriber_from_manage_token(token: str) -> Subscriber:
    """The subscriber a manage link names; ValidationError if the link was altered."""
    try:
        pk = int(signing.Signer(salt=MANAGE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        raise ValidationError("This link is not valid. Use the link from your latest message.") from None
    subscriber = Subscriber.objects.filter(pk=pk).prefetch_related("components").first()
    if subscriber is None:
        raise ValidationError("This subscription no longer exists.")
    return subscriber


# --- recipients for notification_enqueue ------------------------------------------------------------


def subscriber_recipients(subscribers: Iterable[Subscriber]) -> Iterator[Recipient]:
    """One Recipient per subscriber, carrying the links every message must include and the webhook secret.

    A generator: feed it subscribers_for_components(...).iterator(chunk_size=2000) and memory stays flat."""
    for subscriber in subscribers:
        context = subscriber_links(subscriber)
        if subscriber.channel == SubscriberChannel.WEBHOOK:
            context["secret"] = subscriber.secret
        yield Recipient(
            channel=subscriber.channel,
            address=subscriber.address,
            ref=f"subscriber:{subscriber.pk}",
            context=context,
        )


# --- subscribe and confirm -------------------------------------------------------------------------


def _state(subscriber: Subscriber, component_ids: list[int] | None = None) -> dict:
    return {
        "channel": subscriber.channel,
        "status": subscriber.status,
        "components": component_ids
        if component_ids is not None
        else sorted(c.pk for c in subscriber.components.all()),
    }


def _enqueue_confirmation(subscriber: Subscriber) -> None:
    """One message for one recipient, shaped for its channel (the delivery engine sends a webhook the whole
    payload as its body, and an SMS its text plus the context's short_url, which is never cut)."""
    name = getattr(settings, "STATUSPAGE_NAME", "Platform status")
    confirm_url = subscriber_confirm_url(subscriber)
    links = subscriber_links(subscriber)
    context = dict(links)
    text = (
        f"Someone (hopefully you) asked to receive {name} notifications at this address.\n\n"
        f"Confirm within 3 days: {confirm_url}\n\n"
        "If it was not you, ignore this message: nothing more will be sent.\n"
    )
    html = (
        f"<p>Someone (hopefully you) asked to receive {escape(name)} notifications at this address.</p>"
        f'<p><a href="{escape(confirm_url)}">Confirm your subscription</a> (the link works for 3 days).</p>'
        "<p>If it was not you, ignore this message: nothing more will be sent.</p>"
    )
    payload: dict = {}
    if subscriber.channel == SubscriberChannel.SMS:
        text = f"{name}: confirm your status alerts (link valid 3 days):"
        html = ""
        context["short_url"] = confirm_url
    elif subscriber.channel == SubscriberChannel.WEBHOOK:
        context["secret"] = subscriber.secret
        payload = {
            "meta": {"kind": "subscription_confirm", "unsubscribe": links["unsubscribe_url"]},
            "page": {"name": name, "url": settings.PUBLIC_URL},
            # The receiver confirms by POSTing to confirm_url; it may then verify our signatures with the secret.
            "subscription_confirm": {
                "confirm_url": confirm_url,
                "method": "POST",
                "signing_secret": subscriber.secret,
                "manage_url": links["manage_url"],
            },
        }
    notification_enqueue(
        kind="subscription_confirm",
        # A fresh key each time: asking again (say the first message was lost) sends again; rate limits cap it.
        dedupe_key=f"subscription_confirm:{subscriber.pk}:{uuid.uuid4().hex}",
        subject=f"Confirm your subscription to {name}",
        text=text,
        html=html,
        payload=payload,
        recipients=[
            Recipient(
                channel=subscriber.channel,
                address=subscriber.address,
                ref=f"subscriber:{subscriber.pk}",
                context=context,
            )
        ],
    )


@dataclass
class SubscribeResult:
    subscriber: Subscriber | None
    created: bool


@transaction.atomic
def subscriber_subscribe(
    *, channel: str, address: str, components: Iterable[Component] = (), ip: str | None = None
) -> SubscribeResult:
    """A public sign-up: saved unconfirmed, and only a confirmation is sent until it is confirmed.

    An address that is already subscribed gets no new row; if it is still waiting for confirmation the
    confirmation goes out again. The caller shows the same neutral answer either way."""
    address = subscriber_normalise_address(channel=channel, address=address)
    component_ids = sorted({c.pk for c in components})
    existing = (
        Subscriber.objects.select_for_update()
        .filter(channel=channel, address=address, unsubscribed_at__isnull=True)
        .first()
    )
    if existing is not None:
        if existing.status == SubscriberStatus.PENDING:
            before = _state(existing)
            existing.components.set(component_ids)
            audit_record(
                actor=None,
                actor_label=f"public{f' ({ip})' if ip else ''}",
                action="subscriber.confirmation_resent",
                obj=existing,
                before=before,
                after=_state(existing, component_ids),
            )
            _enqueue_confirmation(existing)
        return SubscribeResult(subscriber=existing, created=False)
    subscriber = Subscriber(
        channel=channel,
        address=address,
        created_ip=ip,
        secret=secrets.token_hex(32) if channel == SubscriberChannel.WEBHOOK else "",
    )
    try:
        with transaction.atomic():
            subscriber.save()
    except IntegrityError:
        # Someone subscribed the same address a moment ago: same neutral answer, nothing new.
        return SubscribeResult(subscriber=None, created=False)
    subscriber.components.set(component_ids)
    audit_record(
        actor=None,
        actor_label=f"public{f' ({ip})' if ip else ''}",
        action="subscriber.subscribed",
        obj=subscriber,
        after=_state(subscriber, component_ids),
    )
    _enqueue_confirmation(subscriber)
    return SubscribeResult(subscriber=subscriber, created=True)


@transaction.atomic
def subscriber_confirm(*, token: str) -> Subscriber:
    """Confirm from the signed link; ValidationError for an altered, expired or spent link."""
    try:
        pk = int(signing.TimestampSigner(salt=CONFIRM_SALT).unsign(token, max_age=CONFIRM_MAX_AGE))
    except signing.SignatureExpired:
        raise ValidationError(
            "This confirmation link has expired (they last 3 days). Subscribe again to get a new one.",
            code="expired",
        ) from None
    except (signing.BadSignature, ValueError):
        raise ValidationError("This confirmation link is not valid.", code="invalid") from None
    subscriber = Subscriber.objects.select_for_update().filter(pk=pk).first()
    if subscriber is None or subscriber.unsubscribed_at is not None:
        raise ValidationError(
            "This subscription was cancelled. Subscribe again to get a new link.", code="gone"
        )
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["confirmed_at"])
        audit_record(
            actor=None,
            actor_label="subscriber (confirm link)",
            action="subscriber.confirmed",
            obj=subscriber,
            before={"status": SubscriberStatus.PENDING},
            after={"status": subscriber.status},
        )
    return subscriber


# --- partners (API) ------------------------------------------------------------------------------------


@transaction.atomic
def subscriber_subscribe_for_partner(
    *, actor, channel: str, address: str, components: Iterable[Component] = ()
) -> Subscriber | None:
    """An API sign-up. A webhook is the partner's own endpoint: confirmed at once (create_for_partner). An
    email address or phone number belongs to a person, whose consent a token cannot prove: the row waits
    for the recipient's confirmation, as a public sign-up does.

    For email and SMS the caller learns nothing about whether the address was already subscribed: an
    address already on the list is left as it is (not taken over, no message), and None comes back either
    way, so the API answers the same."""
    if channel == SubscriberChannel.WEBHOOK:
        return subscriber_create_for_partner(
            actor=actor, channel=channel, address=address, components=components
        )
    address = subscriber_normalise_address(channel=channel, address=address)
    component_ids = sorted({c.pk for c in components})
    if Subscriber.objects.filter(channel=channel, address=address, unsubscribed_at__isnull=True).exists():
        return None
    subscriber = Subscriber(channel=channel, address=address, owner=user_or_none(actor))
    try:
        with transaction.atomic():
            subscriber.save()
    except IntegrityError:
        return None  # subscribed a moment ago by someone else: the same answer
    subscriber.components.set(component_ids)
    audit_record(
        actor=actor, action="subscriber.subscribed", obj=subscriber, after=_state(subscriber, component_ids)
    )
    _enqueue_confirmation(subscriber)
    return None


@transaction.atomic
def subscriber_create_for_partner(
    *, actor, channel: str, address: str, components: Iterable[Component] = ()
) -> Subscriber:
    """A partner's own webhook: the token proves the endpoint is theirs, so it is confirmed at once."""
    address = subscriber_normalise_address(channel=channel, address=address)
    component_ids = sorted({c.pk for c in components})
    subscriber = Subscriber(
        channel=channel,
        address=address,
        owner=user_or_none(actor),
        confirmed_at=timezone.now(),
        secret=secrets.token_hex(32) if channel == SubscriberChannel.WEBHOOK else "",
    )
    try:
        with transaction.atomic():
            subscriber.save()
    except IntegrityError:
        raise Conflict("This address is already subscribed on this channel.") from None
    subscriber.components.set(component_ids)
    audit_record(
        actor=actor, action="subscriber.created", obj=subscriber, after=_state(subscriber, component_ids)
    )
    return subscriber


# --- changes anyone holding a link (or owning the row) may make -----------------------------------------


def _locked(subscriber: Subscriber) -> Subscriber:
    return Subscriber.objects.select_for_update().get(pk=subscriber.pk)


def _actor_kwargs(actor) -> dict:
    return {"actor": actor} if actor is not None else {"actor": None, "actor_label": "subscriber (link)"}


@transaction.atomic
def subscriber_update_components(
    *, subscriber: Subscriber, components: Iterable[Component], actor=None
) -> Subscriber:
    """Follow these components from now on (none: everything). actor None means the subscriber's own link."""
    subscriber = _locked(subscriber)
    if subscriber.unsubscribed_at is not None:
        raise Conflict("This subscription was cancelled; subscribe again instead.")
    before = sorted(subscriber.components.values_list("pk", flat=True))
    after = sorted({c.pk for c in components})
    if before != after:
        subscriber.components.set(after)
        audit_record(
            **_actor_kwargs(actor),
            action="subscriber.components_changed",
            obj=subscriber,
            before={"components": before},
            after={"components": after},
        )
    return subscriber


@transaction.atomic
def subscriber_unsubscribe(*, subscriber: Subscriber, actor=None) -> Subscriber:
    """Stop sending. Safe to repeat (a one-click unsubscribe may arrive twice)."""
    subscriber = _locked(subscriber)
    if subscriber.unsubscribed_at is None:
        before = subscriber.status
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["unsubscribed_at"])
        audit_record(
            **_actor_kwargs(actor),
            action="subscriber.unsubscribed",
            obj=subscriber,
            before={"status": before},
            after={"status": subscriber.status},
        )
    return subscriber


@transaction.atomic
def subscriber_quarantine(*, subscriber_id: int, reason: str, actor=None) -> Subscriber | None:
    """A hard bounce: stop sending to this address until staff look at it. Takes the id the delivery
    log holds ("subscriber:<id>"); None if the row is gone."""
    subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.quarantined_at is not None:
        return subscriber
    before = subscriber.status
    subscriber.quarantined_at = timezone.now()
    subscriber.quarantine_reason = (reason or "hard bounce")[:300]
    subscriber.save(update_fields=["quarantined_at", "quarantine_reason"])
    audit_record(
        actor=actor,
        actor_label="" if actor is not None else "delivery (hard bounce)",
        action="subscriber.quarantined",
        obj=subscriber,
        before={"status": before},
        after={"status": subscriber.status, "reason": subscriber.quarantine_reason},
    )
    return subscriber


@transaction.atomic
def subscriber_resume(*, subscriber: Subscriber, actor=None) -> Subscriber:
    """Send again to a quarantined address (a fixed webhook, a mailbox that works again). Only failures
    after this moment count towards disabling it again. The actor is staff, the partner who owns it,
    or None for someone holding the signed manage link."""
    if actor is not None and not (actor.has_perm(RESPOND) or subscriber.owner_id == actor.pk):
        raise PermissionDenied("Only staff or the subscription's owner can resume it.")
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.unsubscribed_at is not None:
        raise Conflict("This subscription is cancelled; subscribe again instead.")
    if subscriber.quarantined_at is None:
        return subscriber
    before = {"status": subscriber.status, "reason": subscriber.quarantine_reason}
    subscriber.quarantined_at = None
    subscriber.quarantine_reason = ""
    subscriber.resumed_at = timezone.now()
    subscriber.save(update_fields=["quarantined_at", "quarantine_reason", "resumed_at"])
    audit_record(
        actor=actor,
        actor_label="" if actor is not None else "manage link",
        action="subscriber.resumed",
        obj=subscriber,
        before=before,
        after={"status": subscriber.status},
    )
    return subscriber


def _subscriber_id(ref: str) -> int | None:
    """The id in a delivery's "subscriber:<id>" ref; None for refs that belong to someone else."""
    kind, _, raw_id = (ref or "").partition(":")
    return int(raw_id) if kind == "subscriber" and raw_id.isdigit() else None


def subscribers_quarantine_bounced(*, bounces: Iterable[tuple[str, str]]) -> int:
    """For the delivery engine: (recipient_ref, reason) pairs of hard bounces; refs that are not
    "subscriber:<id>" belong to someone else and are ignored. Returns how many were quarantined."""
    count = 0
    for ref, reason in bounces:
        subscriber_id = _subscriber_id(ref)
        if subscriber_id is not None:
            subscriber = subscriber_quarantine(subscriber_id=subscriber_id, reason=reason)
            count += subscriber is not None
    return count


def webhook_failure_streaks(*, refs: Iterable[str], limit: int = WEBHOOK_DISABLE_AFTER) -> dict[str, list]:
    """Each ref's latest `limit` finished webhook deliveries, newest first, as (status, last_error) pairs.

    Two queries for all refs, however many. Only finished rows count: one still retrying is neither a success nor a
    failure yet, and a cancelled one says nothing about the endpoint. A sent row ends the streak, so a
    webhook that recovers is never disabled for failures before it."""
    refs = sorted(set(refs))
    streaks: dict[str, list] = {ref: [] for ref in refs}
    if not refs:
        return streaks
    rows = (
        Delivery.objects.filter(
            recipient_ref__in=refs,
            channel=SubscriberChannel.WEBHOOK,
            status__in=[Delivery.Status.SENT, Delivery.Status.DEAD],
        )
        .annotate(recency=Window(RowNumber(), partition_by=[F("recipient_ref")], order_by=F("pk").desc()))
        .filter(recency__lte=limit)
        .order_by("recipient_ref", "recency")
        .values_list("recipient_ref", "status", "last_error", "created_at")
    )
    # Failures before a resume were forgiven: they end the streak like a success would.
    ids = [subscriber_id for subscriber_id in map(_subscriber_id, refs) if subscriber_id is not None]
    resumed = {
        f"subscriber:{pk}": at
        for pk, at in Subscriber.objects.filter(pk__in=ids, resumed_at__isnull=False).values_list(
            "pk", "resumed_at"
        )
    }
    for ref, status, last_error, created_at in rows:
        if ref in resumed and created_at <= resumed[ref]:
            status = "forgiven"
        streaks[ref].append((status, last_error))
    return streaks


def subscribers_disable_failing_webhooks(*, failures: Iterable[tuple[str, str, str]]) -> int:
    """For the delivery engine, after each chunk: (recipient_ref, channel, error) of rows that ended dead.
    A webhook subscriber whose latest WEBHOOK_DISABLE_AFTER finished deliveries all ended dead is disabled
    and its owner told. Returns how many were disabled."""
    refs = {
        ref for ref, channel, _ in failures if channel == SubscriberChannel.WEBHOOK and _subscriber_id(ref)
    }
    disabled = 0
    for ref, streak in webhook_failure_streaks(refs=refs).items():
        if len(streak) == WEBHOOK_DISABLE_AFTER and all(s == Delivery.Status.DEAD for s, _ in streak):
            last_error = streak[0][1]
            disabled += subscriber_disable_webhook(subscriber_id=_subscriber_id(ref), last_error=last_error)
    return disabled


@transaction.atomic
def subscriber_disable_webhook(*, subscriber_id: int, last_error: str) -> bool:
    """Quarantine a webhook that keeps failing and email its owner, once, what to do about it. False if
    it is already quarantined or unsubscribed (another worker got there first, or nothing to do)."""
    # No select_related: on PostgreSQL FOR UPDATE would lock the owner's user row too.
    subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.quarantined_at is not None or subscriber.unsubscribed_at is not None:
        return False
    reason = (
        f"webhook disabled after {WEBHOOK_DISABLE_AFTER} failed deliveries: {last_error or 'unknown error'}"
    )
    subscriber = subscriber_quarantine(subscriber_id=subscriber.pk, reason=reason, actor=SYSTEM)
    owner_email = subscriber.owner.email if subscriber.owner is not None else ""
    if owner_email:
        _enqueue_webhook_disabled(subscriber, owner_email, last_error=last_error or "unknown error")
    return True


def _enqueue_webhook_disabled(subscriber: Subscriber, owner_email: str, *, last_error: str) -> None:
    """Written in the disabling transaction (the outbox): it goes out once the quarantine is committed."""
    name = getattr(settings, "STATUSPAGE_NAME", "Platform status")
    manage_url = subscriber_links(subscriber)["manage_url"]
    # There is no "resume" yet: a disabled subscription comes back by subscribing the fixed URL again.
    how = (
        "Fix the endpoint (it must answer our POSTs with a 2xx status), then subscribe it again: cancel this "
        f"subscription at {manage_url} (or DELETE /api/v1/subscribers/{subscriber.pk}/) and create it anew."
    )
    text = (
        f"We stopped sending {name} notifications to your webhook {subscriber.address}: "
        f"its last {WEBHOOK_DISABLE_AFTER} deliveries failed.\n\nLast error: {last_error}\n\n{how}\n"
    )
    html = (
        f"<p>We stopped sending {escape(name)} notifications to your webhook "
        f"<code>{escape(subscriber.address)}</code>: its last {WEBHOOK_DISABLE_AFTER} deliveries failed.</p>"
        f"<p>Last error: {escape(last_error)}</p><p>{escape(how)}</p>"
    )
    notification_enqueue(
        kind="webhook_disabled",
        dedupe_key=f"webhook_disabled:{subscriber.pk}:{subscriber.quarantined_at.isoformat()}",
        subject=f"{name}: your webhook was disabled",
        text=text,
        html=html,
        recipients=[Recipient(channel="email", address=owner_email, ref=f"user:{subscriber.owner_id}")],
    )
