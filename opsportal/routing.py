"""WebSocket routes of every app."""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from opsportal.portal.consumers import PortalConsumer
from statuspage.public.consumers import StatusPageConsumer


class NoSocketHere(AsyncWebsocketConsumer):
    """Any other path: refuse the handshake (the client sees HTTP 403) instead of letting the router raise."""

    channel_layer_alias = None  # a refused socket needs no channel (and no Redis round trip)

    async def connect(self):
        await self.close()


websocket_urlpatterns = [
    path("ws/portal/", PortalConsumer.as_asgi()),
    path("ws/status/", StatusPageConsumer.as_asgi()),
    re_path(r"", NoSocketHere.as_asgi()),
]
