"""Real peers on loopback for the transport tests: a scripted HTTP server in a thread, and message helpers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opsportal.notifications.models import Delivery
from opsportal.notifications.services import Recipient, notification_enqueue


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpSink:
    """Answers each request with the next reply scripted for its path (the last one repeats)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    replies: dict[str, list[tuple[int, dict, bytes]]] = field(default_factory=dict)
    connections: set = field(default_factory=set)

    def reply(self, path: str, *answers: tuple[int, dict, bytes]) -> None:
        self.replies[path] = list(answers)

    def next_reply(self, path: str) -> tuple[int, dict, bytes]:
        answers = self.replies.get(path) or [(200, {}, b"ok")]
        return answers.pop(0) if len(answers) > 1 else answers[0]


@pytest.fixture
def http_sink():
    sinks = []

    def start() -> HttpSink:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so a batch can reuse one connection

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                sink.connections.add(self.client_address)
                sink.requests.append(
                    Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status, headers, payload = sink.next_reply(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        sink = HttpSink(url=f"http://127.0.0.1:{server.server_address[1]}")
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        sinks.append((server, thread))
        return sink

    yield start
    for server, thread in sinks:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# What the recipients' owner hands the delivery engine at send time (signed links, signing secrets): the
# notifications tests play that owner through this table instead of the status page.
SEND_CONTEXT: dict[str, dict] = {}


def send_context_lookup(*, refs, slots) -> dict[str, dict]:
    return {ref: SEND_CONTEXT[ref] for ref in refs if ref in SEND_CONTEXT}


def send_context_broken(*, refs, slots) -> dict[str, dict]:
    raise RuntimeError("the owner's database is having a moment")


@pytest.fixture
def send_context(settings):
    # One hook per ref prefix, as settings name them ("subscriber:12" goes to the status page's hook).
    settings.NOTIFICATIONS_RECIPIENT_CONTEXT = {
        "subscriber": "tests.notifications.conftest.send_context_lookup"
    }
    SEND_CONTEXT.clear()
    yield SEND_CONTEXT
    SEND_CONTEXT.clear()


@pytest.fixture
def enqueue(db):
    counter = iter(range(1, 1_000_000))

    def make(*recipients: Recipient, payload: dict | None = None, **fields):
        n = next(counter)
        message = notification_enqueue(
            kind=fields.pop("kind", "incident_update"),
            dedupe_key=fields.pop("dedupe_key", f"test-message-{n}"),
            subject=fields.pop("subject", "Checkout is degraded"),
            text=fields.pop("text", "We are investigating slow checkouts."),
            html=fields.pop("html", ""),
            payload=payload,
            recipients=recipients,
        )
        return message

    return make


def delivery_of(message, address: str | None = None) -> Delivery:
    rows = message.deliveries.all()
    if address is not None:
        rows = rows.filter(address=address)
    return rows.get()
