"""Alerting benchmark helpers, run by bench/alerting.sh against its own database (settings from the environment).

python bench/alerting.py counts                              what ingestion stored (after part a)
python bench/alerting.py latency URL KEY --rate 200 --seconds 10
                                                             trigger -> first page handed to a transport
python bench/alerting.py tick 10000                          one escalation tick with N escalations due
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from oncall import engine  # noqa: E402
from oncall.models import AlertEvent, AlertGroup, Escalation, EscalationPolicy, Integration, Page  # noqa: E402
from oncall.tasks import TICK_STEPS  # noqa: E402 (what a tick runs in production)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def counts(_args) -> None:
    events = AlertEvent.objects.count()
    groups = AlertGroup.objects.count()
    print(f"(a) stored {events} events into {groups} alert groups (dedup: {events - groups} repeats)")


def drain(args) -> None:
    """How the intake (Celery, as in production) keeps up with what the door queued. --seconds 0: a backlog the
    workers start on, timed from its first applied event to the queue being empty. Otherwise after a sustained
    run: how long after the last request the queue was empty, and the rate over the whole run."""
    queued = AlertEvent.objects.filter(pending__isnull=False)
    backlog = queued.count()
    started = time.perf_counter()
    left = backlog
    if not args.seconds:
        while left == backlog and time.perf_counter() - started < 60:  # the workers starting up
            time.sleep(0.02)
            left = queued.count()
        started = time.perf_counter()
    while left and time.perf_counter() - started < 120:
        time.sleep(0.02)
        left = queued.count()
    behind = time.perf_counter() - started
    failed = AlertEvent.objects.filter(outcome__startswith="failed").count()
    if not args.seconds:
        print(
            f"{args.label}: {backlog} queued events applied in {behind:.2f} s = {backlog / behind:.0f} events/s "
            f"({left} left, {failed} failed)"
        )
        return
    print(f"{args.label}: queue empty {behind:.2f} s after the last request ({left} left, {failed} failed)")
    counts(args)
    print(f"(a) escalations started: {Escalation.objects.count()}")


def latency(args) -> None:
    """POST triggers at a steady rate (one in `new_every` a new alert, the rest repeats, like a storm) from a pool
    of keep-alive connections; each new alert's latency runs from its scheduled send time (so time spent queued
    behind a busy server counts) to its first Page reaching status sent (handed to the outbox and transport)."""
    start_wall = time.time()
    posted: dict[str, float] = {}
    lock = threading.Lock()
    interval = 1 / args.rate
    total = int(args.rate * args.seconds)
    failures = []
    work: queue.Queue = queue.Queue()
    parts = urlsplit(args.url)

    def body_for(n: int) -> tuple[str, bytes, bool]:
        fresh = n % args.new_every == 0
        key = f"latency-{int(start_wall)}-{n}" if fresh else f"storm-repeat-{n % 200}"
        body = {
            "routing_key": args.key,
            "event_action": "trigger",
            "dedup_key": key,
            "payload": {"summary": f"Latency probe {n}", "source": "bench", "severity": "critical"},
        }
        return key, json.dumps(body).encode(), fresh

    def sender() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while (item := work.get()) is not None:
            n, scheduled = item
            key, body, fresh = body_for(n)
            try:
                conn.request("POST", "/v2/enqueue", body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                if response.status == 202 and fresh:
                    with lock:
                        posted[key] = scheduled
            except (OSError, http.client.HTTPException) as exc:
                failures.append(str(exc))
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.close()

    threads = [threading.Thread(target=sender) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    t0 = time.monotonic()
    wall0 = time.time()
    for n in range(total):
        delay = t0 + n * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        work.put((n, wall0 + n * interval))
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    sent_rate = total / (time.monotonic() - t0)
    # Wait for the pages (up to 60 s after the last trigger).
    deadline = time.time() + 60
    first_sent: dict[str, float] = {}
    while time.time() < deadline:
        rows = (
            Page.objects.filter(group__dedup_key__in=list(posted), status=Page.Status.SENT)
            .values_list("group__dedup_key", "sent_at")
            .order_by("sent_at")
        )
        for key, sent_at in rows:
            first_sent.setdefault(key, sent_at.timestamp())
        if len(first_sent) == len(posted):
            break
        time.sleep(1)
    latencies = [first_sent[key] - posted[key] for key in first_sent]
    print(
        f"(b) {total} events offered at {sent_rate:.0f}/s, one in {args.new_every} a new alert ({len(failures)} "
        f"failed); {len(posted)} new alerts accepted, {len(first_sent)} paged within 60 s"
    )
    if latencies:
        print(
            f"(b) trigger -> first page sent: p50 {statistics.median(latencies):.3f} s, "
            f"p99 {percentile(latencies, 0.99):.3f} s, max {max(latencies):.3f} s (goal p99 < 2 s)"
        )
        # The server's own part: from the alert being stored to its first page handed to the outbox.
        inside = [
            (sent - first).total_seconds()
            for first, sent in Page.objects.filter(group__dedup_key__in=list(posted), status=Page.Status.SENT)
            .order_by("group_id", "sent_at")
            .distinct("group_id")
            .values_list("group__first_seen_at", "sent_at")
        ]
        print(
            f"(b) of which stored -> first page sent (queueing for a busy server excluded): "
            f"p50 {statistics.median(inside):.3f} s, p99 {percentile(inside, 0.99):.3f} s"
        )


def tick(args) -> None:
    """N active escalations whose next steps are spread over the next five minutes (the first level's wait, as
    when alerts have been arriving steadily), then one tick as beat runs it every 2 s: the issue's "one tick with
    10,000 active escalations". Then the worst case: every one of them due at the same instant."""
    policy = EscalationPolicy.objects.filter(levels__isnull=False).order_by("pk").first()
    integration = Integration.objects.filter(escalation_policy=policy).first()
    now = timezone.now()
    snapshot = engine.policy_snapshot(policy)
    spread = 300.0
    with transaction.atomic():
        groups = AlertGroup.objects.bulk_create(
            AlertGroup(
                integration=integration,
                dedup_key=f"tick-{n}",
                summary=f"Tick probe {n}",
                team_id=integration.team_id,
                escalation_policy=policy,
                incident_severity="P2",
                first_seen_at=now,
                last_seen_at=now,
            )
            for n in range(args.n)
        )
        Escalation.objects.bulk_create(
            Escalation(
                group=group,
                policy=policy,
                snapshot=snapshot,
                next_step_at=now + timedelta(seconds=-2 + spread * n / args.n),
            )
            for n, group in enumerate(groups)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    active = Escalation.objects.filter(status=Escalation.Status.ACTIVE, group__dedup_key__startswith="tick-")

    def due() -> int:
        return active.filter(next_step_at__lte=timezone.now()).count()

    before = due()
    started = time.perf_counter()
    ran = engine.escalations_run_due(limit=TICK_STEPS)
    elapsed = time.perf_counter() - started
    print(
        f"(c) {active.count()} active escalations, {before} due: one tick ran {ran} steps in {elapsed:.3f} s "
        f"(goal < 1 s)"
    )

    active.update(next_step_at=timezone.now() - timedelta(seconds=1))
    before = due()
    started = time.perf_counter()
    ran = engine.escalations_run_due(limit=TICK_STEPS)
    elapsed = time.perf_counter() - started
    print(
        f"(c) worst case, {before} due at once: one tick ran {ran} steps in {elapsed:.3f} s "
        f"({1000 * elapsed / max(ran, 1):.2f} ms a step)"
    )
    print(f"(c) pages written: {Page.objects.filter(group__dedup_key__startswith='tick-').count()}")


def storm(_args) -> None:
    """(c) the worst case drained as production does: every tick-* escalation due at once, and the Celery
    workers (already running) take it, each tick starting the next while steps are left."""
    active = Escalation.objects.filter(status=Escalation.Status.ACTIVE, group__dedup_key__startswith="tick-")
    active.update(next_step_at=timezone.now() - timedelta(seconds=1))
    due = active.filter(next_step_at__lte=timezone.now())
    total = due.count()
    from oncall import tasks

    started = time.perf_counter()
    tasks.escalations_tick_soon()  # what the commit of new alerts does; beat would start one within 2 s
    left = total
    while left and time.perf_counter() - started < 300:
        time.sleep(0.1)
        left = due.count()
    elapsed = time.perf_counter() - started
    print(
        f"(c) worst case by the workers: {total} steps due at once done in {elapsed:.1f} s "
        f"({total / elapsed:.0f} steps/s; {left} left)"
    )


def settle(_args) -> None:
    """Wait until no escalation step is due and no page waits for the outbox: what (a1)'s backlog started."""
    started = time.perf_counter()
    while time.perf_counter() - started < 300:
        now = timezone.now()
        due = Escalation.objects.filter(status=Escalation.Status.ACTIVE, next_step_at__lte=now).count()
        waiting = Page.objects.filter(status=Page.Status.SCHEDULED, due_at__lte=now).count()
        if not due and not waiting:
            break
        time.sleep(0.2)
    print(f"(a2) paging of that backlog settled {time.perf_counter() - started:.1f} s later")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("counts").set_defaults(run=counts)
    dr = sub.add_parser("drain")
    dr.add_argument("--seconds", type=float, default=10, help="how long (a) sent for; 0: time a backlog")
    dr.add_argument("--label", default="(a)")
    dr.set_defaults(run=drain)
    lat = sub.add_parser("latency")
    lat.add_argument("url")
    lat.add_argument("key")
    lat.add_argument("--rate", type=float, default=200)
    lat.add_argument("--seconds", type=float, default=10)
    lat.add_argument("--connections", type=int, default=32, help="keep-alive connections sending")
    lat.add_argument("--new-every", type=int, default=5, help="one event in N opens a new alert (1: all do)")
    lat.set_defaults(run=latency)
    tk = sub.add_parser("tick")
    tk.add_argument("n", type=int, nargs="?", default=10_000)
    tk.set_defaults(run=tick)
    sub.add_parser("storm").set_defaults(run=storm)
    sub.add_parser("settle").set_defaults(run=settle)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
