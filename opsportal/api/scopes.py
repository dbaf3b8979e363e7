"""API scopes: <area>:read and <area>:write. A write scope includes reading the same area."""

from __future__ import annotations

AREAS = ("incidents", "oncall", "statuspage", "subscribers", "deploys")
ALL_SCOPES = tuple(f"{area}:{access}" for area in AREAS for access in ("read", "write"))


def parse_scopes(raw: str | list[str]) -> list[str]:
    """Split and check a scope list; raises ValueError naming the unknown ones."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    scopes = sorted({item.strip() for item in items if item.strip()})
    unknown = [scope for scope in scopes if scope not in ALL_SCOPES]
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(ALL_SCOPES)}.")
    if not scopes:
        raise ValueError("Give at least one scope.")
    return scopes


def grants(held: list[str], required: str) -> bool:
    if required in held:
        return True
    area, _, access = required.partition(":")
    return access == "read" and f"{area}:write" in held
