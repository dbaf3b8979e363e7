"""The portal WebSocket on the real server: who is refused, and a durable timer's event reaching a socket."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from opsportal.core.roles import Role
from opsportal.core.services import job_schedule
from tests.e2e.wsclient import ConnectionClosed, HandshakeRefused, WebSocket

# A timer due in 1 s waits for the next 1 s tick, then for a worker: generous, but far from a hang.
LIVE_EVENT_TIMEOUT = 15.0


def socket_url(live_server_url: str) -> str:
    return live_server_url.replace("http://", "ws://", 1) + "/ws/portal/"


def refusal_of(url: str, headers: dict[str, str] | None = None) -> str:
    """How the server turned a socket away: "HTTP <status>" for a refused handshake, "close <code>" after it."""
    try:
        with WebSocket(url, headers=headers) as socket:
            event = socket.receive_json(timeout=5)
    except HandshakeRefused as refused:
        return f"HTTP {refused.status}"
    except ConnectionClosed as closed:
        return f"close {closed.code}"
    pytest.fail(f"the socket was accepted and sent {event!r}")


# The consumer accepts and closes at once with 4401/4403, so portal.js can tell "signed out" (stop) from a
# network blip (retry); no event is ever sent on such a socket.


def test_live_socket_refuses_anonymous_visitor(live_server_url):
    # A browser on our own page sends our Origin; without one, the origin check refuses the handshake.
    assert refusal_of(socket_url(live_server_url), headers={"Origin": live_server_url}) == "close 4401"
    assert refusal_of(socket_url(live_server_url)) == "HTTP 403"


def test_live_socket_refuses_account_without_portal_role(live_server_url, make_staff, session_cookie_for):
    cookie = session_cookie_for(make_staff("charlie", None))

    refusal = refusal_of(
        socket_url(live_server_url), headers={"Cookie": f"sessionid={cookie}", "Origin": live_server_url}
    )

    assert refusal == "close 4403"


def test_live_socket_refuses_foreign_origin(live_server_url, make_staff, session_cookie_for):
    cookie = session_cookie_for(make_staff("rob", Role.RESPONDER))

    refusal = refusal_of(
        socket_url(live_server_url),
        headers={"Cookie": f"sessionid={cookie}", "Origin": "http://attacker.example"},
    )

    # Cross-site WebSocket hijacking: another site's page must not ride on the staff member's cookie.
    assert refusal == "HTTP 403"


def test_live_socket_delivers_hello_then_timer_event(live_server_url, make_staff, session_cookie_for):
    rob = make_staff("rob", Role.RESPONDER)
    headers = {"Cookie": f"sessionid={session_cookie_for(rob)}", "Origin": live_server_url}

    with WebSocket(socket_url(live_server_url), headers=headers) as socket:
        assert socket.receive_json() == {"kind": "hello", "user": "rob"}

        requested_at = timezone.now()
        run_at = requested_at + timedelta(seconds=1)
        job_schedule(
            task="opsportal.portal.tasks.deliver_live_check",
            run_at=run_at,
            kwargs={"user_id": rob.pk, "requested_at": requested_at.isoformat()},
        )
        event = socket.receive_until("live_check", timeout=LIVE_EVENT_TIMEOUT)

    assert event["requested_at"] == requested_at.isoformat()
    assert event["message"].startswith("Live check: a timer fired in the background")
    # A durable timer never fires early.
    assert datetime.fromisoformat(event["delivered_at"]) >= run_at
