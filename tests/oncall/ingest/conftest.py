"""Ingestion fixtures: one integration of each kind on the Payments team, and a client that posts JSON."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from oncall.intake import alert_events_apply_queued
from oncall.models import Integration, IntegrationKind


@pytest.fixture
def make_integration(team):
    def make(kind: str, **kwargs) -> Integration:
        return Integration.objects.create(
            team=team, name=kwargs.pop("name", f"{kind} door"), kind=kind, **kwargs
        )

    return make


@pytest.fixture
def pagerduty_integration(make_integration):
    return make_integration(IntegrationKind.PAGERDUTY)


@pytest.fixture
def alertmanager_integration(make_integration):
    return make_integration(IntegrationKind.ALERTMANAGER)


@pytest.fixture
def generic_integration(make_integration):
    return make_integration(IntegrationKind.GENERIC)


@pytest.fixture
def heartbeat_integration(make_integration):
    return make_integration(IntegrationKind.HEARTBEAT)


@pytest.fixture
def door():
    """A client as monitoring is: no session, CSRF checks on (the doors are exempt), JSON bodies."""

    class Door:
        def __init__(self):
            self.client = Client(enforce_csrf_checks=True)

        def post_json(self, path, body, *, intake=True, **kwargs):
            """POST; for /v2/enqueue also run the intake, as the worker its commit starts does (the test's
            transaction never commits, so that start is not made here). intake=False: just the door."""
            data = body if isinstance(body, bytes | str) else json.dumps(body)
            response = self.client.post(
                path, data, content_type=kwargs.pop("content_type", "application/json"), **kwargs
            )
            if intake and path.startswith("/v2/enqueue"):
                alert_events_apply_queued()
            return response

        def __getattr__(self, name):
            return getattr(self.client, name)

    return Door()
