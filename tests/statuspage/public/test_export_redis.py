"""Tier 2 (real Redis): exporting every incident page leaves no rendering behind in the shared cache."""

import pytest
import redis
import time_machine
from django.conf import settings
from django.test import Client

from opsportal.incidents import services as incident_services
from statuspage.public.export import FIXED_PATHS, export_statuspage

pytestmark = [pytest.mark.tier2, pytest.mark.django_db(transaction=True)]

INCIDENTS = 40


def _rendering_keys() -> list[bytes]:
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        return list(client.scan_iter(match="*statuspage:page:*", count=1000))


def test_exporting_every_incident_page_keeps_the_renderings_in_redis_bounded(tmp_path, rob):
    with time_machine.travel("2026-11-27 14:00:00+00:00", tick=False):
        for n in range(INCIDENTS):
            incident = incident_services.incident_declare(
                actor=rob, title=f"internal {n}", public_title=f"Outage {n}", severity="P3"
            )
            incident_services.incident_post_update(
                actor=rob, incident=incident, status="resolved", body="Fixed."
            )
        # Visitors open the front page and the JSON: those renderings are the cache's to keep.
        client = Client()
        for path in ("/", "/api/v2/summary.json"):
            assert client.get(path).status_code == 200
        served = set(_rendering_keys())

        full = export_statuspage(tmp_path, full=True)
        incident = incident_services.incident_declare(
            actor=rob, title="internal new", public_title="New outage", severity="P3"
        )
        incident_services.incident_post_update(
            actor=rob, incident=incident, status="investigating", body="On it."
        )
        again = export_statuspage(tmp_path)

    assert sum(path.startswith("incidents/") for path in full.written) == INCIDENTS
    assert f"incidents/{incident.pk}/index.html" in again.written
    # The export rendered every page from the database and stored none of them.
    assert set(_rendering_keys()) == served
    assert len(served) <= len(FIXED_PATHS)
