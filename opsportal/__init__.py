"""opsportal: the project package (settings, urls, asgi, routing, celery) and the shared apps."""

from opsportal.celery import app as celery_app

__all__ = ("celery_app",)
