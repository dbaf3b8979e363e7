"""Who may open which portal page: login first, then the role permission the page needs."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from opsportal.core.roles import ACCESS_PORTAL


def staff_required(permission: str = ACCESS_PORTAL):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission):
                raise PermissionDenied(
                    f"This page needs the {permission.split('.', 1)[1].replace('_', ' ')} permission."
                )
            return view(request, *args, **kwargs)

        wrapper.required_permission = permission
        return wrapper

    return decorator
