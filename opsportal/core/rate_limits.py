"""Counters in the shared cache, for limits that outlive one request: sign-up confirmations per client
address, per recipient address, per API account (hourly); events per integration key (per minute). Every
process (and every server) counts together."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

WINDOW_SECONDS = 3600


def over_hourly_limit(*, kind: str, key: str, limit: int) -> bool:
    """Count one attempt in this hour's fixed window; True once past the limit."""
    bucket = int(time.time() // WINDOW_SECONDS)
    # Hash the key: no email addresses or phone numbers in cache keys.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    counter = f"statuspage:subscribe:{kind}:{digest}:{bucket}"
    cache.add(counter, 0, WINDOW_SECONDS + 60)
    try:
        count = cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, WINDOW_SECONDS + 60)
        count = 1
    return count > limit


def seconds_until_next_window() -> int:
    return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS


def over_limit(*, kind: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt in the current fixed window of `window_seconds`; True once past the limit."""
    bucket = int(time.time() // window_seconds)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # secrets (integration keys) stay out of the cache
    counter = f"ratelimit:{kind}:{digest}:{bucket}"
    cache.add(counter, 0, window_seconds + 60)
    try:
        count = cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, window_seconds + 60)
        count = 1
    return count > limit


def seconds_until_window_end(window_seconds: int) -> int:
    return window_seconds - int(time.time()) % window_seconds
