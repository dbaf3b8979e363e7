"""Acknowledge from a page: a one-time link used once, or an SMS reply ("12a"). Both act as the person who
was paged, with that person's role as it is now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from oncall import alerting, sms_replies
from oncall.models import AckLink, AlertGroup, ContactKind, ContactMethod, Page
from oncall.paging import link_token_hash
from opsportal.core.exceptions import Conflict
from opsportal.core.roles import RESPOND
from opsportal.notifications.validation import normalise_phone

TOKEN_MAX = 64
LINK_ACTIONS = {"acknowledge": alerting.alert_group_acknowledge, "resolve": alerting.alert_group_resolve}


class LinkGone(Exception):
    """The link was used already or has expired (HTTP 410): `reason` is "used" or "expired"."""

    def __init__(self, reason: str, link: AckLink):
        super().__init__(reason)
        self.reason = reason
        self.link = link


def ack_link_find(token: str) -> AckLink | None:
    if not token or len(token) > TOKEN_MAX:
        return None
    return (
        AckLink.objects.select_related("group", "group__team", "user")
        .filter(token_hash=link_token_hash(token))
        .first()
    )


def ack_link_state(link: AckLink, now: datetime | None = None) -> str:
    """ "usable", "used" or "expired"."""
    if link.used_at is not None:
        return "used"
    if (now or timezone.now()) >= link.expires_at:
        return "expired"
    return "usable"


def may_respond(user) -> bool:
    """Read from the database now: a role removed since the page was sent counts."""
    return user.is_active and user.has_perm(RESPOND)


def ack_link_use(*, token: str, action: str, now: datetime | None = None) -> tuple[AckLink, AlertGroup]:
    """Consume the link once and acknowledge or resolve its alert as the person it was sent to. Raises
    LinkGone (used or expired), PermissionDenied (no longer a responder), Conflict (already resolved)."""
    if action not in LINK_ACTIONS:
        raise ValidationError({"action": "Acknowledge or resolve."})
    now = now or timezone.now()
    if not token or len(token) > TOKEN_MAX:
        raise AckLink.DoesNotExist
    with transaction.atomic():
        link = AckLink.objects.select_for_update().get(token_hash=link_token_hash(token))
        state = ack_link_state(link, now)
        if state != "usable":
            raise LinkGone(state, link)
        user = type(link.user).objects.get(pk=link.user_id)  # a fresh row: the role as it is now
        if not may_respond(user):
            raise PermissionDenied("You can no longer act on alerts: your responder role was removed.")
        group = LINK_ACTIONS[action](actor=user, group=link.group, via="link", now=now)
        link.used_at, link.used_for = now, action
        link.save(update_fields=["used_at", "used_for"])
    return link, group


# --- SMS replies -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsOutcome:
    reply: str
    acted: bool = False


SMS_ACTIONS = {
    sms_replies.ACKNOWLEDGE: (alerting.alert_group_acknowledge, "Acknowledged"),
    sms_replies.CLOSE: (alerting.alert_group_resolve, "Closed"),
    sms_replies.ESCALATE: (alerting.alert_group_escalate, "Escalated"),
}


def _short(summary: str) -> str:
    summary = " ".join(summary.split())
    return summary if len(summary) <= 80 else summary[:77] + "..."


def sms_reply_apply(*, sender: str, body: str, now: datetime | None = None) -> SmsOutcome:
    """Act on an SMS reply from `sender` (already proved to come from the provider). The sender must be a
    verified SMS contact method of someone paged about the alert the code names."""
    try:
        number = normalise_phone(sender)
    except ValidationError:
        number = ""
    methods = list(
        ContactMethod.objects.filter(kind=ContactKind.SMS, address=number, verified_at__isnull=False)
        .select_related("user")
        .order_by("pk")
    )
    if not number or not methods:
        return SmsOutcome("This number is not a verified contact method in opsportal.")
    parsed = sms_replies.reply_parse(body)
    if parsed is None:
        return SmsOutcome(f"Unknown code. {sms_replies.HELP}")
    group = AlertGroup.objects.filter(pk=parsed.group_id).first()
    if group is None:
        return SmsOutcome(f"Unknown code: there is no alert #{parsed.group_id}. {sms_replies.HELP}")
    paged_user_ids = set(
        Page.objects.filter(
            group=group,
            user_id__in=[m.user_id for m in methods],
            status__in=[Page.Status.SENT, Page.Status.SUMMARISED],
        ).values_list("user_id", flat=True)
    )
    users = [m.user for m in methods if m.user_id in paged_user_ids]
    if not users:
        return SmsOutcome(f"You were not paged for #{group.pk}.")
    user = type(users[0]).objects.get(pk=users[0].pk)  # the role as it is now
    if not may_respond(user):
        return SmsOutcome("You can no longer act on alerts: your responder role was removed.")
    service, done = SMS_ACTIONS[parsed.action]
    try:
        group = service(actor=user, group=group, via="sms", now=now)
    except PermissionDenied:
        return SmsOutcome("You can no longer act on alerts: your responder role was removed.")
    except Conflict as exc:
        return SmsOutcome(f"#{group.pk}: {exc}")
    except ValidationError as exc:
        return SmsOutcome(f"#{group.pk}: {' '.join(exc.messages)}")
    return SmsOutcome(f"{done} #{group.pk}: {_short(group.summary)}", acted=True)
