"""Retry timing for deliveries: exponential backoff with full jitter and a cap. Pure: no ORM."""

from __future__ import annotations

import random
from datetime import timedelta

BASE = timedelta(seconds=30)
CAP = timedelta(hours=1)
MAX_ATTEMPTS = 8


def retry_delay(
    attempt: int, *, rng: random.Random | None = None, base: timedelta = BASE, cap: timedelta = CAP
) -> timedelta:
    """Delay before retry number `attempt` (1 = first retry): uniform in [base/2, min(cap, base·2^(attempt-1))].

    The jitter spreads a burst of failures (a provider blip during a fan-out) instead of retrying in lockstep;
    the floor keeps a retry from landing immediately.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    floor = min(base / 2, ceiling)
    picker = rng or random
    return floor + (ceiling - floor) * picker.random()


def gives_up(attempts_made: int, *, max_attempts: int = MAX_ATTEMPTS) -> bool:
    return attempts_made >= max_attempts
