"""The public page rendered after a change, at scale (issue 11): the demo page, then 200 components with two
years of status history and 20,000 incidents, each rendered in-process right after a version bump.

Usage (a fresh database is created; run bench/public_page.sh rather than this file directly):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsportal_pub_bench REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/public_page.py [repeats]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

import django

django.setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from opsportal.incidents.models import AffectedComponent, Incident, PublicUpdate  # noqa: E402
from statuspage.models import Component, ComponentGroup, ComponentStatusChange  # noqa: E402
from statuspage.public import cache as public_cache  # noqa: E402
from statuspage.public import publishing  # noqa: E402
from statuspage.public.views import status_home  # noqa: E402

COMPONENTS = 200
INCIDENTS = 20_000
HISTORY_DAYS = 730


def render_after_change(repeats: int) -> tuple[float, float, int, int, float]:
    """Median and best milliseconds of GET / right after a public change (the first request of a version),
    its size and queries, and the median CPU milliseconds of this process (steadier on a shared machine)."""
    factory = RequestFactory(HTTP_HOST="127.0.0.1")
    times, cpu = [], []
    size = 0
    queries = 0
    for _ in range(repeats):
        publishing._bump_and_broadcast("bench")
        public_cache._local.clear()
        request = factory.get("/")
        request.user = AnonymousUser()
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = status_home(request)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        size = len(response.content)
        queries = len(captured)
    return statistics.median(times), min(times), size, queries, statistics.median(cpu)


def load_history() -> None:
    """200 components in 10 groups, created over two years (some mid-range), and 20,000 incidents each moving
    one component out of operational and back: two status changes, one public update."""
    rng = random.Random(11)
    now = timezone.now()
    start = now - timedelta(days=HISTORY_DAYS)
    groups = ComponentGroup.objects.bulk_create(
        ComponentGroup(name=f"Region {n:02d}", position=100 + n) for n in range(10)
    )
    components = Component.objects.bulk_create(
        Component(
            name=f"Service {n:03d}",
            description=f"Checkout path {n}",
            group=groups[n % 10],
            position=n,
            # One in ten joined within the 90 days: its earlier days have no data.
            created_at=now - timedelta(days=rng.randint(1, 89)) if n % 10 == 9 else start,
        )
        for n in range(COMPONENTS)
    )
    changes = [
        ComponentStatusChange(component=c, status="operational", previous_status="", at=c.created_at)
        for c in components
    ]
    incidents, updates, affected, component_of = [], [], [], []
    n = 0
    while len(incidents) < INCIDENTS:
        n += 1
        component = components[n % COMPONENTS]
        began = start + (now - start) * rng.random()  # about 27 a day across the platform
        if began < component.created_at:
            continue
        lasted = timedelta(minutes=rng.randint(5, 36 * 60))  # a few spans cross midnight
        ended = min(began + lasted, now - timedelta(minutes=1))
        if ended <= began:
            continue
        component_of.append(component)
        status = rng.choice(["degraded_performance", "partial_outage", "major_outage", "under_maintenance"])
        changes.append(
            ComponentStatusChange(component=component, status=status, previous_status="operational", at=began)
        )
        changes.append(
            ComponentStatusChange(component=component, status="operational", previous_status=status, at=ended)
        )
        incidents.append(
            Incident(
                title=f"Internal {n}",
                public_title=f"Elevated errors on {component.name}",
                status="resolved",
                started_at=began,
                detected_at=began,
                resolved_at=ended,
            )
        )
    Incident.objects.bulk_create(incidents, batch_size=2000)
    for incident, component in zip(incidents, component_of, strict=True):
        updates.append(
            PublicUpdate(
                incident=incident,
                status="resolved",
                body="This incident has been resolved.",
                created_at=incident.resolved_at,
            )
        )
        affected.append(AffectedComponent(incident=incident, component=component, impact="partial_outage"))
    PublicUpdate.objects.bulk_create(updates, batch_size=2000)
    AffectedComponent.objects.bulk_create(affected, batch_size=2000)
    ComponentStatusChange.objects.bulk_create(changes, batch_size=5000)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", allow_production=True, stdout=quiet)
    call_command("collectstatic", interactive=False, verbosity=0)
    render_after_change(2)  # warm imports and template loading
    demo = render_after_change(repeats)
    started = time.perf_counter()
    load_history()
    loaded = time.perf_counter() - started
    render_after_change(1)
    big = render_after_change(repeats)
    print(
        f"history: {Component.objects.count()} components, {ComponentStatusChange.objects.count()} status changes, "
        f"{Incident.objects.count()} incidents (loaded in {loaded:.1f} s); {repeats} renders each after a bump"
    )
    print("| page | median | best | CPU (median) | size | queries |")
    for label, row in (("demo page (reference)", demo), ("200 components x 90 days", big)):
        print(
            f"| {label} | {row[0]:.0f} ms | {row[1]:.0f} ms | {row[4]:.0f} ms | {row[2] // 1024} KiB | {row[3]} |"
        )
    print(
        f"ratio to the demo page: {big[0] / demo[0]:.1f}x (median), {big[4] / demo[4]:.1f}x (CPU); goal < 250 ms"
    )


if __name__ == "__main__":
    main()
