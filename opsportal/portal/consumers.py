"""The portal's WebSocket: signed-in staff only; events for all staff and for this person."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from opsportal.core.live import staff_group, user_group

# Close codes in the 4000 range are ours: 4401 not signed in, 4403 no portal access.
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class PortalConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def connect(self):
        self.groups_joined = []
        user = self.scope.get("user")
        # Accept, then close with our code: a refused handshake reaches the browser only as 1006,
        # and the page could not tell "signed out" (stop retrying) from a network blip (retry).
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        allowed = await database_sync_to_async(user.has_perm)("core.access_portal")
        if not allowed:
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        for group in (staff_group(), user_group(user.pk)):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        await self.send_json({"kind": "hello", "user": user.get_username()})

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The socket is for server-to-browser events; browsers act through htmx forms.
        if content.get("kind") == "ping":
            await self.send_json({"kind": "pong"})

    async def live_event(self, message):
        await self.send_json(message["event"])
