"""Hostile input on incidents changes nothing: control characters, line breaks in titles, oversized bodies,
ids and dates out of range are refused with a 400 (API problem or form error), and nothing is written or sent."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from opsportal.core.models import AuditEntry
from opsportal.incidents import services
from opsportal.incidents.models import Incident, PublicUpdate, TimelineEvent
from opsportal.notifications.models import Message
from statuspage.models import Component, Subscriber

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/v1/incidents/"
BIG_ID = 10**30
CONTROL = ["\x0b", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\ufffe"]


@pytest.fixture
def token(rob, make_token):
    return make_token(rob, "incidents:read,incidents:write")


@pytest.fixture
def incident(rob):
    Component.objects.create(name="Checkout")
    Subscriber.objects.create(
        channel="email", address="ana@shop.example.com", confirmed_at="2026-01-01T00:00Z"
    )
    return services.incident_declare(actor=rob, title="Checkout errors", severity="P2")


def _counts():
    return (
        Incident.objects.count(),
        PublicUpdate.objects.count(),
        TimelineEvent.objects.count(),
        Message.objects.count(),
        AuditEntry.objects.count(),
    )


def assert_refused(response, field: str):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()


# (path under the incident or "" for the list, field, a valid body to put the bad value into)
TEXT_INPUTS = [
    ("", "title", {"title": "ok", "severity": "P2"}),
    ("", "public_title", {"title": "ok", "severity": "P2", "public_title": "ok"}),
    ("", "summary", {"title": "ok", "severity": "P2", "summary": "ok"}),
    ("updates/", "body", {"status": "identified", "body": "ok"}),
    ("notes/", "body", {"body": "ok"}),
    ("transition/", "note", {"status": "investigating", "note": "ok"}),
    ("severity/", "reason", {"severity": "P1", "reason": "ok"}),
]
SINGLE_LINE = {"title", "public_title", "note", "reason"}


def _path(incident, suffix: str) -> str:
    return f"{INCIDENTS}{incident.pk}/{suffix}" if suffix else INCIDENTS


@pytest.mark.parametrize("char", CONTROL)
@pytest.mark.parametrize(("suffix", "field", "body"), TEXT_INPUTS)
def test_api_text_with_control_characters_is_refused_and_changes_nothing(
    api, incident, token, suffix, field, body, char
):
    before = _counts()
    response = api.post(_path(incident, suffix), {**body, field: f"Checkout{char}down"}, token=token)
    assert_refused(response, field)
    assert _counts() == before


@pytest.mark.parametrize(("suffix", "field", "body"), [t for t in TEXT_INPUTS if t[1] in SINGLE_LINE])
def test_api_titles_and_one_line_fields_refuse_line_breaks(api, incident, token, suffix, field, body):
    before = _counts()
    response = api.post(
        _path(incident, suffix), {**body, field: "Checkout\nBcc: all@example.com"}, token=token
    )
    assert_refused(response, field)
    assert _counts() == before


@pytest.mark.parametrize(("suffix", "field", "body"), TEXT_INPUTS)
def test_api_text_past_its_maximum_length_is_refused(api, incident, token, suffix, field, body):
    before = _counts()
    response = api.post(_path(incident, suffix), {**body, field: "x" * 2_400_000}, token=token)
    assert response.status_code in (400, 413), response.content
    assert _counts() == before


def test_api_public_update_of_2_4_mb_is_not_fanned_out(api, incident, token):
    response = api.post(
        _path(incident, "updates/"), {"status": "identified", "body": "Slow. " * 400_000}, token=token
    )
    assert response.status_code in (400, 413)
    assert not Message.objects.exists()


def test_api_bodies_keep_tabs_and_line_breaks(api, incident, token):
    response = api.post(
        _path(incident, "updates/"), {"status": "identified", "body": "Cause:\r\n\tcard network"}, token=token
    )
    assert response.status_code == 201, response.content
    assert PublicUpdate.objects.get().body == "Cause:\n\tcard network"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("public_title", "Checkout\ndown"),
        ("title", "a\x0bb"),
        ("summary", "a\x00b"),
        ("summary", "x" * 10_001),
    ],
)
def test_services_refuse_what_the_doors_refuse(rob, field, value):
    """Whatever door writes (a command, an import, the demo), the row is checked when it is saved."""
    kwargs = {"title": "Checkout errors", "severity": "P2", field: value}
    with pytest.raises(ValidationError) as caught:
        services.incident_declare(actor=rob, **kwargs)
    assert field in caught.value.message_dict
    assert not Incident.objects.exists()


def test_service_public_update_with_vertical_tab_is_refused_and_sends_nothing(rob, incident):
    with pytest.raises(ValidationError):
        services.incident_post_update(actor=rob, incident=incident, status="identified", body="a\x0bb")
    assert not PublicUpdate.objects.exists() and not Message.objects.exists()


# Portal forms: the same rules, as form errors with a 400.


@pytest.mark.parametrize(
    ("suffix", "data", "model"),
    [
        ("updates/", {"update-status": "identified", "update-body": "a\x0bb"}, PublicUpdate),
        ("notes/", {"note-body": "a\x1bb"}, TimelineEvent),
        ("updates/", {"update-status": "identified", "update-body": "x" * 5_001}, PublicUpdate),
    ],
)
def test_portal_forms_refuse_hostile_text_with_400(client_for, rob, incident, suffix, data, model):
    before = model.objects.count()
    response = client_for(rob).post(f"/portal/incidents/{incident.pk}/{suffix}", data)
    assert response.status_code == 400
    assert model.objects.count() == before


def test_portal_declare_refuses_a_title_with_a_line_break(client_for, rob):
    response = client_for(rob).post(
        "/portal/incidents/declare/",
        {"title": "Checkout", "public_title": "Checkout\r\ndown", "severity": "P2"},
    )
    assert response.status_code in (200, 400)
    assert "single line" in response.content.decode()
    assert not Incident.objects.exists()


# Numbers and dates.

OUT_OF_RANGE_QUERIES = [
    f"?team={BIG_ID}",
    f"?component={BIG_ID}",
    "?team=-1",
    "?since=9999-12-31",
    "?until=0001-01-01",
    "?page_size=-5",
    "?page_size=0",
    "?page_size=100000000000000000000",
    f"?page={BIG_ID}",
    "?page=-1",
]


@pytest.mark.parametrize("query", OUT_OF_RANGE_QUERIES)
def test_api_list_parameters_out_of_range_answer_400(api, incident, token, query):
    response = api.get(INCIDENTS + query, token=token)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x", "severity": "P2", "team": BIG_ID},
        {"title": "x", "severity": "P2", "components": [{"id": BIG_ID, "impact": "major_outage"}]},
        {"title": "x", "severity": "P2", "started_at": "0001-01-01T00:00:00Z"},
        {"title": "x", "severity": "P2", "started_at": "9999-12-31T23:59:59Z"},
        {"title": "x", "severity": "P2", "commander": "x" * 10_000},
    ],
)
def test_api_declare_with_ids_or_dates_out_of_range_answers_400(api, token, body):
    response = api.post(INCIDENTS, body, token=token)
    assert response.status_code == 400, response.content
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        ("components/", {"component": BIG_ID, "impact": "major_outage"}),
        ("merge/", {"into": BIG_ID}),
        (
            "updates/",
            {"status": "identified", "body": "x", "components": [{"id": BIG_ID, "status": "operational"}]},
        ),
    ],
)
def test_api_actions_with_ids_beyond_64_bits_answer_400(api, incident, token, suffix, body):
    before = _counts()
    assert api.post(_path(incident, suffix), body, token=token).status_code == 400
    assert _counts() == before


@pytest.mark.parametrize("path", [f"{INCIDENTS}{BIG_ID}/", f"{INCIDENTS}{BIG_ID}/timeline/"])
def test_api_ids_beyond_64_bits_in_the_path_answer_404_not_500(api, token, path):
    assert api.get(path, token=token).status_code == 404


@pytest.mark.parametrize(
    "query",
    ["?since=9999-12-31", "?since=0001-01-01", f"?team={BIG_ID}"],
)
def test_portal_incident_list_out_of_range_filters_answer_400(client_for, vera, query):
    assert client_for(vera).get("/portal/incidents/" + query).status_code == 400


@pytest.mark.parametrize(
    "query",
    ["?period=custom&since=0001-01-01&until=9999-12-31", "?period=custom&since=2026-01-01&until=9999-12-31"],
)
def test_portal_metrics_with_year_9999_answers_400(client_for, vera, query):
    assert client_for(vera).get("/portal/metrics/" + query).status_code == 400
