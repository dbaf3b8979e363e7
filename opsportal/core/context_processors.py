"""Template context every page gets."""

from django.conf import settings

from opsportal.core.roles import role_of


def opsportal(request):
    user = getattr(request, "user", None)
    role = role_of(user) if user is not None else None
    return {
        "running_mode": settings.RUNNING_MODE,
        "staff_role": role,
        "public_url": settings.PUBLIC_URL,
        "statuspage_name": getattr(settings, "STATUSPAGE_NAME", "Platform status"),
    }
