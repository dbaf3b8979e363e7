"""WebSocket routes of every app."""

from django.urls import path

from opsportal.portal.consumers import PortalConsumer
from statuspage.public.consumers import StatusPageConsumer

websocket_urlpatterns = [
    path("ws/portal/", PortalConsumer.as_asgi()),
    path("ws/status/", StatusPageConsumer.as_asgi()),
]
