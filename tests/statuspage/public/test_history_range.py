"""/history/ and the public incident list at the edges of their ranges (issue 11: ranges, not __date)."""

from datetime import UTC, datetime

import pytest
import time_machine

from opsportal.incidents import services
from opsportal.incidents.models import Incident
from statuspage.models import Component

pytestmark = pytest.mark.django_db


def _public(actor, title, started_at, updates=1):
    incident = services.incident_declare(actor=actor, title="internal", severity="P2", public_title=title)
    for n in range(updates):
        services.incident_post_update(
            actor=actor, incident=incident, status="investigating", body=f"Update {n}", component_statuses=[]
        )
    Incident.objects.filter(pk=incident.pk).update(started_at=started_at)
    return incident


@time_machine.travel(datetime(2026, 6, 15, 12, tzinfo=UTC), tick=False)
def test_history_lists_each_incident_of_its_months_once_edges_included(client, rob):
    _public(rob, "Before the months", datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC))
    _public(rob, "First second of March", datetime(2026, 3, 1, tzinfo=UTC))
    _public(rob, "Three updates in April", datetime(2026, 4, 10, tzinfo=UTC), updates=3)
    _public(rob, "Last second of May", datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC))
    _public(rob, "After the months", datetime(2026, 6, 1, tzinfo=UTC))

    page = client.get("/history/?before=2026-05").content.decode()

    assert page.count("First second of March") == 1
    assert page.count("Three updates in April") == 1
    assert page.count("Last second of May") == 1
    assert "Before the months" not in page
    assert "After the months" not in page


def test_v2_incidents_list_each_public_incident_once_newest_first(client, rob):
    _public(rob, "Older", datetime(2026, 1, 1, tzinfo=UTC), updates=3)
    _public(rob, "Newer", datetime(2026, 2, 1, tzinfo=UTC), updates=2)
    services.incident_declare(actor=rob, title="quiet", severity="P3", public_title="Not public")

    names = [row["name"] for row in client.get("/api/v2/incidents.json").json()["incidents"]]

    assert names == ["Newer", "Older"]


def test_the_api_component_filter_counts_each_incident_once(api, rob, make_token):
    checkout = Component.objects.create(name="Checkout")
    incident = services.incident_declare(
        actor=rob, title="Card failures", severity="P1", components=[(checkout, "partial_outage")]
    )
    services.incident_declare(actor=rob, title="Elsewhere", severity="P3")
    token = make_token(rob, "incidents:read")

    body = api.get(f"/api/v1/incidents/?component={checkout.pk}", token=token).json()

    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [incident.pk]
