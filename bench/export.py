#!/usr/bin/env python
"""The static export on two years of history (issue 11): a full export, then an export after one change.

    BENCH_DB_PREFIX=opsportal_export_hist BENCH_REDIS_DB=4 .venv/bin/python bench/export.py

Runs against the `<BENCH_DB_PREFIX>_2y` database that bench/history.py builds (bench/history_data.py; e.g.
`bench/history.py --kinds 2y --only nothing` builds it and measures nothing), in production settings with the
Redis cache in BENCH_REDIS_DB (flushed first). Measured, in one run, one process:

1. the reference: what the export did before issue 11, every page rendered through the render cache and
   every file written (`--skip-reference` leaves it out; it takes minutes);
2. `export_statuspage --full` into a fresh directory;
3. an export with nothing changed;
4. an export after one change, repeated `--changes` times: a public update posted (through the service, so
   the public version moves as in production) on an incident of a year ago, then one on the newest incident.

For each: seconds, pages rendered, files written (with their .gz copies), and the Redis keys and bytes
(MEMORY USAGE summed over the bench's database) after it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(args) -> None:
    os.environ.update(
        {
            "DEBUG": "0",
            "OPSPORTAL_MODE": "production",
            "SECRET_KEY": "export-bench-not-secret",
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.db_prefix}_2y",
            "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
            "PUBLIC_URL": "http://127.0.0.1:8133",
            "NOTIFICATIONS_CONSOLE": "1",
        }
    )
    os.environ.setdefault("OPSPORTAL_VAR_DIR", tempfile.mkdtemp(prefix="export-bench-var-"))
    os.environ.setdefault("STATIC_ROOT", str(Path(os.environ["OPSPORTAL_VAR_DIR"]) / "static"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsportal.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def redis_footprint() -> tuple[int, int]:
    """(keys, bytes) of the bench's Redis database."""
    import redis
    from django.conf import settings

    keys = size = 0
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        for key in client.scan_iter(count=1000):
            keys += 1
            size += client.memory_usage(key) or 0
    return keys, size


def reference_export(directory: Path) -> tuple[int, int]:
    """Before issue 11: every page through its view and the render cache, every file written."""
    from django.test import RequestFactory

    from statuspage.public.export import FIXED_PATHS, _host, _render, file_for
    from statuspage.public.export_files import Outcome
    from statuspage.public.export_selectors import incident_sources, maintenance_sources

    factory = RequestFactory(HTTP_HOST=_host())
    paths = FIXED_PATHS + [f"/incidents/{pk}/" for pk in incident_sources()]
    paths += [f"/maintenance/{pk}/" for pk in maintenance_sources()]
    outcome = Outcome()
    for path in paths:
        content = _render(factory, path)
        if content is not None:
            target = directory / file_for(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            outcome.written.append(path)
    return len(paths), len(outcome.written)


def one_change(*, oldest: bool) -> str:
    """A public update on an incident, committed (the public version moves on commit)."""
    from django.db import transaction

    from opsportal.core.services import SYSTEM
    from opsportal.incidents.models import Incident
    from opsportal.incidents.selectors import public_incidents
    from opsportal.incidents.services import incident_post_update

    incidents = public_incidents().prefetch_related(None)
    pk = (incidents.order_by("started_at")[400] if oldest else incidents.first()).pk
    incident = Incident.objects.get(pk=pk)
    with transaction.atomic():
        incident_post_update(
            actor=SYSTEM, incident=incident, status="resolved", body=f"Bench note {time.time()}"
        )
    return f"INC-{pk} ({incident.started_at:%Y-%m})"


def files_in(directory: Path) -> int:
    return sum(1 for path in directory.rglob("*") if path.is_file() and not path.name.startswith("."))


def row(what: str, seconds: float, rendered, written, footprint) -> str:
    keys, size = footprint
    return f"| {what} | {seconds:.2f} | {rendered} | {written} | {keys} | {size / 1e6:.1f} MB |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-prefix", default=os.environ.get("BENCH_DB_PREFIX", "opsportal_history"))
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", 8)))
    parser.add_argument("--changes", type=int, default=5, help="exports after one change to time (default 5)")
    parser.add_argument("--skip-reference", action="store_true", help="leave out the pre-issue-11 export")
    args = parser.parse_args()
    _setup(args)

    from django.core.cache import cache

    from opsportal.incidents.models import Incident
    from statuspage.public.export import export_statuspage
    from statuspage.public.publishing import LISTENER_RECHECK_SECONDS, public_version

    work = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        cache.clear()
        print(
            f"machine: {os.cpu_count()} cores, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {os.uname().machine}; "
            f"load {os.getloadavg()[0]:.1f}; {Incident.objects.count()} incidents in {args.db_prefix}_2y"
        )
        print(
            "| export | seconds | pages rendered | files written (+ .gz) | Redis keys after | Redis bytes after |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        print(row("(before any export)", 0, "", "", redis_footprint()))
        if not args.skip_reference:
            started = time.monotonic()
            rendered, written = reference_export(work / "reference")
            print(
                row(
                    "before issue 11: every page through the cache",
                    time.monotonic() - started,
                    rendered,
                    written,
                    redis_footprint(),
                )
            )
            cache.clear()
            # The flush restarted the public version; let this process's listener hear the new one first.
            public_version()
            time.sleep(LISTENER_RECHECK_SECONDS * 2 + 0.5)
        target = work / "export"
        full = export_statuspage(target, full=True)
        print(
            row(
                "--full",
                full.seconds,
                len(full.rendered),
                f"{len(full.written)} ({files_in(target)} files)",
                redis_footprint(),
            )
        )
        noop = export_statuspage(target)
        print(row("nothing changed", noop.seconds, len(noop.rendered), len(noop.written), redis_footprint()))
        timings, notes = [], []
        for n in range(args.changes):
            what = one_change(oldest=n % 2 == 0)
            outcome = export_statuspage(target)
            timings.append(outcome.seconds)
            written = ", ".join(sorted(outcome.written))
            slowest = sorted(outcome.render_seconds.items(), key=lambda item: -item[1])[:2]
            renders = sum(outcome.render_seconds.values())
            notes.append(
                f"{what}: rendering {renders:.2f} s of {outcome.seconds:.2f} s; slowest: "
                + ", ".join(f"{path} {seconds:.2f} s" for path, seconds in slowest)
            )
            print(
                row(
                    f"after one update on {what}",
                    outcome.seconds,
                    len(outcome.rendered),
                    f"{len(outcome.written)}: {written}",
                    redis_footprint(),
                )
            )
        print("\n".join(notes))
        print(
            f"after one change: p50 {statistics.median(timings):.2f} s, max {max(timings):.2f} s "
            f"over {len(timings)} exports; full: {full.seconds:.1f} s"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
