"""Static export: the public page, its JSON, feeds and calendar as files any static host or CDN can serve.

`manage.py export_statuspage DIR` writes what changed since the last export of DIR (`--full`: everything);
with STATUSPAGE_EXPORT_DIR set, every public change re-exports (coalesced to at most one export a second,
through a durable timer).

What changed is known without rendering: a manifest in DIR (`.export-manifest.json`) keeps, for every file,
the hash of what was written, and for every incident and maintenance window the fingerprint of what its page
showed (export_selectors). An export re-renders the pages whose fingerprint moved (and the history months
that list them), plus the handful of pages every change touches (the index, the v2 JSON, the feeds, the
calendar); a file whose bytes did not change is not rewritten. Pages are rendered straight from the
database, never through the render cache (which would keep each of them in Redis for a week).
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import Http404
from django.templatetags.static import static
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone

from opsportal.core.services import job_schedule
from statuspage.public.export_files import (
    Outcome,
    export_lock,
    put,
    read_manifest,
    remove,
    write_manifest,
)
from statuspage.public.export_selectors import PageSource, incident_sources, maintenance_sources

# Bumped when what the export writes changes shape: the next export is then a full one.
EXPORT_FORMAT = 3
V2_PATHS = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]
# Pages that any public change may alter: re-rendered on every export that has anything to do.
FIXED_PATHS = ["/", "/history/", "/history.rss", "/history.atom", "/maintenance.ics", *V2_PATHS]
STATIC_ASSETS = [
    "css/opsportal.css",
    "js/status.js",
    "django_htmx/htmx-2.min.js",
    "django_htmx/django-htmx.js",
]
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
HISTORY_MONTHS_SHOWN = 3  # history_months(): a page "before M" lists M and the two months before it


def file_for(path: str) -> str:
    """/ -> index.html, /history/ -> history/index.html, /history.rss -> history.rss."""
    relative = path.lstrip("/")
    return relative + "index.html" if relative == "" or relative.endswith("/") else relative


LATEST_HISTORY = file_for("/history/")


def month_file(month: str) -> str:
    """/history/?before=2025-03 -> history/2025-03/index.html (nginx maps the query to it; see README)."""
    return f"history/{month}/index.html"


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def _months_from(first: str, last: str) -> list[str]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


def _pages_listing(month: str) -> set[str]:
    """The months whose "before" page lists `month`: itself and the next two."""
    pages = {month}
    for _ in range(HISTORY_MONTHS_SHOWN - 1):
        month = _next_month(month)
        pages.add(month)
    return pages


def renderer_fingerprint() -> str:
    """What the pages are rendered with (templates, this door's code, its settings): when it changes, e.g.
    after a deploy, every file may have changed and the next export is a full one."""
    digest = hashlib.sha256(f"{EXPORT_FORMAT}|{settings.PUBLIC_URL}|{_host()}".encode())
    for name in sorted(
        n for n in dir(settings) if n.startswith("STATUSPAGE_") and n != "STATUSPAGE_EXPORT_DIR"
    ):
        digest.update(f"{name}={getattr(settings, name)!r}".encode())
    base = Path(settings.BASE_DIR)
    sources = [
        *sorted((base / "templates" / "statuspage").rglob("*.html")),
        *sorted((base / "templates").glob("*.html")),
        *sorted(Path(__file__).parent.rglob("*.py")),
    ]
    for source in sources:
        digest.update(str(source.relative_to(base)).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _host() -> str:
    return next((h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")), "localhost")


def _render(factory: RequestFactory, path: str, query: dict | None = None) -> bytes | None:
    request = factory.get(path, query or {})
    request.user = AnonymousUser()
    match = resolve(path)
    try:
        response = match.func(request, *match.args, **match.kwargs)
    except Http404:  # unpublished since the fingerprints were read
        return None
    return response.content if response.status_code == 200 else None


def _static_files() -> list[tuple[str, bytes]]:
    """The assets the pages link to, at the path they link to: in production that is the hashed name
    (css/opsportal.3f2a….css) that collectstatic wrote, in development the plain one."""
    assets = []
    for asset in STATIC_ASSETS:
        url = urlsplit(static(asset)).path
        try:
            source = staticfiles_storage.path(staticfiles_storage.stored_name(asset))
        except (ValueError, NotImplementedError, AttributeError):  # not collected, or not a hashing storage
            source = finders.find(asset)
        if source and Path(source).is_file():
            assets.append((url.lstrip("/"), Path(source).read_bytes()))
    return assets


def _sources(raw: dict) -> dict[int, PageSource]:
    sources = {}
    for key, value in (raw or {}).items():
        try:
            source = PageSource(fingerprint=str(value[0]), month=str(value[1]), headline=str(value[2]))
            if MONTH.fullmatch(source.month):
                sources[int(key)] = source
        except (TypeError, ValueError, IndexError, KeyError):
            continue  # an entry we cannot read: that page is simply exported again
    return sources


def _changed(old: dict[int, PageSource], new: dict[int, PageSource]) -> tuple[set[int], set[str]]:
    """Ids whose page must be rendered (new or changed), and the months whose history line changed (a line
    added, removed, moved to another month or reading differently)."""
    changed = {pk for pk, source in new.items() if old.get(pk) != source}
    months = set()
    for pk in set(old) | set(new):
        before, after = old.get(pk), new.get(pk)
        if (
            before is None
            or after is None
            or (before.month, before.headline) != (after.month, after.headline)
        ):
            months |= {source.month for source in (before, after) if source is not None}
    return changed, months


def export_statuspage(directory: Path | str, *, full: bool = False) -> Outcome:
    """Bring `directory` up to date with the public page: render and write what changed (everything with
    `full`), remove the files of pages that are no longer public. One export of a directory at a time."""
    directory = Path(directory)
    started = time.monotonic()
    with export_lock(directory):
        outcome = _export(directory, full=full)
    outcome.seconds = time.monotonic() - started
    return outcome


def _export(directory: Path, *, full: bool) -> Outcome:
    # Here, not at the top: publishing imports this module (export_on_change) and the cache imports publishing.
    from statuspage.public.cache import rendering_straight_from_the_database
    from statuspage.public.publishing import public_version

    manifest = read_manifest(directory)
    renderer = renderer_fingerprint()
    if manifest.get("format") != EXPORT_FORMAT or manifest.get("renderer") != renderer:
        full = True
    old_files: dict[str, dict] = manifest.get("files", {}) if isinstance(manifest.get("files"), dict) else {}
    outcome = Outcome(full=full)

    # Read the version first: a change committed after this point moves it again and exports again.
    version = public_version()
    today = timezone.now().date()
    incidents, windows = incident_sources(), maintenance_sources()
    old_incidents = {} if full else _sources(manifest.get("incidents"))
    old_windows = {} if full else _sources(manifest.get("windows"))
    changed_incidents, incident_months = _changed(old_incidents, incidents)
    changed_windows, window_months = _changed(old_windows, windows)

    # /history/?before=M for every month from the oldest listed one to last month (this month is /history/).
    listed = [s.month for s in (*incidents.values(), *windows.values())]
    last_month = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
    month_pages = _months_from(min(listed), last_month) if listed else []
    touched = set().union(*(_pages_listing(m) for m in incident_months | window_months))
    dirty_months = [m for m in month_pages if full or m in touched or month_file(m) not in old_files]

    anything_moved = bool(changed_incidents or changed_windows or incident_months or window_months)
    day_turned = manifest.get("day") != today.isoformat()  # uptime bars and "past days" move at midnight
    fixed_due = full or anything_moved or day_turned or manifest.get("version") != version
    # /history/ is the page "before this month": like the month pages, only when a line it shows changed.
    history_due = full or day_turned or f"{today:%Y-%m}" in touched or LATEST_HISTORY not in old_files
    static_files = _static_files()
    expected = {file_for(p) for p in FIXED_PATHS} | {relative for relative, _ in static_files}
    expected |= {file_for(f"/incidents/{pk}/") for pk in incidents}
    expected |= {file_for(f"/maintenance/{pk}/") for pk in windows}
    expected |= {month_file(m) for m in month_pages}
    stale = sorted(set(old_files) - expected)
    if not (fixed_due or history_due or dirty_months or stale):
        return outcome  # nothing public changed: nothing is rendered or written, not even the manifest

    files = {path: entry for path, entry in old_files.items() if path in expected}
    host = _host()
    factory = RequestFactory(HTTP_HOST=host)
    pages: list[tuple[str, str, dict | None]] = []
    if fixed_due:
        pages += [(file_for(p), p, None) for p in FIXED_PATHS if p != "/history/"]
    if history_due:
        pages.append((LATEST_HISTORY, "/history/", None))
    pages += [(file_for(f"/incidents/{pk}/"), f"/incidents/{pk}/", None) for pk in sorted(changed_incidents)]
    pages += [
        (file_for(f"/maintenance/{pk}/"), f"/maintenance/{pk}/", None) for pk in sorted(changed_windows)
    ]
    pages += [(month_file(m), "/history/", {"before": m}) for m in dirty_months]
    missing = set()
    with rendering_straight_from_the_database():
        for relative, path, query in pages:
            started = time.monotonic()
            content = _render(factory, path, query)
            outcome.render_seconds[relative] = time.monotonic() - started
            outcome.rendered.append(relative)
            if content is None:
                # Unpublished between the fingerprints and the render: remove it, and leave it out of the
                # manifest so that the next export looks at it again.
                missing.add(relative)
                files.pop(relative, None)
                remove(directory, relative, outcome)
                continue
            files[relative] = put(directory, relative, content, outcome)
    if fixed_due:
        for relative, content in static_files:
            files[relative] = put(directory, relative, content, outcome)
    for relative in stale:
        remove(directory, relative, outcome)

    write_manifest(
        directory,
        {
            "format": EXPORT_FORMAT,
            "renderer": renderer,
            "version": version,
            "day": today.isoformat(),
            "exported_at": timezone.now().isoformat(),
            "files": files,
            "incidents": {
                str(pk): [s.fingerprint, s.month, s.headline]
                for pk, s in incidents.items()
                if file_for(f"/incidents/{pk}/") not in missing
            },
            "windows": {
                str(pk): [s.fingerprint, s.month, s.headline]
                for pk, s in windows.items()
                if file_for(f"/maintenance/{pk}/") not in missing
            },
        },
    )
    return outcome


def export_on_change() -> None:
    """After a public change: schedule a re-export a second out, once per second at most."""
    if not getattr(settings, "STATUSPAGE_EXPORT_DIR", ""):
        return

    second = int(time.time())
    job_schedule(
        task="statuspage.public.tasks.export_statuspage_files",
        run_at=timezone.now() + timedelta(seconds=1),
        dedupe_key=f"statuspage-export:{second}",
    )
