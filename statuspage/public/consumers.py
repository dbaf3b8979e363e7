"""The public page's WebSocket: anyone may listen; it only ever says "something public changed"."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from statuspage.public.publishing import PUBLIC_GROUP


class StatusPageConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add(PUBLIC_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(PUBLIC_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("kind") == "ping":
            await self.send_json({"kind": "pong"})

    async def live_event(self, message):
        # Only the kind and reason go out; browsers fetch the (cached, public) page to see what changed.
        event = message["event"]
        await self.send_json({"kind": event.get("kind"), "reason": event.get("reason", "")})
