#!/usr/bin/env python
"""Two years of history (issue 11): every page and list endpoint on the demo data and on two years of history,
served as production serves them, side by side.

    .venv/bin/python bench/history.py                  # full scale: 20,000 incidents, 100,000 subscribers, …
    .venv/bin/python bench/history.py --scale 0.1      # a quick run
    .venv/bin/python bench/history.py --reuse          # measure again without regenerating the databases

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379. Two fresh databases
(BENCH_DB_PREFIX, default opsportal_history: `_demo` and `_2y`) are migrated and loaded, one with
`manage.py load_demo --allow-production`, one with bench/history_data.py; each is then served by gunicorn with
two sync workers (DEBUG off, OPSPORTAL_MODE=production, the Redis cache) and measured in turn on the same port.

For every page: the query count of one request (counted in-process with the same settings, database and
cache, through Django's test client), then p50/p99 over up to --requests sequential keep-alive requests (at most
--budget seconds per page). Public pages that the status page caches are measured *after a change*: the public
version is bumped (as any public change does) before each request, so each request renders.

Subcommands used by the run (each in its own process with that database's settings): `generate`, `measure`.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Goals of issue 11 on this machine, two-year data (p99, milliseconds).
GOAL_STAFF = 300
GOAL_ONCALL = 100
GOAL_PUBLIC_CHANGE = 250


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    import django

    django.setup()


# --------------------------------------------------------------------------------------------------- pages


def pages() -> list[dict]:
    """(label, path, how, goal): the issue's table, then every GET list route of /api/v1/ (from the URLconf)."""
    from django.utils import timezone

    from oncall.models import AlertGroup, Integration
    from opsportal.incidents.models import Incident

    today = timezone.localdate()
    live = (
        Incident.objects.filter(status__in=["triage", "investigating", "identified", "monitoring"])
        .order_by("-started_at")
        .values_list("pk", flat=True)
        .first()
    )
    open_alert = (
        AlertGroup.objects.exclude(status="resolved")
        .order_by("-first_seen_at")
        .values_list("pk", flat=True)
        .first()
    )
    integration = Integration.objects.order_by("pk").values_list("pk", flat=True).first()
    year = f"period=custom&since={today - datetime.timedelta(days=365)}&until={today}"
    table = [
        ("public `/`, rendered after a change", "/", "public_change", GOAL_PUBLIC_CHANGE),
        ("`/history/`, rendered after a change", "/history/", "public_change", GOAL_STAFF),
        ("`/api/v2/incidents.json`, after a change", "/api/v2/incidents.json", "public_change", GOAL_STAFF),
        ("on-call board", "/portal/oncall/", "staff", GOAL_STAFF),
        ("`/api/v1/oncall/` (who is on call)", "/api/v1/oncall/", "api", GOAL_ONCALL),
        ("war-room incident page (the live incident)", f"/portal/incidents/{live}/", "staff", GOAL_STAFF),
        ("metrics over 365 days", f"/portal/metrics/?{year}", "staff", GOAL_STAFF),
        ("incident list", "/portal/incidents/", "staff", GOAL_STAFF),
        ("audit log", "/portal/audit/", "staff", GOAL_STAFF),
        ("subscribers", "/portal/subscribers/", "staff", GOAL_STAFF),
        ("alerts", "/portal/alerts/", "staff", GOAL_STAFF),
        ("alert group page (an open alert)", f"/portal/alerts/{open_alert}/", "staff", GOAL_STAFF),
        ("integrations", "/portal/integrations/", "staff", GOAL_STAFF),
        (
            "integration page (its routes and recent events)",
            f"/portal/integrations/{integration}/",
            "staff",
            GOAL_STAFF,
        ),
        ("escalation policies", "/portal/escalation-policies/", "staff", GOAL_STAFF),
        ("deliveries", "/portal/deliveries/", "staff", GOAL_STAFF),
        ("maintenance", "/portal/maintenance/", "staff", GOAL_STAFF),
    ]
    # Pages of an object the database does not have are left out (the alerting history arrived later).
    table = [row for row in table if "/None/" not in row[1]]
    rows = [{"label": label, "path": path, "how": how, "goal": goal} for label, path, how, goal in table]
    seen = {row["path"] for row in rows}
    for route, path in api_list_paths():
        if path not in seen:
            rows.append({"label": f"API `{route}`", "path": path, "how": "api", "goal": GOAL_STAFF})
            seen.add(path)
    return rows


