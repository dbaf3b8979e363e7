"""Post-mortems through API v1: start, edit, review, publish (once resolved), action items, then close."""

import pytest

from opsportal.incidents import services
from opsportal.incidents.models import Postmortem

pytestmark = pytest.mark.django_db

SECTIONS = {
    "summary": "Card payments failed for 20 minutes.",
    "customer_impact": "Merchants could not take card payments.",
    "root_cause": "An expired certificate at the acquirer gateway.",
}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.fixture
def p0(rob, irene):
    return services.incident_declare(actor=rob, title="Payments down", severity="P0", commander=irene)


@pytest.fixture
def tokens(rob, irene, make_token):
    return {"rob": make_token(rob, "incidents:write"), "irene": make_token(irene, "incidents:write")}


def pm_url(incident, action=""):
    return f"/api/v1/incidents/{incident.pk}/postmortem/" + (f"{action}/" if action else "")


def _patch(api, path, data, token):
    return api.client.patch(
        path, data=data, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


def test_postmortem_flow_from_start_to_publishing_then_closing_a_p0(api, rob, irene, p0, tokens):
    assert_problem(api.get(pm_url(p0), token=tokens["rob"]), 404)
    services.incident_add_note(actor=rob, incident=p0, body="Certificate expired at 09:00", pinned=True)

    started = api.post(pm_url(p0), token=tokens["rob"])
    assert started.status_code == 201, started.content
    assert started.json()["status"] == "draft"
    assert "Certificate expired" in started.json()["timeline"]
    assert api.post(pm_url(p0), token=tokens["rob"]).status_code == 200  # starting twice is harmless

    edited = _patch(api, pm_url(p0), SECTIONS, tokens["rob"])
    assert edited.status_code == 200, edited.content
    assert edited.json()["root_cause"] == SECTIONS["root_cause"]
    assert "non_field_errors" in assert_problem(_patch(api, pm_url(p0), {}, tokens["rob"]), 400)["errors"]

    item = api.post(
        pm_url(p0, "action-items"),
        {"title": "Alert on certificate expiry", "owner": "rob", "due_date": "2030-01-31"},
        token=tokens["rob"],
    )
    assert item.status_code == 201, item.content
    assert item.json()["action_items"][0] == {
        "id": item.json()["action_items"][0]["id"],
        "title": "Alert on certificate expiry",
        "owner": "rob",
        "due_date": "2030-01-31",
        "status": "open",
    }
    ghost = api.post(pm_url(p0, "action-items"), {"title": "x", "owner": "ghost"}, token=tokens["rob"])
    assert "owner" in assert_problem(ghost, 400)["errors"]

    review = api.post(pm_url(p0, "transition"), {"status": "in_review"}, token=tokens["rob"])
    assert review.json()["status"] == "in_review"

    # Publishing waits for the incident to be resolved, and needs a commander.
    early = api.post(pm_url(p0, "transition"), {"status": "published"}, token=tokens["irene"])
    assert "resolved" in assert_problem(early, 409)["detail"]
    closing = api.post(
        f"/api/v1/incidents/{p0.pk}/transition/", {"status": "investigating"}, token=tokens["irene"]
    )
    assert closing.status_code == 200
    api.post(f"/api/v1/incidents/{p0.pk}/transition/", {"status": "resolved"}, token=tokens["irene"])
    too_early = api.post(
        f"/api/v1/incidents/{p0.pk}/transition/", {"status": "closed"}, token=tokens["irene"]
    )
    assert "post-mortem" in assert_problem(too_early, 409)["detail"]
    assert_problem(api.post(pm_url(p0, "transition"), {"status": "published"}, token=tokens["rob"]), 403)

    published = api.post(pm_url(p0, "transition"), {"status": "published"}, token=tokens["irene"])
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published" and published.json()["published_at"]
    assert api.get(f"/api/v1/incidents/{p0.pk}/", token=tokens["rob"]).json()["public_status"] == "postmortem"
    assert_problem(_patch(api, pm_url(p0), {"summary": "changed"}, tokens["rob"]), 409)

    closed = api.post(f"/api/v1/incidents/{p0.pk}/transition/", {"status": "closed"}, token=tokens["irene"])
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]


def test_publishing_with_empty_sections_is_400_naming_them(api, irene, p0, tokens):
    api.post(pm_url(p0), token=tokens["irene"])
    api.post(pm_url(p0, "transition"), {"status": "in_review"}, token=tokens["irene"])
    for status in ("investigating", "resolved"):
        services.incident_transition(actor=irene, incident=p0, status=status)
    response = api.post(pm_url(p0, "transition"), {"status": "published"}, token=tokens["irene"])
    assert {"customer_impact", "root_cause"} <= set(assert_problem(response, 400)["errors"])
    assert Postmortem.objects.get().status == "in_review"


def test_a_draft_cannot_jump_to_published(api, p0, tokens):
    api.post(pm_url(p0), token=tokens["irene"])
    response = api.post(pm_url(p0, "transition"), {"status": "published"}, token=tokens["irene"])
    assert_problem(response, 409)
    bad = api.post(pm_url(p0, "transition"), {"status": "done"}, token=tokens["irene"])
    assert "status" in assert_problem(bad, 400)["errors"]
