"""Per-recipient slots in a message body: "{{recipient.confirm_url}}" stands where a value that must not be
stored (a signed link, a signing secret) goes, and is filled at send time. Pure: no ORM."""

from __future__ import annotations

import re

_SLOT = re.compile(r"\{\{recipient\.([a-z_]+)\}\}")


def recipient_slot(name: str) -> str:
    return "{{recipient.%s}}" % name  # noqa: UP031  (braces would need doubling in an f-string)


def fill_slots(value, context: dict, names) -> object:
    """`value` (a string, or lists and dicts of them) with each slot the message declared (`names`) replaced
    by its value in `context`. Only declared slots are filled, so text a user typed that looks like a slot
    stays text; a declared slot with no value becomes empty."""
    names = set(names or ())
    if not names:
        return value
    if isinstance(value, str):
        return _SLOT.sub(lambda m: str(context.get(m[1], "")) if m[1] in names else m[0], value)
    if isinstance(value, dict):
        return {key: fill_slots(item, context, names) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_slots(item, context, names) for item in value]
    return value
