"""Template context every page gets."""

from django.conf import settings

from opsportal.core.roles import role_of


def opsportal(request):
    def staff_role():
        # Called only by templates that show it, so public pages never touch the session.
        user = getattr(request, "user", None)
        return role_of(user) if user is not None else None

    return {
        "running_mode": settings.RUNNING_MODE,
        "staff_role": staff_role,
        "public_url": settings.PUBLIC_URL,
        "statuspage_name": getattr(settings, "STATUSPAGE_NAME", "Platform status"),
    }
