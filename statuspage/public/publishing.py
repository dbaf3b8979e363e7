"""When anything public changes: bump the public version and tell open status pages, on commit.

The version lives in the shared cache. In production each process also listens on a Redis channel for
new versions, so serving a cached page costs no round trip at all; a periodic re-read covers any
message lost while reconnecting.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from opsportal.core.live import broadcast_now
from statuspage.public.export import export_on_change

logger = logging.getLogger(__name__)

PUBLIC_VERSION_KEY = "statuspage:version"
PUBLIC_GROUP = "status-page"
VERSION_CHANNEL = "opsportal:statuspage:version"
# How stale the listener's copy may get if it stops hearing messages (it re-reads at least this often).
LISTENER_RECHECK_SECONDS = 2.0


def _read_version() -> int:
    version = cache.get(PUBLIC_VERSION_KEY)
    if version is None:
        # First use (or the cache was flushed): start a fresh series, so nothing old can match it.
        cache.add(PUBLIC_VERSION_KEY, int(time.time() * 1000), timeout=None)
        version = cache.get(PUBLIC_VERSION_KEY)
    return version


class _VersionListener:
    """Keeps this process's copy of the public version current from Redis pub/sub (production only)."""

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self.version: int | None = None
        self.confirmed_at = 0.0
        self.pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="statuspage-version", daemon=True)
        self._thread.start()

    def fresh(self) -> int | None:
        if self.version is not None and time.monotonic() - self.confirmed_at < LISTENER_RECHECK_SECONDS * 2:
            return self.version
        return None

    def saw(self, version: int) -> None:
        if self.version is None or version >= self.version:
            self.version = version
        self.confirmed_at = time.monotonic()

    def _run(self) -> None:
        import redis

        while True:
            try:
                client = redis.Redis.from_url(self.redis_url)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(VERSION_CHANNEL)
                self.saw(_read_version())  # subscribed first, then read: nothing can slip between
                while True:
                    pubsub.get_message(timeout=LISTENER_RECHECK_SECONDS)
                    # A message only says "re-read": the version itself comes from our own cache. Pub/sub
                    # channels span every Redis database, so another deployment on the same server (another
                    # db number) publishes on this channel too, and its numbers are not ours.
                    self.saw(_read_version())
            except Exception:
                logger.warning("Status page version listener lost Redis; retrying", exc_info=True)
                self.version = None
                time.sleep(1)


_listener: _VersionListener | None = None
_listener_lock = threading.Lock()


def _get_listener() -> _VersionListener | None:
    global _listener
    if not settings.REDIS_URL:
        return None
    if _listener is None or _listener.pid != os.getpid():  # a forked worker starts its own
        with _listener_lock:
            if _listener is None or _listener.pid != os.getpid():
                _listener = _VersionListener(settings.REDIS_URL)
    return _listener


def public_version() -> int:
    listener = _get_listener()
    if listener is not None:
        version = listener.fresh()
        if version is not None:
            return version
    return _read_version()


def _bump_and_broadcast(reason: str) -> None:
    """Move the public version once and tell every open page (and the static export) that it moved."""
    try:
        version = cache.incr(PUBLIC_VERSION_KEY)
    except ValueError:
        _read_version()
        version = cache.incr(PUBLIC_VERSION_KEY)
    listener = _get_listener()
    if listener is not None:
        listener.saw(version)  # this process knows at once; the others hear it from Redis
        import redis

        with redis.Redis.from_url(settings.REDIS_URL) as client:
            client.publish(VERSION_CHANNEL, version)
    broadcast_now(PUBLIC_GROUP, {"kind": "status.changed", "reason": reason})

    export_on_change()


class _PendingBump:
    """The bump one commit owes: every statuspage_changed() of a transaction shares one, so an update that
    moves five components and writes a public update bumps once (each bump makes every open page refetch)."""

    def __init__(self):
        self.reasons: list[str] = []
        self.done = False

    def run(self) -> None:
        if self.done:
            return  # an earlier callback of the same commit bumped already
        self.done = True
        if getattr(_pending, "bump", None) is self:
            _pending.bump = None
        _bump_and_broadcast(",".join(dict.fromkeys(self.reasons)))


# Per thread, like database connections. One callback per call is still registered (a rolled-back savepoint
# discards its own callbacks; the others then carry the bump); all but the first that runs do nothing. A
# transaction that rolls back leaves its pending bump behind, harmlessly: the next commit uses it.
_pending = threading.local()


def statuspage_changed(reason: str) -> None:
    """Call inside the transaction that changes something public; takes effect, once, when it commits."""
    bump = getattr(_pending, "bump", None)
    if bump is None or bump.done:
        bump = _pending.bump = _PendingBump()
    bump.reasons.append(reason)
    transaction.on_commit(bump.run)