def api_list_paths() -> list[tuple[str, str]]:
    """Every /api/v1/ route answering GET with a list: list views (DRF ListModelMixin or a *List* view name),
    parameters filled with the first schedule and integration; routes whose parameter has no row are left out."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.mixins import ListModelMixin

    from oncall.models import Integration, Schedule

    fill = {
        "slug": Schedule.objects.order_by("pk").values_list("slug", flat=True).first(),
        "integration_id": Integration.objects.order_by("pk").values_list("pk", flat=True).first(),
    }

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    paths = []
    for route, callback in walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view is None or not hasattr(view, "get"):
            continue
        if not (issubclass(view, ListModelMixin) or "List" in view.__name__ or route == "api/v1/oncall/"):
            continue
        path = "/" + route
        ok = True
        for name, value in fill.items():
            marker = next((m for m in (f"<slug:{name}>", f"<id:{name}>", f"<{name}>") if m in path), None)
            if marker:
                if value is None:
                    ok = False
                path = path.replace(marker, str(value))
        if ok and "<" not in path:
            paths.append(("/" + route.replace("<slug:slug>", "<slug>").replace("<id:", "<"), path))
    return paths


# ------------------------------------------------------------------------------------------------- measure


def bench_principal() -> tuple[str, str]:
    """A staff admin 'bench' with a session and a read-everything token (no rate limit that matters)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from opsportal.core.identity_services import api_token_create
    from opsportal.core.models import StaffProfile
    from opsportal.core.roles import Role
    from opsportal.core.scopes import AREAS
    from opsportal.core.services import SYSTEM, staff_set_role

    user, made = get_user_model().objects.get_or_create(
        username="bench", defaults={"email": "bench@example.com"}
    )
    if made:
        StaffProfile.objects.get_or_create(user=user, defaults={"time_zone": "UTC"})
        staff_set_role(actor=SYSTEM, user=user, role=Role.ADMIN)
    _token, plaintext = api_token_create(
        actor=SYSTEM,
        user=user,
        name="history bench",
        scopes=[f"{area}:read" for area in AREAS],
        rate_limit_per_minute=1_000_000,
    )
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value, plaintext


def headers_for(how: str, session: str, token: str) -> dict[str, str]:
    if how == "staff":
        from django.conf import settings

        return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
    if how == "api":
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    return {}


def a_change() -> None:
    """What any public change does after commit: move the public version, so the next request renders."""
    from statuspage.public.publishing import statuspage_changed

    statuspage_changed("bench")


