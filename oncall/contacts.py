"""Contact methods and personal notification rules: add, prove (a code sent to the address), remove. A person
manages their own; an admin manages anyone's. Only verified, enabled methods are paged (oncall.paging)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from oncall.models import ContactKind, ContactMethod, NotificationRule
from opsportal.core.exceptions import Conflict
from opsportal.core.roles import ACCESS_PORTAL, ADMINISTER
from opsportal.core.services import SYSTEM, audit_record, require_permission
from opsportal.core.text import NAME_MAX
from opsportal.notifications.models import Channel
from opsportal.notifications.services import Recipient, notification_enqueue
from opsportal.notifications.validation import normalise_email, normalise_phone

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
# A new code at most once a minute per method: a typo in the number cannot be turned into an SMS cannon.
CODE_RESEND_AFTER = timedelta(minutes=1)
MAX_METHODS_PER_USER = 20
MAX_RULES_PER_USER = 50
RULE_MAX_DELAY_MINUTES = 240  # the model's check constraint
VERIFY_KIND = "contact_verification"


def _may_manage(actor, user) -> None:
    """Your own methods and rules (as a portal user), or anyone's as an admin. Read at the moment of use."""
    if getattr(actor, "pk", None) is not None and actor.pk == user.pk:
        require_permission(actor, ACCESS_PORTAL)
        return
    if actor is None or not actor.has_perm(ADMINISTER):
        raise PermissionDenied("You can manage only your own contact methods and notification rules.")


def _normalised_address(kind: str, address: str) -> str:
    if kind == ContactKind.EMAIL:
        try:
            return normalise_email(address)
        except ValidationError:
            raise ValidationError({"address": "Give a valid email address."}) from None
    if kind == ContactKind.SMS:
        try:
            return normalise_phone(address)
        except ValidationError as exc:
            raise ValidationError({"address": exc.messages[0]}) from None
    return ""


def contact_method_add(
    *, actor, user, kind: str, address: str = "", label: str = "", verified: bool = False
) -> ContactMethod:
    """An unverified email or SMS method (send it a code next), or the in-app push method, verified at once
    since it reaches only the signed-in user. `verified` skips the code for trusted work only (SYSTEM: demo
    data, an import from a directory the company already trusts); a person or an admin always proves an
    address with its code."""
    if verified and actor is not SYSTEM:
        raise PermissionDenied("Only trusted system work adds a contact method already verified.")
    _may_manage(actor, user)
    if kind not in ContactKind.values:
        raise ValidationError({"kind": f"Choose one of {', '.join(ContactKind.values)}."})
    label = (label or "").strip()
    if len(label) > NAME_MAX:
        raise ValidationError({"label": f"At most {NAME_MAX} characters."})
    address = _normalised_address(kind, address)
    now = timezone.now()
    with transaction.atomic():
        if ContactMethod.objects.filter(user=user).count() >= MAX_METHODS_PER_USER:
            raise ValidationError(f"At most {MAX_METHODS_PER_USER} contact methods per person.")
        try:
            with transaction.atomic():
                method = ContactMethod.objects.create(
                    user=user,
                    kind=kind,
                    address=address,
                    label=label,
                    verified_at=now if kind == ContactKind.PUSH or verified else None,
                )
        except IntegrityError:
            raise Conflict("That contact method is already on the list.") from None
        audit_record(
            actor=actor,
            action="contact_method.added",
            obj=method,
            after={"kind": kind, "user": user.pk, "verified_without_code": verified},
        )
    return method


