"""Scope checks: a view names its area; reads need <area>:read, writes need <area>:write."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from opsportal.api.models import ApiToken
from opsportal.api.scopes import grants


def required_scope(view, method: str) -> str | None:
    area = getattr(view, "scope_area", None)
    if area is None:
        return None
    access = "read" if method in permissions.SAFE_METHODS else "write"
    return f"{area}:{access}"


class HasTokenScope(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(
                "Send 'Authorization: Bearer <token>'; create tokens in the portal."
            )
        scope = required_scope(view, request.method)
        if scope is not None and not grants(token.scopes, scope):
            raise exceptions.PermissionDenied(f"This token lacks the {scope} scope.")
        return True
