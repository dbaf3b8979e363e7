"""`Authorization: Bearer <token>` for partners and machines."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from opsportal.api.selectors import api_token_by_plaintext
from opsportal.api.services import api_token_touch


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, plaintext = header.partition(" ")
        if keyword.lower() != self.keyword or not plaintext.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <token>'.")
        token = api_token_by_plaintext(plaintext.strip())
        if token is None:
            raise exceptions.AuthenticationFailed("This token is not valid.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token has been revoked.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("This token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The account behind this token is disabled.")
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="opsportal"'