def count_queries(page: dict, session: str, token: str) -> tuple[int, int]:
    """(queries, status) of one request, in-process: same settings, database and cache as the server."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies.load(headers_for("staff", session, token)["Cookie"])
    extra = {}
    if page["how"] == "api":
        extra = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT": "application/json"}
    client.get(page["path"], **extra)  # warm whatever is per process
    if page["how"] == "public_change":
        a_change()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page["path"], **extra)
    return len(queries), response.status_code


def time_page(port: int, page: dict, session: str, token: str, *, requests: int, budget: float) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Host": "127.0.0.1", "Accept-Encoding": "gzip", **headers_for(page["how"], session, token)}
    times, sizes, statuses = [], [], set()
    stale = 0

    def once() -> float | None:
        changed_at = None
        if page["how"] == "public_change":
            a_change()
            changed_at = int(time.time())
            time.sleep(0.1)  # the workers hear of the new version over Redis pub/sub
        started = time.perf_counter()
        conn.request("GET", page["path"], headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        statuses.add(response.status)
        sizes.append(len(body))
        modified = response.getheader("Last-Modified")
        if changed_at and modified and parsedate_to_datetime(modified).timestamp() < changed_at:
            return None  # a rendering from before the change was served: not what this row measures
        return elapsed

    for _ in range(2):  # both workers warm
        once()
    deadline = time.monotonic() + budget
    while len(times) < requests and (len(times) < 5 or time.monotonic() < deadline):
        elapsed = once()
        if elapsed is None:
            stale += 1
            if stale > 4 * requests:
                break
        else:
            times.append(elapsed)
    conn.close()
    times.sort()
    return {
        "n": len(times),
        "p50": statistics.median(times) * 1000,
        "p99": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))] * 1000,
        "bytes": int(statistics.median(sizes)),
        "statuses": sorted(statuses),
        "stale": stale,
    }


def measure(args) -> None:
    _django()
    session, token = bench_principal()
    results = []
    for page in pages():
        if args.only and args.only not in page["label"]:
            continue
        page["queries"], page["status"] = count_queries(page, session, token)
        results.append(page)
    server = subprocess.Popen(
        [
            *(str(BIN / "gunicorn"), "opsportal.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{args.port}"),
            *("--log-level", "warning", "--timeout", "300"),
        ],
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        for page in results:
            page.update(
                time_page(args.port, page, session, token, requests=args.requests, budget=args.budget)
            )
            print(
                f"  {page['label']}: p50 {page['p50']:.0f} ms, p99 {page['p99']:.0f} ms, n={page['n']}, "
                f"{page['queries']} queries, HTTP {page['statuses']}, {page['stale']} stale answers left out",
                file=sys.stderr,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    out = Path(args.out)
    if args.only and out.exists():  # measured again: replace those rows of the earlier run, keep the others
        again = {row["label"]: row for row in results}
        results = [again.pop(row["label"], row) for row in json.loads(out.read_text())] + list(again.values())
    out.write_text(json.dumps(results, indent=1))


def generate_cmd(args) -> None:
    _django()
    from history_data import generate

    started = time.monotonic()
    counts = generate(scale=args.scale)
    counts["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(counts))


# ---------------------------------------------------------------------------------------------------- run


def stack_env(db: str, args) -> dict[str, str]:
    var = Path(os.environ.get("OPSPORTAL_VAR_DIR", ROOT / "var"))
    return {
        **os.environ,
        "DEBUG": "0",
        "OPSPORTAL_MODE": "production",
        "SECRET_KEY": "history-bench-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
        "OPSPORTAL_VAR_DIR": str(var),
        "STATIC_ROOT": str(var / "static"),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "PUBLIC_URL": f"http://127.0.0.1:{args.port}",
        "NOTIFICATIONS_CONSOLE": "1",
    }


def sh(cmd: list[str], env: dict, **kw) -> str:
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, capture_output=True, **kw).stdout


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-c", sql], check=True)


def prepare(kind: str, db: str, args) -> dict:
    env = stack_env(db, args)
    started = time.monotonic()
    psql(f"DROP DATABASE IF EXISTS {db}")
    psql(f"CREATE DATABASE {db}")
    sh([str(BIN / "python"), "manage.py", "migrate", "-v0"], env)
    if kind == "demo":
        sh([str(BIN / "python"), "manage.py", "load_demo", "--allow-production"], env)
        counts = {}
    else:
        out = sh([str(BIN / "python"), __file__, "generate", "--scale", str(args.scale)], env)
        counts = json.loads(out.strip().splitlines()[-1])
    psql("VACUUM ANALYZE", db)
    counts["prepare_seconds"] = round(time.monotonic() - started, 1)
    return counts


def fmt(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def table(demo: list[dict], history: list[dict]) -> str:
    by_label = {row["label"]: row for row in demo}
    lines = [
        "| page or endpoint | demo p50 / p99 | two-year p50 / p99 | ratio (p50) | queries demo / two-year "
        "| two-year size as sent | goal (p99) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in history:
        ref = by_label.get(row["label"])
        bad = [s for s in row["statuses"] if s != 200]
        note = f" (HTTP {', '.join(map(str, bad))})" if bad else ""
        if row.get("stale"):
            note += f" ({row['stale']} answers from before the change left out)"
        if ref:
            demo_cell = f"{fmt(ref['p50'])} / {fmt(ref['p99'])}"
            ratio = f"{row['p50'] / ref['p50']:.1f}×"
            queries = f"{ref['queries']} / {row['queries']}"
        else:
            demo_cell, ratio, queries = "—", "—", f"— / {row['queries']}"
        verdict = "met" if row["p99"] < row["goal"] and not bad else "**missed**"
        lines.append(
            f"| {row['label']}{note} | {demo_cell} | {fmt(row['p50'])} / {fmt(row['p99'])} | {ratio} | {queries} "
            f"| {row['bytes'] / 1024:.0f} KiB | < {row['goal']} ms: {verdict} |"
        )
    return "\n".join(lines)


def run(args) -> None:
    prefix = args.db_prefix
    work = Path(os.environ.get("OPSPORTAL_VAR_DIR", ROOT / "var"))
    work.mkdir(parents=True, exist_ok=True)
    env = stack_env(f"{prefix}_demo", args)
    print(
        f"machine: {os.cpu_count()} cores, {os.uname().machine}; {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; "
        f"scale {args.scale}; up to {args.requests} requests or {args.budget:.0f} s per page",
        flush=True,
    )
    counts = {}
    kinds = args.kinds.split(",")
    for kind in kinds:
        if not args.reuse:
            counts[kind] = prepare(kind, f"{prefix}_{kind}", args)
            print(f"{kind}: {json.dumps(counts[kind])}", flush=True)
    sh([str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"], env)
    results = {}
    for kind in kinds:
        env = stack_env(f"{prefix}_{kind}", args)
        subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], check=True, capture_output=True)
        out = work / f"history-{kind}.json"
        print(f"measuring {kind} …", flush=True)
        subprocess.run(
            [
                str(BIN / "python"),
                __file__,
                "measure",
                "--port",
                str(args.port),
                "--out",
                str(out),
                "--requests",
                str(args.requests),
                "--budget",
                str(args.budget),
                "--only",
                args.only,
            ],
            env=env,
            cwd=ROOT,
            check=True,
        )
    for kind in ("demo", "2y"):
        results[kind] = json.loads((work / f"history-{kind}.json").read_text())
    print()
    print(table(results["demo"], results["2y"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    gen = sub.add_parser("generate", help="write the history into DATABASE_URL (migrated, empty)")
    gen.add_argument("--scale", type=float, default=1.0)
    mea = sub.add_parser("measure", help="measure the database of DATABASE_URL")
    mea.add_argument("--port", type=int, default=8121)
    mea.add_argument("--out", required=True)
    mea.add_argument("--requests", type=int, default=100)
    mea.add_argument("--budget", type=float, default=20.0)
    mea.add_argument("--only", default="")
    for p in (parser,):
        p.add_argument("--scale", type=float, default=1.0, help="1.0 = 20,000 incidents (default)")
        p.add_argument("--requests", type=int, default=100, help="requests per page at most (default 100)")
        p.add_argument("--budget", type=float, default=20.0, help="seconds per page at most (default 20)")
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8121)))
        p.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", 8)))
        p.add_argument("--db-prefix", default=os.environ.get("BENCH_DB_PREFIX", "opsportal_history"))
        p.add_argument("--reuse", action="store_true", help="measure the databases of an earlier run")
        p.add_argument("--only", default="", help="measure only the pages whose label contains this")
        p.add_argument("--kinds", default="demo,2y", help="which databases to (build and) measure")
    args = parser.parse_args()
    if args.command == "generate":
        generate_cmd(args)
    elif args.command == "measure":
        measure(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
