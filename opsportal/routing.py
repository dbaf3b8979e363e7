"""WebSocket routes of every app."""

from django.urls import path

from opsportal.portal.consumers import PortalConsumer

websocket_urlpatterns = [
    path("ws/portal/", PortalConsumer.as_asgi()),
]
