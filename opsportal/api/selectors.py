"""API token reads."""

from __future__ import annotations

from django.db.models import QuerySet

from opsportal.api.models import ApiToken, hash_token
from opsportal.core.roles import ADMINISTER


def api_token_by_plaintext(plaintext: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(token_hash=hash_token(plaintext)).first()


def api_tokens_visible_to(user) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user", "created_by")
    if user.has_perm(ADMINISTER):
        return tokens
    return tokens.filter(user=user)
