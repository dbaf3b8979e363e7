"""Live updates: broadcast an event to WebSocket groups once the transaction that caused it commits."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def broadcast_now(group: str, event: dict) -> None:
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, {"type": "live.event", "event": event})


def broadcast_on_commit(group: str, event: dict) -> None:
    """Readers never see an event for a change that was rolled back."""
    transaction.on_commit(lambda: broadcast_now(group, event))


def staff_group() -> str:
    return "staff"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"
