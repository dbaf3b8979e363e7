"""Identity writes: API tokens (create, revoke, note use) and partner organisations (create, switch on or
off, contacts). Every write is audited; partners and their tokens are managed by admins only."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from opsportal.core.models import ApiToken, Partner, PartnerContact, hash_token
from opsportal.core.roles import PARTNER_ACCOUNT_PREFIX, Permission
from opsportal.core.scopes import ALL_SCOPES, PARTNER_SCOPES, parse_scopes
from opsportal.core.services import SYSTEM, audit_record, require_permission, user_or_none

TOKEN_PREFIX = "ops_"  # noqa: S105 (a label, not a secret)
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def _check_may_manage(actor, user, partner: Partner | None) -> None:
    if actor is SYSTEM:
        return
    if partner is None and actor.pk == user.pk:
        require_permission(actor, Permission.RESPOND)
    else:
        require_permission(actor, Permission.ADMINISTER)


@transaction.atomic
def api_token_create(
    *,
    actor,
    user=None,
    partner: Partner | None = None,
    name: str,
    scopes: list[str] | str,
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for a staff member (`user`) or a partner. Returns the row and the plaintext, which is
    never stored."""
    if (user is None) == (partner is None):
        raise ValueError("A token belongs to a staff member or to a partner: give exactly one.")
    if partner is not None:
        user = partner.account
    _check_may_manage(actor, user, partner)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it."})
    try:
        scope_list = parse_scopes(scopes, allowed=PARTNER_SCOPES if partner else ALL_SCOPES)
    except ValueError as exc:
        detail = str(exc)
        if partner is not None:
            detail = f"Partners read the public view and manage their subscriptions only. {detail}"
        raise ValidationError({"scopes": detail}) from None
    if (
        partner is None
        and any(scope.endswith(":write") for scope in scope_list)
        and not user.has_perm(Permission.RESPOND)
    ):
        raise ValidationError(
            {"scopes": f"{user.get_username()} is a viewer; viewers' tokens can only read."}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if partner is not None and not partner.is_active:
        raise ValidationError("This partner is deactivated; activate it before giving it tokens.")
    if not user.is_active:
        raise PermissionDenied("Tokens can only be created for active staff.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        partner=partner,
        name=name,
        prefix=plaintext[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(plaintext),
        scopes=scope_list,
        expires_at=expires_at,
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=user_or_none(actor),
    )
    audit_record(
        actor=actor,
        action="api_token.created",
        obj=token,
        after={
            "user": user.get_username(),
            "partner": partner.name if partner else None,
            "name": name,
            "scopes": scope_list,
            "expires_at": expires_at,
        },
    )
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().select_related("user", "partner").get(pk=token.pk)
    _check_may_manage(actor, token.user, token.partner)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="api_token.revoked",
        obj=token,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at},
    )
    return token


def api_token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- partners -------------------------------------------------------------------------------------------


def _clean_contacts(contacts) -> list[tuple[str, str]]:
    cleaned = []
    for contact_name, email in contacts:
        contact_name, email = contact_name.strip(), email.strip().lower()
        if not contact_name:
            raise ValidationError({"contacts": "Every contact needs a name."})
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"contacts": f"{email!r} is not an email address."}) from None
        cleaned.append((contact_name, email))
    if len({email for _, email in cleaned}) != len(cleaned):
        raise ValidationError({"contacts": "Each contact needs a different email address."})
    return cleaned


@transaction.atomic
def partner_create(*, actor, name: str, contacts=(), notes: str = "") -> Partner:
    """A partner organisation with its own account (no password, no role) and its contacts."""
    require_permission(actor, Permission.ADMINISTER)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the partner's name."})
    slug = slugify(name)[:60]
    if not slug:
        raise ValidationError({"name": "The name needs at least one letter or digit."})
    if Partner.objects.filter(name__iexact=name).exists() or Partner.objects.filter(slug=slug).exists():
        raise ValidationError({"name": "A partner with this name already exists."})
    cleaned = _clean_contacts(contacts)
    account = get_user_model().objects.create_user(username=f"{PARTNER_ACCOUNT_PREFIX}{slug}", password=None)
    partner = Partner.objects.create(name=name, slug=slug, account=account, notes=notes.strip())
    PartnerContact.objects.bulk_create([PartnerContact(partner=partner, name=n, email=e) for n, e in cleaned])
    audit_record(
        actor=actor,
        action="partner.created",
        obj=partner,
        after={"name": name, "contacts": [f"{n} <{e}>" for n, e in cleaned]},
    )
    return partner


@transaction.atomic
def partner_set_active(*, actor, partner: Partner, active: bool) -> Partner:
    """Switch a partner off (every token stops at once, nothing is deleted) or on again."""
    require_permission(actor, Permission.ADMINISTER)
    partner = Partner.objects.select_for_update().select_related("account").get(pk=partner.pk)
    if partner.is_active == active:
        return partner
    partner.is_active = active
    partner.save(update_fields=["is_active"])
    partner.account.is_active = active
    partner.account.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="partner.activated" if active else "partner.deactivated",
        obj=partner,
        before={"is_active": not active},
        after={"is_active": active},
    )
    return partner


@transaction.atomic
def partner_add_contact(*, actor, partner: Partner, name: str, email: str) -> PartnerContact:
    require_permission(actor, Permission.ADMINISTER)
    [(name, email)] = _clean_contacts([(name, email)])
    if partner.contacts.filter(email=email).exists():
        raise ValidationError({"email": "This partner already has a contact with this address."})
    contact = PartnerContact.objects.create(partner=partner, name=name, email=email)
    audit_record(actor=actor, action="partner.contact_added", obj=partner, after={"contact": str(contact)})
    return contact


@transaction.atomic
def partner_remove_contact(*, actor, contact: PartnerContact) -> None:
    require_permission(actor, Permission.ADMINISTER)
    partner = contact.partner
    before = str(contact)
    contact.delete()
    audit_record(actor=actor, action="partner.contact_removed", obj=partner, before={"contact": before})
