"""`Authorization: Bearer <token>` for staff, partners and machines. Who the token speaks for, and with what
role, is read afresh on every request (opsportal.core.identity_selectors.token_principal)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from opsportal.core.identity_selectors import TokenRefused, token_principal
from opsportal.core.identity_services import api_token_touch


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, plaintext = header.partition(" ")
        if keyword.lower() != self.keyword or not plaintext.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <token>'.")
        try:
            principal = token_principal(plaintext.strip())
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        api_token_touch(token=principal.token)
        # request.auth is the principal: the token plus who it speaks for now.
        return principal.account, principal

    def authenticate_header(self, request):
        return 'Bearer realm="opsportal"'
