"""The steps of bench/fanout.sh, each in its own process so its peak memory is its own.

    python bench/fanout.py seed N            N confirmed subscribers (60 % email, 20 % webhook, 20 % SMS)
    python bench/fanout.py enqueue OUT.json  declare an incident, post one public update through the API (the
                                             fan-out), timing the request, how long the incident row stays
                                             locked, and other actions on the incident meanwhile
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


class LockProbe:
    """A second connection trying `SELECT … FOR UPDATE NOWAIT` on the incident row every millisecond: the
    longest stretch it is refused is how long someone held the incident (what the commander's next action
    would have waited for)."""

    def __init__(self, incident_id: int):
        import threading

        self.incident_id = incident_id
        self.probes: list[tuple[float, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        settings = connection.settings_dict
        with psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            dbname=settings["NAME"],
            password=settings.get("PASSWORD") or None,
        ) as conn:
            while not self._stop.is_set():
                try:
                    conn.execute(
                        "SELECT id FROM incidents_incident WHERE id = %s FOR UPDATE NOWAIT",
                        [self.incident_id],
                    )
                    free = True
                except psycopg.errors.LockNotAvailable:
                    free = False
                conn.rollback()
                self.probes.append((time.time(), free))
                time.sleep(0.001)

    def start(self) -> LockProbe:
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(5)
        longest, held_since = 0.0, None
        for at, free in self.probes:
            if not free and held_since is None:
                held_since = at
            elif free and held_since is not None:
                longest = max(longest, at - held_since)
                held_since = None
        refused = sum(1 for _, free in self.probes if not free)
        return {"probes": len(self.probes), "refused": refused, "longest_held_s": longest}


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def enqueue(out: Path) -> None:
    from django.test import Client

    from opsportal.core.identity_services import api_token_create
    from opsportal.core.roles import Role
    from opsportal.core.services import SYSTEM, staff_create
    from opsportal.incidents.services import incident_declare
    from opsportal.notifications.delivery import deliver_due_batches
    from opsportal.notifications.models import Message
    from opsportal.notifications.tasks import deliver_due
    from statuspage.models import Component, Subscriber

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    rss_before = maxrss_mib()
    connection.ensure_connection()
    commander = staff_create(
        actor=SYSTEM, username="bench-ic", email="ic@ops.example", role=Role.INCIDENT_COMMANDER
    )
    _, token = api_token_create(actor=SYSTEM, user=commander, name="bench", scopes=["incidents:write"])
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    checkout = Component.objects.create(name="Checkout API")
    t_declare = time.time()
    incident = incident_declare(actor=SYSTEM, title="Checkout API failing", severity="P2")
    base = f"/api/v1/incidents/{incident.pk}"

    def note(text: str) -> float:
        seconds, response = _timed(
            lambda: api.post(f"{base}/notes/", {"body": text}, content_type="application/json")
        )
        assert response.status_code == 201, response.content
        return seconds

    # The reference, measured in this run on this machine: the same kind of request with nothing fanning out.
    note("warm-up")
    reference_notes = sorted(note(f"reference {n}") for n in range(5))
    probe = LockProbe(incident.pk).start()
    time.sleep(0.05)
    t0 = time.time()
    profile = cProfile.Profile() if os.environ.get("PROFILE_ENQUEUE") else None
    if profile:
        profile.enable()
    with connection.execute_wrapper(count):
        response = api.post(
            f"{base}/updates/",
            {
                "status": "investigating",
                "body": "Card payments are failing for some merchants. We are investigating.",
                "components": [{"id": checkout.pk, "status": "major_outage"}],
            },
            content_type="application/json",
        )
    if profile:
        profile.disable()
    t_commit = time.time()  # the view's service is atomic: the response means committed
    assert response.status_code == 201, response.content
    update_id = response.json()["id"]
    # Other actions on the incident while its fan-out runs (the commander's next moves).
    during_notes = sorted(note(f"during {n}") for n in range(5))
    time.sleep(max(0.0, 10 - (time.time() - t_commit)))  # the probe watches the first 10 s of the fan-out
    lock = probe.stop()
    enqueue_queries = queries
    rss_enqueue = maxrss_mib()
    message = Message.objects.get(dedupe_key=f"incident-update:{update_id}")
    subscribers = Subscriber.objects.filter(confirmed_at__isnull=False).count()
    rows_at_commit = getattr(message, "expanded", None)
    # The commit starts the delivery tasks itself; extra triggers (what the sweep would also do) are optional.
    extra = int(os.environ.get("EXTRA_TRIGGERS", "0"))
    for _ in range(extra):
        deliver_due.apply_async()
    median = lambda values: values[len(values) // 2]  # noqa: E731
    print(
        f"public update request (API, {subscribers:,} subscribers): {t_commit - t0:.3f} s, {enqueue_queries} "
        f"queries; reference (a note, nothing fanning out): median {median(reference_notes) * 1000:.1f} ms "
        f"-> ratio {(t_commit - t0) / median(reference_notes):.1f}x"
    )
    print(
        f"incident row lock: longest held {lock['longest_held_s'] * 1000:.1f} ms; {lock['refused']} of "
        f"{lock['probes']:,} NOWAIT probes refused over the first 10 s"
    )
    print(
        f"a note while the fan-out runs: median {median(during_notes) * 1000:.1f} ms, max "
        f"{during_notes[-1] * 1000:.1f} ms ({median(during_notes) / median(reference_notes):.2f}x the reference)"
    )
    print(
        f"enqueuing process max RSS {rss_enqueue:.0f} MiB (after setup {rss_before:.0f} MiB); "
        f"{extra} extra deliver_due triggers; rows written by +10 s: {rows_at_commit}"
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
                "rows": subscribers,
                "update_request_s": t_commit - t0,
                "reference_note_s": median(reference_notes),
                "note_during_fanout_s": median(during_notes),
                "lock_longest_held_s": lock["longest_held_s"],
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
        "update_request_s": round(info["update_request_s"], 3),
        "reference_note_s": round(info["reference_note_s"], 4),
        "update_request_vs_reference": round(info["update_request_s"] / info["reference_note_s"], 1),
        "incident_lock_longest_held_s": round(info["lock_longest_held_s"], 4),
        "note_during_fanout_s": round(info["note_during_fanout_s"], 4),
        "note_during_vs_reference": round(info["note_during_fanout_s"] / info["reference_note_s"], 2),
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
