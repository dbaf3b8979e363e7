"""When anything public changes: bump the public cache version and tell open status pages, on commit."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from opsportal.core.live import broadcast_now

PUBLIC_VERSION_KEY = "statuspage:version"
PUBLIC_GROUP = "status-page"


def public_version() -> int:
    version = cache.get(PUBLIC_VERSION_KEY)
    if version is None:
        # First use (or the cache was flushed): start a fresh series, so nothing old can match it.
        import time

        version = int(time.time() * 1000)
        cache.add(PUBLIC_VERSION_KEY, version, timeout=None)
        version = cache.get(PUBLIC_VERSION_KEY, version)
    return version


def _bump_and_broadcast(reason: str) -> None:
    try:
        cache.incr(PUBLIC_VERSION_KEY)
    except ValueError:
        public_version()
        cache.incr(PUBLIC_VERSION_KEY)
    broadcast_now(PUBLIC_GROUP, {"kind": "status.changed", "reason": reason})
    from statuspage.export import export_on_change

    export_on_change()


def statuspage_changed(reason: str) -> None:
    """Call inside the transaction that changes something public; takes effect when it commits."""
    transaction.on_commit(lambda: _bump_and_broadcast(reason))
