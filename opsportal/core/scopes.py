"""API token scopes: <area>:read and <area>:write. A write scope includes reading the same area.

A scope is what a token was given; what it may do on a request is also bounded by who holds it now: a staff
member's current role (reading needs portal access, writing needs the responder role), or, for a partner,
the few scopes partners can have at all."""

from __future__ import annotations

from opsportal.core.roles import Permission

# alerts: integrations, routes, escalation policies, alert groups (acknowledge/resolve/snooze/escalate) and the
# caller's own contact methods and notification rules. Acting on alerts is a write, so it needs the responder role.
AREAS = ("incidents", "oncall", "statuspage", "subscribers", "deploys", "alerts")
ALL_SCOPES = tuple(f"{area}:{access}" for area in AREAS for access in ("read", "write"))
# Partners read the public view of the status page and manage their own subscriptions; nothing else.
PARTNER_SCOPES = ("statuspage:read", "subscribers:read", "subscribers:write")


def parse_scopes(raw: str | list[str], *, allowed: tuple[str, ...] = ALL_SCOPES) -> list[str]:
    """Split and check a scope list; raises ValueError naming the unknown ones."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    scopes = sorted({item.strip() for item in items if item.strip()})
    unknown = [scope for scope in scopes if scope not in allowed]
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(allowed)}.")
    if not scopes:
        raise ValueError("Give at least one scope.")
    return scopes


def grants(held: list[str], required: str) -> bool:
    if required in held:
        return True
    area, _, access = required.partition(":")
    return access == "read" and f"{area}:write" in held


def staff_permission_for(scope: str) -> Permission:
    """The role permission a staff member must hold *now* to use a scope."""
    return Permission.RESPOND if scope.endswith(":write") else Permission.ACCESS_PORTAL
