"""Identity reads: tokens, partners, and who a token speaks for *now* (its principal), read at each use."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from opsportal.core.models import ApiToken, Partner, PartnerContact, hash_token
from opsportal.core.roles import (
    ROLE_ORDER,
    Permission,
    Role,
    is_partner_account,
    role_allows,
    role_from_group_names,
    role_of,
)
from opsportal.core.scopes import PARTNER_SCOPES, grants, staff_permission_for


class TokenRefused(Exception):
    """The token cannot be used at all (unknown, revoked, expired, its holder switched off): a 401."""


@dataclass(frozen=True)
class Principal:
    """Who an API request acts as: a staff member with the role they hold now, or a partner."""

    token: ApiToken
    account: object  # the User that acts: the staff member, or the partner's own account
    partner: Partner | None
    role: Role | None

    @property
    def is_partner(self) -> bool:
        return self.partner is not None

    @property
    def label(self) -> str:
        return f"partner {self.partner.name}" if self.partner else self.account.get_username()

    def refusal(self, scope: str | None, *, partner_access: bool) -> str | None:
        """Why this principal may not use `scope` on an endpoint (None: it may). `partner_access` says whether
        the endpoint answers with the public view only, the one kind partners may call."""
        if self.partner is not None:
            if not partner_access:
                return "Partner tokens read the public view only; this endpoint serves staff data."
            if scope is not None and not (grants(self.token.scopes, scope) and grants(PARTNER_SCOPES, scope)):
                return f"This token lacks the {scope} scope."
            return None
        if self.role is None:
            return "The account behind this token no longer holds a staff role, so the token cannot be used."
        if scope is None:
            return None
        if not grants(self.token.scopes, scope):
            return f"This token lacks the {scope} scope."
        needed = staff_permission_for(scope)
        if not role_allows(self.role, needed):
            return (
                f"The account behind this token is now a {self.role.label.lower()}; "
                f"{scope} needs the {needed.label} permission."
            )
        return None


def request_principal(request) -> Principal | None:
    """The principal an API request authenticated as (request.auth), or None."""
    auth_ = getattr(request, "auth", None)
    return auth_ if isinstance(auth_, Principal) else None


def request_is_partner(request) -> bool:
    principal = request_principal(request)
    return principal is not None and principal.is_partner


def api_token_by_plaintext(plaintext: str) -> ApiToken | None:
    # The holder's role groups come in the same query: reading authority afresh costs no extra round trip.
    held = get_user_model().groups.through.objects.filter(user_id=OuterRef("user_id"))
    return (
        ApiToken.objects.select_related("user", "partner")
        .annotate(
            **{f"holds_{role.value}": Exists(held.filter(group__name=role.value)) for role in ROLE_ORDER}
        )
        .filter(token_hash=hash_token(plaintext))
        .first()
    )


def _holder_role(token: ApiToken) -> Role | None:
    """role_of(token.user), from the groups read with the token."""
    user = token.user
    if not user.is_active or is_partner_account(user):
        return None
    if user.is_superuser:
        return Role.ADMIN
    return role_from_group_names({role.value for role in ROLE_ORDER if getattr(token, f"holds_{role.value}")})


def token_principal(plaintext: str) -> Principal:
    """The principal behind a bearer token, from a fresh read of the token, its holder and their role.

    Raises TokenRefused when the token cannot be used at all. A staff member whose role was removed still
    resolves (with role None) so the caller can answer 403, not "bad token"."""
    token = api_token_by_plaintext(plaintext)
    if token is None:
        raise TokenRefused("This token is not valid.")
    if token.revoked_at is not None:
        raise TokenRefused("This token has been revoked.")
    if token.is_expired:
        raise TokenRefused("This token has expired.")
    if token.partner_id is not None:
        if not token.partner.is_active or not token.user.is_active:
            raise TokenRefused("The partner behind this token has been deactivated.")
        return Principal(token=token, account=token.user, partner=token.partner, role=None)
    if not token.user.is_active:
        raise TokenRefused("The account behind this token is disabled.")
    return Principal(token=token, account=token.user, partner=None, role=_holder_role(token))


def api_tokens_visible_to(user) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user", "created_by", "partner")
    if user.has_perm(Permission.ADMINISTER):
        return tokens
    return tokens.filter(user=user, partner__isnull=True)


def partners() -> QuerySet[Partner]:
    return Partner.objects.prefetch_related(
        Prefetch("contacts", queryset=PartnerContact.objects.order_by("name", "id"))
    ).annotate(active_tokens=Count("tokens", filter=Q(tokens__revoked_at__isnull=True), distinct=True))


def partner_by_slug(slug: str) -> Partner | None:
    return Partner.objects.filter(slug=slug).first()


# What a portal socket's holder may do now (portal_access_now).
PORTAL_OK = "ok"
PORTAL_SIGNED_OUT = "signed_out"
PORTAL_FORBIDDEN = "forbidden"


def portal_access_now(*, user_id: int | None, session_key: str | None) -> str:
    """Whether the person behind an open portal socket may still see staff events, read afresh.

    With the socket's session key, the session must still exist and still belong to this user (Django's own
    check: a logout, an expiry or a password change ends it); then the account must be active and hold a
    role with portal access. Without a session (a socket built in a test) only the account is checked."""
    if user_id is None:
        return PORTAL_SIGNED_OUT
    if session_key is not None:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
        user = auth.get_user(SimpleNamespace(session=store))
        if user.pk != user_id:
            return PORTAL_SIGNED_OUT
    else:
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            return PORTAL_SIGNED_OUT
    if not user.is_active:
        return PORTAL_SIGNED_OUT
    return PORTAL_OK if role_allows(role_of(user), Permission.ACCESS_PORTAL) else PORTAL_FORBIDDEN
