"""API token writes: create (the plaintext is returned once), revoke, note use."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opsportal.api.models import ApiToken, hash_token
from opsportal.api.scopes import parse_scopes
from opsportal.core.roles import ADMINISTER, RESPOND
from opsportal.core.services import SYSTEM, audit_record, require_permission, user_or_none

TOKEN_PREFIX = "ops_"  # noqa: S105 (a label, not a secret)
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def _check_may_manage(actor, user) -> None:
    if actor is SYSTEM:
        return
    if actor.pk == user.pk:
        require_permission(actor, RESPOND)
    else:
        require_permission(actor, ADMINISTER)


@transaction.atomic
def api_token_create(
    *,
    actor,
    user,
    name: str,
    scopes: list[str] | str,
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for `user`. Returns the row and the plaintext, which is never stored."""
    _check_may_manage(actor, user)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it."})
    try:
        scope_list = parse_scopes(scopes)
    except ValueError as exc:
        raise ValidationError({"scopes": str(exc)}) from None
    if any(scope.endswith(":write") for scope in scope_list) and not user.has_perm(RESPOND):
        raise ValidationError(
            {"scopes": f"{user.get_username()} is a viewer; viewers' tokens can only read."}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if not user.is_active:
        raise PermissionDenied("Tokens can only be created for active staff.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
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
        after={"user": user.get_username(), "name": name, "scopes": scope_list, "expires_at": expires_at},
    )
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    _check_may_manage(actor, token.user)
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
