"""The portal's WebSocket: signed-in staff only; events for all staff and for this person.

Authority is read at the moment of use: every message in and every event out first checks that the
session still exists and the person still holds a portal role; when either is gone the socket closes
(4401 signed out, 4403 no role) and the event is not sent."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from opsportal.core.identity_selectors import (
    PORTAL_FORBIDDEN,
    PORTAL_OK,
    PORTAL_SIGNED_OUT,
    portal_access_now,
)
from opsportal.core.live import staff_group, user_group
from opsportal.core.roles import ACCESS_PORTAL
from opsportal.incidents.models import Incident
from opsportal.incidents.services import incident_group

# Close codes in the 4000 range are ours: 4401 not signed in, 4403 no portal access.
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_CODES = {PORTAL_SIGNED_OUT: CLOSE_NOT_AUTHENTICATED, PORTAL_FORBIDDEN: CLOSE_FORBIDDEN}


def _may_follow(user, incident_id: int) -> bool:
    if user is None or not user.is_authenticated:
        return False
    # A fresh read of the user: the scope's copy caches permissions from connect time.
    fresh = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    return (
        fresh is not None
        and fresh.has_perm(ACCESS_PORTAL)
        and Incident.objects.filter(pk=incident_id).exists()
    )


class PortalConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]
    closed: bool = False

    async def _access_now(self) -> str:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return PORTAL_SIGNED_OUT
        session = self.scope.get("session")
        return await database_sync_to_async(portal_access_now)(
            user_id=user.pk, session_key=getattr(session, "session_key", None)
        )

    async def _still_allowed(self) -> bool:
        """Check authority now; close the socket (once) when it is gone."""
        if self.closed:
            return False
        access = await self._access_now()
        if access == PORTAL_OK:
            return True
        self.closed = True
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []
        await self.close(code=CLOSE_CODES[access])
        return False

    async def connect(self):
        self.groups_joined = []
        user = self.scope.get("user")
        # Accept, then close with our code: a refused handshake reaches the browser only as 1006,
        # and the page could not tell "signed out" (stop retrying) from a network blip (retry).
        access = await self._access_now()
        if access != PORTAL_OK:
            await self.accept()
            self.closed = True
            await self.close(code=CLOSE_CODES[access])
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
        # The socket is for server-to-browser events; browsers act through htmx forms. The only
        # messages in are a ping and a subscription to one incident's changes.
        if not await self._still_allowed():
            return
        kind = content.get("kind") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"kind": "pong"})
        elif kind == "subscribe":
            await self._subscribe(content.get("incident"))

    async def _subscribe(self, incident_id) -> None:
        if not isinstance(incident_id, int) or isinstance(incident_id, bool):
            await self.send_json({"kind": "error", "detail": "subscribe needs an incident id."})
            return
        user = self.scope.get("user")
        # Roles change while a tab stays open: check again rather than trust the handshake.
        allowed = await database_sync_to_async(_may_follow)(user, incident_id)
        if not allowed:
            await self.send_json({"kind": "error", "detail": f"Cannot follow incident {incident_id}."})
            return
        group = incident_group(incident_id)
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.send_json({"kind": "subscribed", "incident": incident_id})

    async def live_event(self, message):
        if await self._still_allowed():
            await self.send_json(message["event"])

    async def authority_check(self, message):
        """Sent when a role changes or someone signs out: close at once rather than at the next event."""
        await self._still_allowed()