def _code_hash(method: ContactMethod, code: str) -> str:
    # Keyed with the secret key: a leaked table does not give away six-digit codes by brute force.
    return hmac.new(
        settings.SECRET_KEY.encode(), f"contact:{method.pk}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def contact_method_send_code(*, actor, method: ContactMethod, now: datetime | None = None) -> None:
    """Send a fresh six-digit code to the address (valid CODE_TTL, CODE_MAX_ATTEMPTS tries); at most one
    every CODE_RESEND_AFTER. The code is stored only hashed."""
    _may_manage(actor, method.user)
    now = now or timezone.now()
    with transaction.atomic():
        method = ContactMethod.objects.select_for_update().select_related("user").get(pk=method.pk)
        if method.kind == ContactKind.PUSH:
            raise Conflict("In-app push needs no code.")
        if method.is_verified:
            raise Conflict("This contact method is already verified.")
        if method.verification_expires_at is not None:
            sent_at = method.verification_expires_at - CODE_TTL
            if now < sent_at + CODE_RESEND_AFTER:
                wait = int((sent_at + CODE_RESEND_AFTER - now).total_seconds()) + 1
                raise Conflict(f"A code was sent moments ago; you can ask for another in {wait} seconds.")
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        method.verification_code_hash = _code_hash(method, code)
        method.verification_expires_at = now + CODE_TTL
        method.verification_attempts = 0
        method.save(
            update_fields=["verification_code_hash", "verification_expires_at", "verification_attempts"]
        )
        minutes = int(CODE_TTL.total_seconds() // 60)
        text = f"Your opsportal verification code is {code}. It expires in {minutes} minutes."
        channel = Channel.EMAIL if method.kind == ContactKind.EMAIL else Channel.SMS
        notification_enqueue(
            kind=VERIFY_KIND,
            # One message per code sent; the code itself is in the body, which only this address receives.
            dedupe_key=f"contact-verify:{method.pk}:{now.timestamp():.6f}",
            subject="Your opsportal verification code",
            text=text
            + ("\n\nIf you did not ask for it, ignore this message." if channel == Channel.EMAIL else ""),
            payload={"sms": text},
            recipients=[Recipient(channel, method.address, ref=f"contact:{method.pk}")],
        )
        audit_record(actor=actor, action="contact_method.code_sent", obj=method)


def contact_method_verify(
    *, actor, method: ContactMethod, code: str, now: datetime | None = None
) -> ContactMethod:
    """Check the code (constant-time); at most CODE_MAX_ATTEMPTS tries per code, which expires after
    CODE_TTL. Wrong, expired or spent codes are a ValidationError that says what to do next."""
    _may_manage(actor, method.user)
    now = now or timezone.now()
    code = "".join(str(code or "").split())[:32]
    with transaction.atomic():
        method = ContactMethod.objects.select_for_update().get(pk=method.pk)
        if method.is_verified:
            return method
        if not method.verification_code_hash or method.verification_expires_at is None:
            raise ValidationError({"code": "Ask for a code first."})
        if method.verification_attempts >= CODE_MAX_ATTEMPTS:
            raise ValidationError({"code": "Too many wrong codes: ask for a new one."})
        if now >= method.verification_expires_at:
            raise ValidationError({"code": "That code has expired: ask for a new one."})
        method.verification_attempts += 1
        right = hmac.compare_digest(_code_hash(method, code), method.verification_code_hash)
        if right:
            method.verified_at = now
            method.verification_code_hash = ""
            method.verification_expires_at = None
        method.save(
            update_fields=[
                "verified_at",
                "verification_code_hash",
                "verification_expires_at",
                "verification_attempts",
            ]
        )
        if right:
            audit_record(actor=actor, action="contact_method.verified", obj=method)
    # Raised after the commit: a wrong try must count.
    if not right:
        left = CODE_MAX_ATTEMPTS - method.verification_attempts
        raise ValidationError(
            {
                "code": f"That code is not right; {left} {'try' if left == 1 else 'tries'} left."
                if left
                else "That code is not right, and that was the last try: ask for a new one."
            }
        )
    return method


def contact_method_remove(*, actor, method: ContactMethod) -> None:
    """Remove the method and the rules that use it; pages already written keep their history."""
    _may_manage(actor, method.user)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="contact_method.removed",
            obj=method,
            before={"kind": method.kind, "user": method.user_id},
        )
        method.delete()


def contact_method_set_enabled(*, actor, method: ContactMethod, enabled: bool) -> ContactMethod:
    """Pause a method (a phone left at home) without losing its verification or its rules."""
    _may_manage(actor, method.user)
    with transaction.atomic():
        ContactMethod.objects.filter(pk=method.pk).update(enabled=enabled)
        method.enabled = enabled
        audit_record(actor=actor, action="contact_method.enabled", obj=method, after={"enabled": enabled})
    return method


def notification_rule_add(
    *, actor, user, method: ContactMethod, delay_minutes: int, urgency: str = NotificationRule.ForUrgency.ANY
) -> NotificationRule:
    """'Use this method N minutes after I am paged, for alerts of this urgency.'"""
    _may_manage(actor, user)
    if method.user_id != user.pk:
        raise ValidationError({"method": "Use one of this person's own contact methods."})
    if urgency not in NotificationRule.ForUrgency.values:
        raise ValidationError({"urgency": f"Choose one of {', '.join(NotificationRule.ForUrgency.values)}."})
    if isinstance(delay_minutes, bool) or not isinstance(delay_minutes, int):
        raise ValidationError({"delay_minutes": "Give a whole number of minutes."})
    if not 0 <= delay_minutes <= RULE_MAX_DELAY_MINUTES:
        raise ValidationError({"delay_minutes": f"Between 0 and {RULE_MAX_DELAY_MINUTES} minutes."})
    with transaction.atomic():
        if NotificationRule.objects.filter(user=user).count() >= MAX_RULES_PER_USER:
            raise ValidationError(f"At most {MAX_RULES_PER_USER} notification rules per person.")
        if NotificationRule.objects.filter(
            user=user, contact_method=method, delay_minutes=delay_minutes, urgency=urgency
        ).exists():
            raise Conflict("That rule is already on the list.")
        rule = NotificationRule.objects.create(
            user=user, contact_method=method, delay_minutes=delay_minutes, urgency=urgency
        )
        audit_record(
            actor=actor,
            action="notification_rule.added",
            obj=rule,
            after={"method": method.pk, "delay_minutes": delay_minutes, "urgency": urgency},
        )
    return rule


def notification_rule_remove(*, actor, rule: NotificationRule) -> None:
    _may_manage(actor, rule.user)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="notification_rule.removed",
            obj=rule,
            before={"method": rule.contact_method_id, "delay_minutes": rule.delay_minutes},
        )
        rule.delete()


# --- reads ---------------------------------------------------------------------------------------------------


def contact_methods_of(user) -> list[ContactMethod]:
    return list(ContactMethod.objects.filter(user=user).order_by("kind", "pk"))


def notification_rules_of(user) -> list[NotificationRule]:
    return list(
        NotificationRule.objects.filter(user=user)
        .select_related("contact_method")
        .order_by("urgency", "delay_minutes", "pk")
    )
