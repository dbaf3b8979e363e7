"""Who may call which endpoint: a view names its area (reads need <area>:read, writes <area>:write) and
whether it answers with the public view (`partner_access`), the only kind partners may call. The token's
scopes, and its holder's role as it is now, must both allow the call (Principal.refusal)."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from opsportal.core.identity_selectors import request_principal


def required_scope(view, method: str) -> str | None:
    area = getattr(view, "scope_area", None)
    if area is None:
        return None
    access = "read" if method in permissions.SAFE_METHODS else "write"
    return f"{area}:{access}"


class HasTokenScope(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        principal = request_principal(request)
        if principal is None:
            raise exceptions.NotAuthenticated(
                "Send 'Authorization: Bearer <token>'; create tokens in the portal."
            )
        refusal = principal.refusal(
            required_scope(view, request.method), partner_access=getattr(view, "partner_access", False)
        )
        if refusal is not None:
            raise exceptions.PermissionDenied(refusal)
        return True
