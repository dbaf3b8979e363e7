"""Static export: the public page, its JSON, feeds and calendar as files any static host or CDN can serve.

`manage.py export_statuspage DIR` writes them once; with STATUSPAGE_EXPORT_DIR set, every public change
re-exports (coalesced to at most one export a second, through a durable timer).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone

from opsportal.changes.models import MaintenanceWindow
from opsportal.core.services import job_schedule
from opsportal.incidents.selectors import public_incidents

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
FIXED_PATHS = ["/", "/history/", "/history.rss", "/history.atom", "/maintenance.ics", *V2_PATHS]
STATIC_ASSETS = [
    "css/opsportal.css",
    "js/status.js",
    "django_htmx/htmx-2.min.js",
    "django_htmx/django-htmx.js",
]


def export_paths() -> list[str]:
    incidents = [f"/incidents/{pk}/" for pk in public_incidents().values_list("pk", flat=True)]
    windows = [f"/maintenance/{pk}/" for pk in MaintenanceWindow.objects.values_list("pk", flat=True)]
    return FIXED_PATHS + incidents + windows


def file_for(path: str) -> str:
    """/ -> index.html, /history/ -> history/index.html, /history.rss -> history.rss."""
    relative = path.lstrip("/")
    return relative + "index.html" if relative == "" or relative.endswith("/") else relative


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".export-")
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)  # readers see the old file or the new one, never half of one


def export_statuspage(directory: Path | str) -> list[Path]:
    """Render every public surface through its real view (and cache) and write it under `directory`."""
    directory = Path(directory)
    host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")), "localhost")
    factory = RequestFactory(HTTP_HOST=host)
    written = []
    for path in export_paths():
        request = factory.get(path)
        request.user = AnonymousUser()
        match = resolve(path)
        response = match.func(request, *match.args, **match.kwargs)
        if response.status_code != 200:
            continue
        target = directory / file_for(path)
        _write_atomically(target, response.content)
        written.append(target)
    for asset in STATIC_ASSETS:
        source = finders.find(asset)
        if source:
            target = directory / "static" / asset
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            written.append(target)
    return written


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
