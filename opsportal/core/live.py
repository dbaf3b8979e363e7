"""Live updates: broadcast an event to WebSocket groups once the transaction that caused it commits."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def broadcast_now(group: str, event: dict) -> None:
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, {"type": "live.event", "event": event})


def broadcast_on_commit(group: str, event: dict) -> None:
    """Readers never see an event for a change that was rolled back."""
    transaction.on_commit(lambda: broadcast_now(group, event))


_pending: set[asyncio.Task] = set()


def announce_authority_changed(user_id: int) -> None:
    """Ask every open socket of this person to check, now, whether they may still listen (a role changed,
    they signed out, they were deactivated). Sent once the change commits."""

    def send() -> None:
        layer = get_channel_layer()
        message = {"type": "authority.check"}
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            async_to_sync(layer.group_send)(user_group(user_id), message)
        else:  # sync code running on an event loop's thread (a browser test's setup): the loop sends it
            task = loop.create_task(layer.group_send(user_group(user_id), message))
            _pending.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(_pending.discard)

    transaction.on_commit(send)


def staff_group() -> str:
    return "staff"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"
