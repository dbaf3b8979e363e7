"""WebSocket routing of the full ASGI application: a path no socket lives at is refused cleanly."""

import pytest
from channels.testing import WebsocketCommunicator

from opsportal.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]


@pytest.mark.parametrize(
    "path", ["/ws/nope/", "/ws/portal/extra/", "/ws/status", "/", "/api/v1/incidents/", "/ws/" + "x" * 2000]
)
async def test_unknown_websocket_path_is_refused_without_a_server_error(path):
    communicator = WebsocketCommunicator(application, path, headers=BROWSER)
    connected, _ = await communicator.connect(timeout=5)
    assert connected is False
    # The browser's side of the close; then the application must finish at once, without raising.
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait(timeout=5)


async def test_known_websocket_path_still_connects():
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=BROWSER)
    connected, _ = await communicator.connect(timeout=5)
    assert connected is True
    await communicator.disconnect()
