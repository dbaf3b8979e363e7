"""Declaring an incident (issue 11) without a <select> of every component and staff member: the commander comes
from a people search or an exact username/email, the affected components from a search that keeps what was
already picked; the page stays the same size however many components and staff there are, works without
JavaScript ("Find" posts the form and declares nothing), and refuses what it must with a 4xx and no incident."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opsportal.incidents.models import Incident
from statuspage.models import Component
from tests.portal.test_war_room_pickers import CONTROL, _many_components_and_staff

pytestmark = pytest.mark.django_db

DECLARE = reverse("portal:incident_declare")
COMPONENTS = reverse("portal:declare_component_search")
PEOPLE = reverse("portal:declare_person_search")


@pytest.fixture
def responder(rob, client_for):
    return client_for(rob)


@pytest.fixture
def checkout(db):
    return Component.objects.create(name="Checkout")


@pytest.fixture
def payments(db):
    return Component.objects.create(name="Payments API")


def test_declare_page_does_not_grow_with_components_or_staff(responder):
    with CaptureQueriesContext(connection) as few:
        small = responder.get(DECLARE)
    _many_components_and_staff(300)
    with CaptureQueriesContext(connection) as many:
        large = responder.get(DECLARE)
    assert small.status_code == large.status_code == 200
    page = large.content.decode()
    assert len(many) == len(few)
    assert "Bulk service" not in page and "engineer0" not in page
    assert page.count("<option") == small.content.decode().count("<option") < 20


def test_declare_with_picked_components_and_a_commander_from_the_search(responder, irene, checkout, payments):
    response = responder.post(
        DECLARE,
        {
            "title": "Checkout errors",
            "severity": "P1",
            "commander": irene.pk,
            f"impact_{checkout.pk}": "major_outage",
            f"impact_{payments.pk}": "",  # a match left "Not affected"
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert [(a.component, a.impact) for a in incident.affected_components.all()] == [
        (checkout, "major_outage")
    ]
    assert incident.role_assignments.get(role="commander").user == irene


def test_declare_without_javascript_names_the_commander_by_username(responder, irene):
    response = responder.post(DECLARE, {"title": "DB slow", "severity": "P2", "commander_person": "IRENE"})
    assert response.status_code == 302
    assert Incident.objects.get().role_assignments.get(role="commander").user == irene


@pytest.mark.parametrize(
    "extra",
    [
        {"commander_person": "nobody-here"},
        {"commander": 10**30},
        {"impact_999999": "major_outage"},
        {"commander_person": "irene\x1b[31m"},
    ],
)
def test_declare_refuses_unknown_people_and_components_and_saves_nothing(responder, irene, extra):
    response = responder.post(DECLARE, {"title": "DB slow", "severity": "P2", **extra})
    assert response.status_code == 400
    assert Incident.objects.count() == 0


def test_find_without_javascript_shows_matches_keeps_picks_and_declares_nothing(
    responder, checkout, payments
):
    response = responder.post(
        DECLARE,
        {"title": "Checkout errors", "severity": "P2", "component_query": "pay", f"impact_{checkout.pk}": "partial_outage", "find": "components"},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and Incident.objects.count() == 0
    assert f'name="impact_{checkout.pk}"' in page and f'name="impact_{payments.pk}"' in page
    assert page.index("Checkout") < page.index("Payments API")  # what was picked stays first
    assert 'value="Checkout errors"' in page  # the rest of the form is kept


def test_component_search_keeps_picks_and_lists_at_most_twenty(responder, checkout):
    Component.objects.bulk_create(Component(name=f"Search node {i:02d}", position=i) for i in range(30))
    response = responder.get(
        COMPONENTS, {"component_query": "node", f"impact_{checkout.pk}": "degraded_performance"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<select") == 21  # the picked one, then 20 matches
    assert 'value="degraded_performance" selected' in page
    assert "type more" in page
    # A match left "Not affected" is not kept by the next search.
    unpicked = Component.objects.get(name="Search node 00")
    again = responder.get(
        COMPONENTS, {"component_query": "Checkout", f"impact_{unpicked.pk}": ""}
    ).content.decode()
    assert "Search node 00" not in again and "Checkout" in again


def test_component_search_queries_do_not_grow_with_picks(responder, django_assert_max_num_queries):
    components = Component.objects.bulk_create(
        Component(name=f"Picked {i:02d}", position=i) for i in range(40)
    )
    picks = {f"impact_{c.pk}": "partial_outage" for c in components}
    with django_assert_max_num_queries(7):
        assert responder.get(COMPONENTS, {"component_query": "x", **picks}).status_code == 200


def test_person_search_offers_commanders_as_choices_of_the_form(responder, irene):
    page = responder.get(PEOPLE, {"commander_person": "ire"}).content.decode()
    assert f'name="commander" value="{irene.pk}"' in page


@pytest.mark.parametrize("url,field", [(COMPONENTS, "component_query"), (PEOPLE, "commander_person")])
@pytest.mark.parametrize("query", [*(f"a{c}b" for c in CONTROL), "x" * 101])
def test_declare_searches_refuse_hostile_queries(responder, url, field, query):
    response = responder.get(url, {field: query})
    assert response.status_code == 400


@pytest.mark.parametrize("url", [COMPONENTS, PEOPLE, DECLARE])
def test_declare_searches_are_for_responders(client_for, vera, url):
    assert client_for(vera).get(url).status_code == 403
    assert client_for(None).get(url).status_code in (302, 403)
