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
