"""Shift swap lifecycle: one pure transition table. No ORM."""

from __future__ import annotations

PROPOSED, ACCEPTED, DECLINED, CANCELLED = "proposed", "accepted", "declined", "cancelled"

SWAP_TRANSITIONS: dict[str, tuple[str, ...]] = {
    PROPOSED: (ACCEPTED, DECLINED, CANCELLED),
    ACCEPTED: (),
    DECLINED: (),
    CANCELLED: (),
}


def swap_can_move(current: str, requested: str) -> bool:
    return requested in SWAP_TRANSITIONS[current]
