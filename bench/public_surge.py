#!/usr/bin/env python
"""A surge on the public page `/` while public changes land (issue 11): wrk drives `/` through gunicorn (two sync
workers, production settings, PostgreSQL + Redis) on bench/history.py's two-year database, alternately with no
change and with a component status change every few seconds, and reports each phase's p50/p99 and how many times
the page was rendered (goal: the changes raise p99 by < 100 ms, and each change is rendered once, by one process).

    .venv/bin/python bench/history.py --only public     # once: builds <prefix>_2y (BENCH_DB_PREFIX)
    .venv/bin/python bench/public_surge.py [--duration 20] [--connections 8] [--every 3] [--rounds 2]

Renders are counted from the server's log ("Rendered home for public version …", one line per rendering).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from history import BIN, ROOT, sh, stack_env

GOAL_P99_RISE_MS = 100
RENDERED = re.compile(r"Rendered home for public version (\d+) in (\d+) ms")
RENDERED_BY = re.compile(r"Rendered home for public version \d+ in \d+ ms \(process (\d+)\)")


def change(args) -> None:
    """In its own process, with the server's settings: a component's status flips every `--every` seconds for
    `--duration` seconds, through the service (a real public change: history row, audit, bump on commit)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    import django

    django.setup()
    from opsportal.core.services import SYSTEM
    from statuspage.models import Component
    from statuspage.services import component_set_status

    component = Component.objects.filter(showcase=True).order_by("pk").first()
    print("ready", flush=True)  # Django is up: the load starts now, and every change lands within it
    changes = 0
    deadline = time.monotonic() + args.duration - 1  # the last change's render is asked for before the end
    next_at = time.monotonic() + args.every / 2
    while next_at < deadline:
        time.sleep(max(0.0, next_at - time.monotonic()))
        status = "degraded_performance" if component.status == "operational" else "operational"
        component = component_set_status(actor=SYSTEM, component=component, status=status, notify=False)
        changes += 1
        next_at += args.every
    print(changes)


def wrk(port: int, *, duration: int, connections: int) -> dict:
    out = subprocess.run(
        [
            *("wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"),
            *("-H", "Accept-Encoding: gzip", f"http://127.0.0.1:{port}/"),
        ],
        check=True,
        text=True,
        capture_output=True,
    ).stdout

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]

    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50": ms(percentiles["50"]),
        "p99": ms(percentiles["99"]),
        "max": ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def run(args) -> None:
    db = f"{args.db_prefix}_2y"
    env = {**stack_env(db, args), "LOG_LEVEL": "INFO"}
    work = Path(env["OPSPORTAL_VAR_DIR"])
    work.mkdir(parents=True, exist_ok=True)
    sh([str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"], env)
    subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], check=True, capture_output=True)
    log_path = work / "public_surge.gunicorn.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [
            *(str(BIN / "gunicorn"), "opsportal.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{args.port}"),
            *("--log-level", "warning", "--timeout", "300"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rows = []
    try:
        for _ in range(100):
            healthz = ["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{args.port}/healthz"]
            if subprocess.run(healthz).returncode == 0:
                break
            time.sleep(0.2)
        # Warm both workers as a running server is: each has rendered the page (and kept its finished days).
        for _ in range(10):
            subprocess.run(
                [str(BIN / "python"), __file__, "change", "--every", "1", "--duration", "2"],
                env=env,
                check=True,
                capture_output=True,
            )
            wrk(args.port, duration=2, connections=args.connections)
            if len(set(RENDERED_BY.findall(log_path.read_text()))) >= 2:
                break
        print(
            f"machine: {os.cpu_count()} cores, {os.uname().machine}, load {os.getloadavg()[0]:.1f}; "
            f"wrk -t2 -c{args.connections} -d{args.duration}s on /; a change every {args.every} s in the change phases",
            flush=True,
        )
        for _ in range(args.rounds):
            for phase in ("no change", "changes"):
                seen = log_path.read_text()
                changer = None
                if phase == "changes":
                    changer = subprocess.Popen(
                        [
                            *(str(BIN / "python"), __file__, "change"),
                            *("--every", str(args.every), "--duration", str(args.duration)),
                        ],
                        env=env,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    assert changer.stdout.readline().strip() == "ready"
                row = wrk(args.port, duration=args.duration, connections=args.connections)
                row["phase"] = phase
                row["changes"] = int(changer.communicate(timeout=60)[0].split()[-1]) if changer else 0
                time.sleep(1)  # the last change's render lands in the log
                renders = RENDERED.findall(log_path.read_text()[len(seen) :])
                row["renders"] = len(renders)
                row["versions"] = len({version for version, _ in renders})
                row["render_ms"] = max((int(ms) for _, ms in renders), default=0)
                row["load"] = os.getloadavg()[0]
                rows.append(row)
                print(
                    f"  {phase}: {row['rps']:.0f} req/s, p50 {row['p50']:.1f} ms, p99 {row['p99']:.1f} ms, "
                    f"max {row['max']:.0f} ms, {row['changes']} changes, {row['renders']} renders "
                    f"({row['versions']} versions, slowest {row['render_ms']} ms), errors {row['errors']}, "
                    f"load {row['load']:.1f}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    quiet = [r for r in rows if r["phase"] == "no change"]
    busy = [r for r in rows if r["phase"] == "changes"]
    # Each round's change phase against the quiet phase just before it, then the mean over rounds: the machine's
    # own noise moves a quiet p99 by tens of milliseconds from one phase to the next.
    rises = [b["p99"] - q["p99"] for q, b in zip(quiet, busy, strict=True)]
    rise = sum(rises) / len(rises)
    print()
    print("| phase | requests/s | p50 | p99 | max | changes | renders of `/` | slowest render |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['phase']} | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['max']:.0f} ms "
            f"| {r['changes']} | {r['renders']} | {r['render_ms']} ms |"
        )
    once = all(r["renders"] == r["changes"] == r["versions"] for r in busy)
    print(
        f"p99 with changes minus p99 without, per round: {', '.join(f'{r:+.0f} ms' for r in rises)}; "
        f"mean {rise:+.1f} ms (goal < {GOAL_P99_RISE_MS} ms: "
        f"{'met' if rise < GOAL_P99_RISE_MS else 'missed'}); one render per change: {'yes' if once else 'no'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    chg = sub.add_parser("change", help="flip a component's status every --every seconds (DATABASE_URL)")
    chg.add_argument("--every", type=float, default=3.0)
    chg.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--duration", type=int, default=20, help="seconds per phase (default 20)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between changes (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="no-change/changes pairs (default 2)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8121)))
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", 8)))
    parser.add_argument("--db-prefix", default=os.environ.get("BENCH_DB_PREFIX", "opsportal_history"))
    args = parser.parse_args()
    if args.command == "change":
        change(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
