"""The portal socket's incident subscription: staff who still hold portal access follow one incident."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from opsportal.core.live import broadcast_now
from opsportal.core.services import SYSTEM, staff_set_role
from opsportal.incidents.models import Incident
from opsportal.portal.consumers import CLOSE_FORBIDDEN, PortalConsumer

pytestmark = pytest.mark.django_db(transaction=True)


async def _connected(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(PortalConsumer.as_asgi(), "/ws/portal/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["kind"] == "hello"
    return communicator


async def test_incident_subscribe_delivers_that_incidents_events(vera):
    incident = await database_sync_to_async(Incident.objects.create)(title="DB down", public_title="DB down")
    communicator = await _connected(vera)
    await communicator.send_json_to({"kind": "subscribe", "incident": incident.pk})
    assert await communicator.receive_json_from() == {"kind": "subscribed", "incident": incident.pk}

    event = {"kind": "incident.changed", "incident": incident.pk, "what": "note"}
    await database_sync_to_async(broadcast_now)(f"incident-{incident.pk}", event)

    assert await communicator.receive_json_from() == event
    await communicator.disconnect()


async def test_incident_subscribe_refuses_unknown_incident_and_lost_access(vera):
    communicator = await _connected(vera)
    await communicator.send_json_to({"kind": "subscribe", "incident": 999})
    assert (await communicator.receive_json_from())["kind"] == "error"

    incident = await database_sync_to_async(Incident.objects.create)(title="DB down", public_title="DB down")
    await database_sync_to_async(staff_set_role)(actor=SYSTEM, user=vera, role=None)
    # Losing the role closes the socket at once: no subscription, no events.
    closed = await communicator.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    await communicator.send_json_to({"kind": "subscribe", "incident": incident.pk})
    await database_sync_to_async(broadcast_now)(f"incident-{incident.pk}", {"kind": "incident.changed"})
    assert await communicator.receive_nothing()
