"""Surge-proof serving for every public response.

A response is rendered once per public version (the version moves on commit of any public change), kept in
the cache, and served with an ETag. After a change, one process renders the new version (a lock taken with
`cache.add`, with a TTL so a crashed renderer cannot hold it); meanwhile every other request is answered
with the previous rendering, not made to wait (stale-while-revalidate). Each name keeps one rendering in
the cache, replaced by the next, so Redis holds one copy per page whatever the number of changes. While
the database is unreachable the last good rendering keeps being served, marked stale. The version lives
in the cache, so serving a cached page needs no database at all.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import http_date

from statuspage.public.publishing import public_version

logger = logging.getLogger(__name__)

RENDER_LOCK_SECONDS = 10  # longer than any render; a renderer that dies frees the page after this
WAIT_FOR_OTHER_RENDER_SECONDS = 3.0  # only when there is no previous rendering at all to serve
# A page nobody asks for leaves the cache after a week; every rendering of a page replaces the last.
KEEP_SECONDS = 7 * 24 * 3600
# Clients revalidate every time (cheap with ETag: a 304), and may use a stale copy if we are down.
CACHE_CONTROL = "public, max-age=0, must-revalidate, stale-if-error=86400"


@dataclass
class Rendered:
    content: bytes
    content_type: str
    status: int
    etag: str
    rendered_at: float  # epoch seconds
    version: int
    # Compressed once at render time: a surge then costs neither CPU per request nor bandwidth.
    gzipped: bytes | None = None


GZIP_MIN_BYTES = 1024


def _wants_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "")


def _key(name: str) -> str:
    """The one rendering kept for `name`: the latest good one, whatever its version."""
    return f"statuspage:page:{name}"


def _lock_key(name: str) -> str:
    return f"statuspage:rendering:{name}"


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match may list several tags, mark them weak (W/), or be "*"."""
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
    return etag in tags


def _respond(request: HttpRequest, rendered: Rendered, *, stale: bool = False) -> HttpResponse:
    gzip_it = rendered.gzipped is not None and _wants_gzip(request)
    # Each encoding is its own representation, so it has its own validator.
    etag = rendered.etag[:-1] + '-gz"' if gzip_it else rendered.etag
    if not stale and _etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponseNotModified()
    elif gzip_it:
        response = HttpResponse(rendered.gzipped, content_type=rendered.content_type, status=rendered.status)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(rendered.content, content_type=rendered.content_type, status=rendered.status)
    if rendered.gzipped is not None:
        response["Vary"] = "Accept-Encoding"
    response["ETag"] = etag
    response["Last-Modified"] = http_date(rendered.rendered_at)
    response["Cache-Control"] = CACHE_CONTROL
    if stale:
        response["X-Statuspage-Stale"] = "database unreachable; serving the last good state"
    return response


def _render(name: str, version: int, render: Callable[[], HttpResponse]) -> Rendered:
    started = time.perf_counter()
    response = render()
    content = response.content
    rendered = Rendered(
        content=content,
        content_type=response["Content-Type"],
        status=response.status_code,
        etag='"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"',
        rendered_at=time.time(),
        version=version,
        gzipped=gzip.compress(content, compresslevel=6, mtime=0) if len(content) >= GZIP_MIN_BYTES else None,
    )
    if response.status_code == 200:
        # Replaces the previous rendering of this name: one copy per page in Redis.
        cache.set(_key(name), rendered, KEEP_SECONDS)
        _remember(name, rendered)
    # One line per rendering: after a change there should be one per page, whatever the traffic.
    logger.info(
        "Rendered %s for public version %s in %.0f ms (process %s)",
        name,
        version,
        (time.perf_counter() - started) * 1000,
        os.getpid(),
    )
    return rendered


# Per-process copies of the latest rendering of each name (bounded, small): a fresh one is served without
# touching Redis, and a stale one is what this process serves while another renders the new version.
_local: dict[str, Rendered] = {}
LOCAL_LIMIT = 256


def _remember(name: str, rendered: Rendered) -> None:
    if len(_local) >= LOCAL_LIMIT and name not in _local:
        _local.clear()
    current = _local.get(name)
    if current is None or current.version <= rendered.version:
        _local[name] = rendered


def _previous(name: str) -> Rendered | None:
    """The rendering to serve while a newer one is being built: this process's, else the shared one."""
    return _local.get(name) or cache.get(_key(name))


def cached_public_response(
    request: HttpRequest, name: str, render: Callable[[], HttpResponse]
) -> HttpResponse:
    """Serve `name` (a path plus query) from the cache, rendering it at most once per public version."""
    if _straight_from_the_database.get():
        return render()
    try:
        version = public_version()
        # Hot path: this process already holds this version's bytes.
        local = _local.get(name)
        if local is not None and local.version == version:
            return _respond(request, local)
        token = uuid.uuid4().hex
        locked = cache.add(_lock_key(name), token, RENDER_LOCK_SECONDS)
    except Exception:  # the cache itself is down: render straight from the database
        logger.exception("Status page cache unavailable")
        return render()
    if not locked:
        # Another process is rendering: answer at once with the previous page (its own ETag), no wait.
        previous = _previous(name)
        if previous is not None:
            return _respond(request, previous)
        # Nothing to show at all (first request after a flush): wait, briefly, for that render.
        deadline = time.monotonic() + WAIT_FOR_OTHER_RENDER_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.02)
            kept = cache.get(_key(name))
            if kept is not None:
                _remember(name, kept)
                return _respond(request, kept)
    try:
        kept = cache.get(_key(name))
        if kept is not None and kept.version >= version:
            # Rendered by another process already (we only hold the lock because it has finished).
            _remember(name, kept)
            return _respond(request, kept)
        return _respond(request, _render(name, version, render))
    except DatabaseError:
        last_good = _previous(name)
        if last_good is None:
            raise
        logger.warning(
            "Database unreachable; serving the last good %s rendered at %s", name, last_good.rendered_at
        )
        return _respond(request, last_good, stale=True)
    finally:
        if locked:
            _unlock(name, token)


# Set by the static export (below): its renders bypass the cache entirely.
_straight_from_the_database: ContextVar[bool] = ContextVar("straight_from_the_database", default=False)


@contextmanager
def rendering_straight_from_the_database() -> Iterator[None]:
    """For the static export: every page is rendered now from the database and kept nowhere in the cache.

    The export asks for every incident page once; through the cache that left ten thousand renderings in
    Redis for a week (issue 11), and a page another process was re-rendering came back as the previous
    version, which the export would then have written to disk as current.
    """
    token = _straight_from_the_database.set(True)
    try:
        yield
    finally:
        _straight_from_the_database.reset(token)


def _unlock(name: str, token: str) -> None:
    # Only our own lock: if our render outlived the TTL, another process holds the lock now. (Between the
    # read and the delete a new holder could slip in; it then renders once more, which is harmless.)
    try:
        if cache.get(_lock_key(name)) == token:
            cache.delete(_lock_key(name))
    except Exception:
        logger.warning("Could not release the status page render lock for %s", name, exc_info=True)
