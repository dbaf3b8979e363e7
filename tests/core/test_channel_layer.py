"""Live updates sent from background threads reach WebSocket consumers promptly."""

import asyncio
import threading

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from opsportal.core.live import broadcast_now


@pytest.mark.skipif(settings.RUNNING_MODE != "embedded", reason="the embedded layer is tier 1's")
async def test_a_broadcast_from_another_thread_wakes_the_waiting_receiver():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("staff", channel)
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)  # the receiver is now parked on this loop

    sender = threading.Thread(target=broadcast_now, args=("staff", {"kind": "test", "n": 1}))
    sender.start()
    message = await asyncio.wait_for(receiving, timeout=2)
    await asyncio.to_thread(sender.join)  # the send finishes on this loop, so do not block it
    assert message["event"] == {"kind": "test", "n": 1}
    await layer.flush()
