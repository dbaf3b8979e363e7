"""The portal WebSocket: anonymous and role-less sockets are refused; staff get their events."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from opsportal.core.live import user_group
from opsportal.portal.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_AUTHENTICATED, PortalConsumer

pytestmark = pytest.mark.django_db(transaction=True)


def _communicator(user):
    communicator = WebsocketCommunicator(PortalConsumer.as_asgi(), "/ws/portal/")
    communicator.scope["user"] = user
    return communicator


async def _close_code(communicator) -> int:
    await communicator.connect()
    message = await communicator.receive_output(timeout=2)
    assert message["type"] == "websocket.close", message
    assert await communicator.receive_nothing(), "a refused socket gets no events"
    return message["code"]


async def test_an_anonymous_socket_is_refused_with_4401():
    assert await _close_code(_communicator(AnonymousUser())) == CLOSE_NOT_AUTHENTICATED


async def test_an_account_without_a_role_is_refused_with_4403(charlie):
    assert await _close_code(_communicator(charlie)) == CLOSE_FORBIDDEN


async def test_a_viewer_connects_and_receives_events_meant_for_them(vera):
    communicator = _communicator(vera)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["kind"] == "hello"

    from channels.layers import get_channel_layer

    await get_channel_layer().group_send(
        user_group(vera.pk), {"type": "live.event", "event": {"kind": "live_check"}}
    )
    assert await communicator.receive_json_from(timeout=2) == {"kind": "live_check"}
    await communicator.disconnect()


async def test_the_live_check_task_reaches_the_requesters_socket(vera):
    from opsportal.portal.tasks import deliver_live_check

    communicator = _communicator(vera)
    await communicator.connect()
    await communicator.receive_json_from()
    await database_sync_to_async(deliver_live_check.run)(
        user_id=vera.pk, requested_at="2026-11-27T09:00:00+00:00"
    )
    event = await communicator.receive_json_from(timeout=2)
    assert event["kind"] == "live_check"
    assert event["message"].startswith("Live check: a timer fired")
    await communicator.disconnect()


# Authority is read at the moment of use: a logout, a removed role or a deactivation closes an open socket
# at the next message or event (and at once, when the change announces itself), and no event gets through.


async def _signed_in_communicator(user):
    """A socket as the browser opens it: with the session the login created."""
    return await database_sync_to_async(_sign_in)(user)


def _sign_in(user):
    from importlib import import_module

    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    communicator = _communicator(user)
    communicator.scope["session"] = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return communicator, client


async def _connected(communicator):
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["kind"] == "hello"


async def _send_event(user):
    from channels.layers import get_channel_layer

    from opsportal.core.live import staff_group

    await get_channel_layer().group_send(
        staff_group(), {"type": "live.event", "event": {"kind": "incident_changed", "title": "internal"}}
    )


async def _closed_with(communicator) -> int:
    message = await communicator.receive_output(timeout=2)
    assert message["type"] == "websocket.close", f"expected the socket to close, got {message}"
    return message["code"]


async def test_a_socket_closes_after_its_session_signs_out_and_gets_no_more_staff_events(vera):
    communicator, client = await _signed_in_communicator(vera)
    await _connected(communicator)
    await database_sync_to_async(client.post)("/portal/logout/")
    assert await _closed_with(communicator) == CLOSE_NOT_AUTHENTICATED
    await _send_event(vera)
    assert await communicator.receive_nothing(timeout=0.2)


async def test_a_socket_closes_when_the_session_ends_even_without_a_signal(vera):
    communicator, _ = await _signed_in_communicator(vera)
    await _connected(communicator)
    # The session row goes (expiry, another tab's logout on a different process): the next event checks.
    await database_sync_to_async(communicator.scope["session"].delete)()
    await _send_event(vera)
    assert await _closed_with(communicator) == CLOSE_NOT_AUTHENTICATED


async def test_removing_the_role_closes_the_open_socket_at_once(rob):
    from opsportal.core.services import SYSTEM, staff_set_role

    communicator, _ = await _signed_in_communicator(rob)
    await _connected(communicator)
    await database_sync_to_async(staff_set_role)(actor=SYSTEM, user=rob, role=None)
    assert await _closed_with(communicator) == CLOSE_FORBIDDEN
    await _send_event(rob)
    assert await communicator.receive_nothing(timeout=0.2)


async def test_a_message_from_a_deactivated_account_closes_the_socket(rob):
    communicator, _ = await _signed_in_communicator(rob)
    await _connected(communicator)

    def deactivate():
        rob.is_active = False
        rob.save(update_fields=["is_active"])

    await database_sync_to_async(deactivate)()
    await communicator.send_json_to({"kind": "ping"})
    assert await _closed_with(communicator) == CLOSE_NOT_AUTHENTICATED


async def test_a_socket_whose_authority_holds_keeps_its_events(rob):
    communicator, _ = await _signed_in_communicator(rob)
    await _connected(communicator)
    await _send_event(rob)
    assert (await communicator.receive_json_from(timeout=2))["kind"] == "incident_changed"
    await communicator.send_json_to({"kind": "ping"})
    assert (await communicator.receive_json_from(timeout=2))["kind"] == "pong"
    await communicator.disconnect()
