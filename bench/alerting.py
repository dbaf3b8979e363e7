"""Alerting benchmark helpers, run by bench/alerting.sh against its own database (settings from the environment).

python bench/alerting.py counts                              what ingestion stored (after part a)
python bench/alerting.py latency URL KEY --rate 200 --seconds 10
                                                             trigger -> first page handed to a transport
python bench/alerting.py tick 10000                          one escalation tick with N escalations due
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from oncall import alerting, engine  # noqa: E402
from oncall.models import AlertEvent, AlertGroup, Escalation, EscalationPolicy, Integration, Page  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def counts(_args) -> None:
    events = AlertEvent.objects.count()
    groups = AlertGroup.objects.count()
    print(f"(a) stored {events} events into {groups} alert groups (dedup: {events - groups} repeats)")


def latency(args) -> None:
    """POST triggers with fresh dedup keys at a steady rate; each key's first page is the Page row that reached
    status sent (handed to the outbox and its transport); the time from just before the POST to Page.sent_at."""
    start_wall = time.time()
    posted: dict[str, float] = {}
    lock = threading.Lock()
    interval = 1 / args.rate
    total = int(args.rate * args.seconds)
    failures = []

    def send(n: int) -> None:
        key = f"latency-{int(start_wall)}-{n}"
        body = json.dumps(
            {
                "routing_key": args.key,
                "event_action": "trigger",
                "dedup_key": key,
                "payload": {"summary": f"Latency probe {n}", "source": "bench", "severity": "critical"},
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (the bench's own loopback server)
            args.url + "/v2/enqueue", data=body, headers={"Content-Type": "application/json"}
        )
        at = time.time()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                if response.status == 202:
                    with lock:
                        posted[key] = at
        except OSError as exc:
            failures.append(str(exc))

    threads = []
    t0 = time.monotonic()
    for n in range(total):
        delay = t0 + n * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=send, args=(n,))
        thread.start()
        threads.append(thread)
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
        f"(b) {len(posted)} triggers accepted at {sent_rate:.0f}/s ({len(failures)} failed); "
        f"{len(first_sent)} paged within 60 s"
    )
    if latencies:
        print(
            f"(b) trigger -> first page sent: p50 {statistics.median(latencies):.3f} s, "
            f"p99 {percentile(latencies, 0.99):.3f} s, max {max(latencies):.3f} s (goal p99 < 2 s)"
        )


def tick(args) -> None:
    """N triggered groups whose escalations are all due now (level 1 pages one user), then one tick."""
    policy = EscalationPolicy.objects.filter(levels__isnull=False).order_by("pk").first()
    integration = Integration.objects.filter(escalation_policy=policy).first()
    now = timezone.now()
    snapshot = alerting.policy_snapshot(policy)
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
            Escalation(group=group, policy=policy, snapshot=snapshot, next_step_at=now - timedelta(seconds=1))
            for group in groups
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    due = Escalation.objects.filter(status=Escalation.Status.ACTIVE, next_step_at__lte=timezone.now()).count()
    for limit in (500, args.n):
        started = time.perf_counter()
        ran = engine.escalations_run_due(limit=limit)
        elapsed = time.perf_counter() - started
        print(f"(c) {due} escalations due; one tick (limit {limit}) ran {ran} steps in {elapsed:.3f} s")
        due = Escalation.objects.filter(
            status=Escalation.Status.ACTIVE, next_step_at__lte=timezone.now()
        ).count()
    print(f"(c) pages written: {Page.objects.filter(group__dedup_key__startswith='tick-').count()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("counts").set_defaults(run=counts)
    lat = sub.add_parser("latency")
    lat.add_argument("url")
    lat.add_argument("key")
    lat.add_argument("--rate", type=float, default=200)
    lat.add_argument("--seconds", type=float, default=10)
    lat.set_defaults(run=latency)
    tk = sub.add_parser("tick")
    tk.add_argument("n", type=int, nargs="?", default=10_000)
    tk.set_defaults(run=tick)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
