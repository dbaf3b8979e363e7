"""The embedded mode's channel layer: in-memory, but safe to send to from background threads."""

from __future__ import annotations

import asyncio

from channels.layers import InMemoryChannelLayer


class EmbeddedChannelLayer(InMemoryChannelLayer):
    """InMemoryChannelLayer wakes receivers through asyncio futures, which only work from their own loop.

    Background threads send with async_to_sync (a different loop), so sends are handed to the loop the
    consumers receive on, the server's loop; without this a message could sit unseen until the next one.
    """

    _home_loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel):
        self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def _on_home_loop(self, coroutine):
        home = self._home_loop
        if home is None or home.is_closed() or home is asyncio.get_running_loop():
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, home))

    async def send(self, channel, message):
        return await self._on_home_loop(super().send(channel, message))

    async def group_send(self, group, message):
        return await self._on_home_loop(super().group_send(group, message))
