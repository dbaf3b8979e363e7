"""The steps of bench/fanout.sh, each in its own process so its peak memory is its own.

    python bench/fanout.py seed N            N confirmed subscribers (60 % email, 20 % webhook, 20 % SMS)
    python bench/fanout.py enqueue OUT.json  declare an incident, post one public update (the fan-out)
    python bench/fanout.py watch OUT.json    wait until the sinks have everything, then check losses and dupes

Settings come from the environment fanout.sh sets up (DATABASE_URL, REDIS_URL, EMAIL_*, SMS_*, sink ports).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import resource
import secrets
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

WEBHOOK_PATHS = 4  # webhooks spread over a few URL paths on one sink
SINKS = {
    "email": f"http://127.0.0.1:{os.environ.get('SMTP_STATS_PORT', '8126')}",
    "webhook": f"http://127.0.0.1:{os.environ.get('WEBHOOK_PORT', '8127')}",
    "sms": f"http://127.0.0.1:{os.environ.get('SMS_PORT', '8128')}",
}


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def address(channel: str, i: int) -> str:
    if channel == "email":
        return f"sub{i}@merchants.example"
    if channel == "sms":
        return f"+1555{i:07d}"
    return f"{SINKS['webhook']}/hooks/{i % WEBHOOK_PATHS}?s={i}"


def sink_key(channel: str, addr: str) -> str:
    """What the sink counts a message under: the RCPT, the To number, or the path the webhook hit."""
    if channel == "webhook":
        parts = urlsplit(addr)
        return f"{parts.path}?{parts.query}"
    return addr


def channel_of(i: int) -> str:
    slot = i % 10  # 6 email, 2 webhook, 2 SMS in every ten
    return "email" if slot < 6 else "webhook" if slot < 8 else "sms"


def seed(n: int) -> None:
    from statuspage.models import Subscriber

    started = time.perf_counter()
    now = timezone.now()
    rows = []
    for i in range(n):
        channel = channel_of(i)
        rows.append(
            Subscriber(
                channel=channel,
                address=address(channel, i),
                confirmed_at=now,
                created_at=now,
                secret=secrets.token_hex(32) if channel == "webhook" else "",
            )
        )
    Subscriber.objects.bulk_create(rows, batch_size=5000)
    counts = Counter(channel_of(i) for i in range(n))
    print(
        f"seeded {n:,} confirmed subscribers following everything {dict(counts)} in {time.perf_counter() - started:.1f} s"
    )


def enqueue(out: Path) -> None:
    from opsportal.core.services import SYSTEM
    from opsportal.incidents.services import incident_declare, incident_post_update
    from opsportal.notifications.delivery import deliver_due_batches
    from opsportal.notifications.models import Delivery, Message
    from opsportal.notifications.tasks import deliver_due

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    rss_before = maxrss_mib()
    connection.ensure_connection()
    with connection.execute_wrapper(count):
        t_declare = time.time()
        incident = incident_declare(actor=SYSTEM, title="Checkout API failing", severity="P1")
        t0 = time.time()
        profile = cProfile.Profile() if os.environ.get("PROFILE_ENQUEUE") else None
        if profile:
            profile.enable()
        update = incident_post_update(
            actor=SYSTEM,
            incident=incident,
            status="investigating",
            body="Card payments are failing for some merchants. We are investigating.",
        )
        if profile:
            profile.disable()
        t_commit = time.time()  # incident_post_update is atomic: returning means committed
    enqueue_queries = queries
    rss_enqueue = maxrss_mib()
    message = Message.objects.get(dedupe_key=f"incident-update:{update.pk}")
    rows = Delivery.objects.filter(message=message).count()
    # On commit the app starts ONE deliver_due task. Extra triggers (what the 10 s sweep would also do)
    # let every worker slot claim chunks side by side.
    extra = int(os.environ.get("EXTRA_TRIGGERS", "0"))
    for _ in range(extra):
        deliver_due.apply_async()
    print(
        f"enqueue: declare {t0 - t_declare:.2f} s, public update with {rows:,} outbox rows {t_commit - t0:.2f} s "
        f"({enqueue_queries} queries in both), enqueuing process max RSS {rss_enqueue:.0f} MiB "
        f"(after setup {rss_before:.0f} MiB); {extra} extra deliver_due triggers"
    )
    if profile:
        stream = io.StringIO()
        pstats.Stats(profile, stream=stream).sort_stats("cumulative").print_stats(25)
        print(stream.getvalue())

    # One chunk measured here, side by side with the workers (SKIP LOCKED keeps it ours alone).
    chunk_profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        chunk_profile.enable()
        attempted = deliver_due_batches(max_chunks=1)
        chunk_profile.disable()
        chunk_seconds = time.perf_counter() - started
    print(
        f"one chunk of {attempted} rows: {len(captured.captured_queries)} queries, {chunk_seconds * 1000:.0f} ms"
    )
    for query in captured.captured_queries:
        print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
    stream = io.StringIO()
    pstats.Stats(chunk_profile, stream=stream).sort_stats("tottime").print_stats(12)
    print("one chunk, cProfile by own time (top 12):")
    print(
        "\n".join(
            line for line in stream.getvalue().splitlines() if line.strip()[:1].isdigit() or "ncalls" in line
        )
    )
    out.write_text(
        json.dumps(
            {
                "message_id": message.pk,
                "rows": rows,
                "t_declare": t_declare,
                "t0": t0,
                "t_commit": t_commit,
                "enqueue_seconds": t_commit - t0,
                "enqueue_queries": enqueue_queries,
                "enqueue_maxrss_mib": rss_enqueue,
                "chunk_queries": len(captured.captured_queries),
                "chunk_rows": attempted,
                "chunk_ms": chunk_seconds * 1000,
            }
        )
    )


def _get(url: str):
    with urlopen(url, timeout=10) as response:  # noqa: S310  (our own loopback sinks)
        return json.load(response)


def watch(out: Path, timeout: float) -> None:
    from opsportal.notifications.models import Delivery
    from statuspage.models import Subscriber

    info = json.loads(out.read_text())
    expected = info["rows"]
    deadline = time.time() + timeout
    last_print = 0.0
    previous = (-1, time.time())
    while True:
        stats = {channel: _get(f"{url}/_stats") for channel, url in SINKS.items()}
        received = sum(s["received"] for s in stats.values())
        now = time.time()
        statuses = dict(
            Delivery.objects.filter(message_id=info["message_id"])
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        open_rows = statuses.get("pending", 0) + statuses.get("sending", 0)
        if now - last_print >= 5:
            by_sink = ", ".join(f"{c} {s['received']:,}" for c, s in stats.items())
            print(
                f"  +{now - info['t_commit']:6.1f} s  sinks {received:,}/{expected:,}  "
                f"({by_sink})  rows {statuses}"
            )
            last_print = now
        if received >= expected and open_rows == 0:
            break
        if received != previous[0]:
            previous = (received, now)
        if now > deadline or (open_rows == 0 and now - previous[1] > 15):
            print(
                f"  stopped waiting: {'timeout' if now > deadline else 'no open rows and no progress for 15 s'}"
            )
            break
        time.sleep(0.5)

    last = max(s["last"] or 0 for s in stats.values())
    first = min(s["first"] or last for s in stats.values())
    # Losses and duplicates, recipient by recipient: what the outbox says against what each sink saw.
    dumps = {channel: _get(f"{url}/_dump") for channel, url in SINKS.items()}
    expected_keys = {
        (channel, sink_key(channel, addr))
        for channel, addr in Subscriber.objects.values_list("channel", "address").iterator(chunk_size=10000)
    }
    received_keys = Counter()
    for channel, dump in dumps.items():
        for key, n in dump.items():
            received_keys[(channel, key)] += n
    lost = [key for key in expected_keys if key not in received_keys]
    duplicated = {key: n for key, n in received_keys.items() if n > 1}
    unexpected = [key for key in received_keys if key not in expected_keys]
    sent_not_received = (
        sum(
            1
            for channel, addr in Delivery.objects.filter(message_id=info["message_id"], status="sent")
            .values_list("channel", "address")
            .iterator(chunk_size=10000)
            if (channel, sink_key(channel, addr)) not in received_keys
        )
        if lost
        else 0
    )
    retried = Delivery.objects.filter(message_id=info["message_id"], attempts__gt=1).count()
    delivered_seconds = last - info["t_commit"]
    result = {
        "subscribers": len(expected_keys),
        "outbox_rows": expected,
        "received": received,
        "by_sink": {c: s["received"] for c, s in stats.items()},
        "malformed": sum(s["bad"] for s in stats.values()),
        "statuses": statuses,
        "retried_rows": retried,
        "lost": len(lost),
        "sent_but_not_received": sent_not_received,
        "duplicated": len(duplicated),
        "unexpected": len(unexpected),
        "enqueue_s": round(info["enqueue_seconds"], 2),
        "first_accept_after_commit_s": round(first - info["t_commit"], 2),
        "all_accepted_after_commit_s": round(delivered_seconds, 1),
        "all_accepted_after_update_start_s": round(last - info["t0"], 1),
        "messages_per_s": round(received / max(last - info["t_commit"], 1e-9)),
        "queries_per_chunk": f"{info['chunk_queries']} for {info['chunk_rows']} rows",
        "enqueue_maxrss_mib": round(info["enqueue_maxrss_mib"]),
    }
    print(json.dumps(result, indent=1))
    if lost[:5]:
        print("first lost:", lost[:5])
    if duplicated:
        print("first duplicated:", list(duplicated.items())[:5])


def main() -> None:
    command = sys.argv[1]
    if command == "seed":
        seed(int(sys.argv[2]))
    elif command == "enqueue":
        enqueue(Path(sys.argv[2]))
    elif command == "watch":
        watch(Path(sys.argv[2]), float(os.environ.get("WATCH_TIMEOUT", "900")))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
