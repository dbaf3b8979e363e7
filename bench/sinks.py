"""Loopback sinks for bench/fanout.sh: an SMTP server (aiosmtpd), a webhook receiver and a Twilio-shaped SMS API.

Each sink counts accepted messages per recipient so losses and duplicates are visible, and answers
GET /_stats (totals) and GET /_dump (recipient -> count) on an HTTP port. Run one sink per process so they
do not share a GIL with each other:

    python bench/sinks.py smtp    --port 8125 --stats-port 8126
    python bench/sinks.py webhook --port 8127
    python bench/sinks.py sms     --port 8128
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.received = 0
        self.first = None
        self.last = None
        self.bad = 0  # requests that were accepted but lacked what the protocol requires

    def add(self, key: str, *, ok: bool = True) -> None:
        now = time.time()
        with self.lock:
            self.counts[key] += 1
            self.received += 1
            self.bad += not ok
            self.first = self.first or now
            self.last = now

    def stats(self) -> dict:
        with self.lock:
            return {
                "received": self.received,
                "unique": len(self.counts),
                "duplicated": sum(1 for n in self.counts.values() if n > 1),
                "bad": self.bad,
                "first": self.first,
                "last": self.last,
            }

    def dump(self) -> dict:
        with self.lock:
            return dict(self.counts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the transports' HttpSession expects
    # Headers and body go out as two writes; with Nagle on, the second waits for the client's delayed ACK.
    disable_nagle_algorithm = True
    tally: Tally
    kind = ""

    def log_message(self, format, *args):
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_stats":
            self._reply(200, json.dumps(self.tally.stats()).encode())
        elif self.path == "/_dump":
            self._reply(200, json.dumps(self.tally.dump()).encode())
        else:
            self._reply(404, b"{}")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.kind == "webhook":
            # The recipient is the URL it was posted to; a signed, keyed JSON body is what a receiver checks.
            ok = bool(
                self.headers.get("Idempotency-Key")
                and self.headers.get("X-Opsportal-Signature", "").startswith("v1=")
                and body.startswith(b"{")
            )
            self.tally.add(self.path, ok=ok)
            self._reply(200, b'{"ok":true}')
        elif self.kind == "sms" and self.path.endswith("/Messages.json"):
            form = parse_qs(body.decode())
            to = form.get("To", [""])[0]
            ok = bool(to and form.get("Body") and self.headers.get("Authorization", "").startswith("Basic "))
            self.tally.add(to, ok=ok)
            sid = f"SM{self.tally.received:032x}"
            self._reply(201, json.dumps({"sid": sid, "to": to, "status": "queued"}).encode())
        else:
            self._reply(404, b'{"code":20404,"message":"not found"}')


def serve_http(kind: str, port: int, tally: Tally) -> ThreadingHTTPServer:
    handler = type(f"{kind.title()}Handler", (Handler,), {"tally": tally, "kind": kind})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    return server


def run_smtp(port: int, stats_port: int) -> None:
    from aiosmtpd.controller import Controller

    tally = Tally()

    class SinkHandler:
        async def handle_DATA(self, server, session, envelope):
            ok = b"List-Unsubscribe:" in envelope.content and b"text/html" in envelope.content
            for rcpt in envelope.rcpt_tos:
                tally.add(rcpt, ok=ok)
            return "250 OK"

    controller = Controller(SinkHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        serve_http("stats", stats_port, tally).serve_forever()
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["smtp", "webhook", "sms"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats-port", type=int, help="smtp only: where /_stats and /_dump answer")
    args = parser.parse_args()
    if args.kind == "smtp":
        run_smtp(args.port, args.stats_port)
    else:
        serve_http(args.kind, args.port, Tally()).serve_forever()


if __name__ == "__main__":
    main()
