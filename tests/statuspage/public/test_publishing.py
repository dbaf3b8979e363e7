"""The public version moves once per commit, however many public things the transaction changed."""

import pytest
from django.db import transaction

from opsportal.core.services import SYSTEM
from opsportal.incidents.services import incident_declare, incident_post_update
from statuspage.models import Component
from statuspage.public import publishing
from statuspage.services import component_set_status

pytestmark = pytest.mark.django_db


def _version() -> int:
    return publishing._read_version()


def test_public_update_moving_five_components_bumps_the_version_once(rob, django_capture_on_commit_callbacks):
    components = [Component.objects.create(name=f"Service {n}") for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_declare(actor=rob, title="Checkout errors", severity="P2")
    before = _version()
    with django_capture_on_commit_callbacks(execute=True):
        incident_post_update(
            actor=rob,
            incident=incident,
            status="identified",
            body="A bad deploy; rolling back.",
            component_statuses=[(component, "major_outage") for component in components],
        )
    assert _version() == before + 1


def test_statuspage_changed_in_a_rolled_back_savepoint_still_bumps_once_for_the_commit(
    rob, django_capture_on_commit_callbacks
):
    first, second = Component.objects.create(name="API"), Component.objects.create(name="Dashboard")
    before = _version()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                component_set_status(actor=SYSTEM, component=first, status="major_outage", notify=False)
                raise RuntimeError("the savepoint rolls back")
        except RuntimeError:
            pass
        component_set_status(actor=SYSTEM, component=second, status="major_outage", notify=False)
    assert _version() == before + 1


def test_each_commit_bumps_the_version(django_capture_on_commit_callbacks):
    component = Component.objects.create(name="API")
    before = _version()
    for status in ("major_outage", "operational"):
        with django_capture_on_commit_callbacks(execute=True):
            component_set_status(actor=SYSTEM, component=component, status=status, notify=False)
    assert _version() == before + 2


def test_a_rolled_back_transaction_bumps_nothing(django_capture_on_commit_callbacks):
    component = Component.objects.create(name="API")
    before = _version()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                component_set_status(actor=SYSTEM, component=component, status="major_outage", notify=False)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert _version() == before
