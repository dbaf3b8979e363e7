"""A domain write announces "public content changed" through core; the public door, registered at startup,
bumps the version on commit. The domain never needs the door to be there."""

import pytest
from django.db import transaction

from opsportal.core import public_content
from statuspage.models import Component
from statuspage.public.publishing import public_version
from statuspage.services import component_set_status

pytestmark = pytest.mark.django_db


def test_public_content_changed_reaches_the_door_when_the_write_commits(
    rob, django_capture_on_commit_callbacks
):
    component = Component.objects.create(name="Checkout")
    before = public_version()
    with django_capture_on_commit_callbacks(execute=True):
        component_set_status(actor=rob, component=component, status="major_outage", notify=False)
    assert public_version() > before


def test_public_content_changed_says_nothing_for_a_rolled_back_write(rob, django_capture_on_commit_callbacks):
    component = Component.objects.create(name="Checkout")
    before = public_version()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        component_set_status(actor=rob, component=component, status="major_outage", notify=False)
        raise RuntimeError("the request failed after the write")
    assert callbacks == []
    assert public_version() == before
    component.refresh_from_db()
    assert component.status == "operational"


def test_domain_writes_work_without_a_public_door(rob, monkeypatch, django_capture_on_commit_callbacks):
    # As if statuspage.public were not installed: nothing listens, and the write still succeeds.
    monkeypatch.setattr(public_content, "_listeners", [])
    component = Component.objects.create(name="Checkout")
    before = public_version()
    with django_capture_on_commit_callbacks(execute=True):
        component_set_status(actor=rob, component=component, status="degraded_performance", notify=False)
    component.refresh_from_db()
    assert component.status == "degraded_performance"
    assert public_version() == before


def test_public_content_listen_registers_a_listener_once(monkeypatch):
    heard = []
    monkeypatch.setattr(public_content, "_listeners", [])
    public_content.public_content_listen(heard.append)
    public_content.public_content_listen(heard.append)
    public_content.public_content_changed("component.status")
    assert heard == ["component.status"]
