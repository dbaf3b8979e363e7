"""Internal titles, summaries and notes never reach a public surface; public updates do."""

import pytest

from opsportal.incidents import services
from opsportal.incidents.postmortems import postmortem_edit, postmortem_start, postmortem_transition
from statuspage.models import Component

pytestmark = pytest.mark.django_db

SECRETS = ("SECRET-title", "SECRET-summary", "SECRET-note", "SECRET-postmortem-root-cause", "irene")


@pytest.fixture
def public_incident(rob, irene):
    checkout = Component.objects.create(name="Checkout")
    incident = services.incident_declare(
        actor=rob,
        title="SECRET-title: db primary OOM",
        summary="SECRET-summary",
        severity="P1",
        public_title="Checkout errors",
        commander=irene,
    )
    services.incident_add_note(actor=rob, incident=incident, body="SECRET-note: failing over", pinned=True)
    services.incident_post_update(
        actor=rob,
        incident=incident,
        status="investigating",
        body="We are looking into it.",
        component_statuses=[(checkout, "major_outage")],
    )
    return incident


@pytest.fixture
def quiet_incident(rob):
    """Declared, but nothing said in public yet."""
    return services.incident_declare(
        actor=rob, title="SECRET-title quiet", severity="P2", public_title="Not yet public"
    )


def public_paths(incident):
    # Every public surface that can show an incident.
    v2 = [
        "summary",
        "status",
        "components",
        "incidents",
        "incidents/unresolved",
        "scheduled-maintenances",
        "scheduled-maintenances/upcoming",
        "scheduled-maintenances/active",
    ]
    return [
        "/",
        f"/incidents/{incident.pk}/",
        "/history/",
        "/history.rss",
        "/history.atom",
        "/maintenance.ics",
        *[f"/api/v2/{name}.json" for name in v2],
    ]


def test_public_surfaces_show_public_updates_and_nothing_internal(client, public_incident, quiet_incident):
    for path in public_paths(public_incident):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        if path in (
            "/",
            f"/incidents/{public_incident.pk}/",
            "/history.rss",
            "/history.atom",
            "/api/v2/summary.json",
            "/api/v2/incidents.json",
        ):
            assert "Checkout errors" in html, path
        for secret in SECRETS:
            assert secret not in html, (path, secret)
        assert "Not yet public" not in html, path


def test_an_incident_with_nothing_public_has_no_public_page(client, quiet_incident):
    assert client.get(f"/incidents/{quiet_incident.pk}/").status_code == 404


def test_a_published_postmortem_attaches_only_its_public_summary(client, public_incident, rob, irene):
    services.incident_transition(actor=rob, incident=public_incident, status="resolved")
    postmortem = postmortem_start(actor=rob, incident=public_incident)
    postmortem_edit(
        actor=rob,
        postmortem=postmortem,
        summary="s",
        customer_impact="c",
        root_cause="SECRET-postmortem-root-cause",
        public_summary="A config push exhausted memory.",
    )
    postmortem_transition(actor=rob, postmortem=postmortem, status="in_review")
    postmortem_transition(actor=irene, postmortem=postmortem, status="published")
    html = client.get(f"/incidents/{public_incident.pk}/").content.decode()
    assert "A config push exhausted memory." in html
    assert "Postmortem" in html or "Post-mortem" in html
    assert "SECRET-postmortem-root-cause" not in html
