"""The war room's search boxes (issue 11): components to add, people for a role and incidents to merge into are
found a few at a time instead of listed whole in <select>s; the page stays the same size and the same number of
queries however many components and staff there are; the forms still refuse what they must, with a 4xx and no
change; the searches are for responders only, bounded, and refuse hostile queries without a 500."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opsportal.core.models import AuditEntry
from opsportal.core.roles import Role
from opsportal.core.services import SYSTEM
from opsportal.incidents.models import (
    AffectedComponent,
    Incident,
    PublicUpdate,
    RoleAssignment,
    TimelineEvent,
)
from opsportal.incidents.services import incident_declare, incident_transition
from statuspage.models import Component, ComponentGroup

pytestmark = pytest.mark.django_db

CONTROL = ["\x00", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", "\ufffe"]
BIG_ID = 10**30


@pytest.fixture
def payments(db):
    return Component.objects.create(name="Payments API")


@pytest.fixture
def checkout(db):
    return Component.objects.create(name="Checkout")


@pytest.fixture
def incident(payments, checkout):
    return incident_declare(
        actor=SYSTEM,
        title="Card payments failing",
        severity="P2",
        components=[(payments, "partial_outage")],
    )


@pytest.fixture
def responder(rob, client_for):
    return client_for(rob)


def _url(name: str, incident: Incident) -> str:
    return reverse(f"portal:{name}", args=[incident.pk])


def _search(client, name: str, incident: Incident, field: str, text: str):
    return client.get(_url(name, incident), {field: text}, headers={"HX-Request": "true"})


def _values(response, field: str) -> list[str]:
    return re.findall(rf'name="{field}" value="(\d+)"', response.content.decode())


def _shows_an_error(response) -> bool:
    content = response.content.decode()
    return 'class="form-errors" role="alert"' in content or 'class="errorlist"' in content


def _changes():
    return (
        AffectedComponent.objects.count(),
        RoleAssignment.objects.count(),
        Incident.objects.filter(status="merged").count(),
        PublicUpdate.objects.count(),
        TimelineEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def _many_components_and_staff(count: int) -> None:
    """`count` components in groups and `count` responders, written in bulk."""
    groups = ComponentGroup.objects.bulk_create(ComponentGroup(name=f"Region {i}") for i in range(10))
    Component.objects.bulk_create(
        Component(name=f"Bulk service {i:03d}", group=groups[i % 10], position=i) for i in range(count)
    )
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"engineer{i:03d}", email=f"engineer{i:03d}@ops.example.com", first_name="Bulk")
        for i in range(count)
    )
    responders = Group.objects.get(name=Role.RESPONDER.value)
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=responders.pk) for user in users
    )


# --- the page does not grow ---


def test_war_room_page_does_not_grow_with_components_or_staff(responder, incident):
    url = reverse("portal:incident_detail", args=[incident.pk])
    with CaptureQueriesContext(connection) as few:
        small = responder.get(url)
    _many_components_and_staff(300)
    with CaptureQueriesContext(connection) as many:
        large = responder.get(url)
    assert small.status_code == large.status_code == 200
    page = large.content.decode()
    assert len(many) == len(few), [q["sql"] for q in many]
    assert abs(len(large.content) - len(small.content)) < 200
    assert "Bulk service" not in page and "engineer0" not in page
    assert page.count("<option") == small.content.decode().count("<option") < 40
    # What is still a <select> lists fixed choices: severity, status, role, impact; never a table.
    assert page.count("<select") < 10


def test_war_room_page_query_count_is_bounded(responder, incident, django_assert_max_num_queries):
    _many_components_and_staff(30)
    with django_assert_max_num_queries(13):
        assert responder.get(reverse("portal:incident_detail", args=[incident.pk])).status_code == 200
    for panel in ("roles", "components", "actions"):
        with django_assert_max_num_queries(8):
            assert (
                responder.get(reverse("portal:incident_panel", args=[incident.pk, panel])).status_code == 200
            )


def test_war_room_offers_the_search_boxes_and_only_affected_component_statuses(responder, incident, checkout):
    page = responder.get(reverse("portal:incident_detail", args=[incident.pk])).content.decode()
    for name in ("component_name", "person", "into_reference"):
        assert f'type="search" name="{name}"' in page
    assert _url("incident_component_search", incident) in page
    assert _url("incident_person_search", incident) in page
    assert _url("incident_merge_search", incident) in page
    # The public update offers a status for the affected component, not for the others.
    assert f'name="component_{incident.affected_components.get().component_id}"' in page
    assert f'name="component_{checkout.pk}"' not in page


# --- who may search ---


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("incident_component_search", "component_name"),
        ("incident_person_search", "person"),
        ("incident_merge_search", "into_reference"),
    ],
)
def test_war_room_searches_are_for_responders_only(client, client_for, personas, incident, name, field):
    url = _url(name, incident)
    for role in ("viewer", "none"):
        assert client_for(personas[role]).get(url, {field: "a"}).status_code == 403, role
    response = client.get(url, {field: "a"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    for role in ("responder", "incident_commander", "admin"):
        assert client_for(personas[role]).get(url, {field: "a"}).status_code == 200, role
    assert client_for(personas["responder"]).post(url, {field: "a"}).status_code == 405
    missing = reverse(f"portal:{name}", args=[incident.pk + 1000])
    assert client_for(personas["responder"]).get(missing, {field: "a"}).status_code == 404


# --- hostile queries ---


@pytest.mark.parametrize("char", CONTROL)
@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("incident_component_search", "component_name"),
        ("incident_person_search", "person"),
        ("incident_merge_search", "into_reference"),
    ],
)
def test_war_room_search_refuses_control_characters_and_long_queries(responder, incident, name, field, char):
    response = _search(responder, name, incident, field, f"pay{char}ments")
    assert response.status_code == 400
    assert "single line of plain text" in response.content.decode()
    assert 'type="radio"' not in response.content.decode()
    response = _search(responder, name, incident, field, "p" * 101)
    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()


@pytest.mark.parametrize("text", ["%", "_", "'", '"; DROP TABLE x; --', "\\", "INC-" + "9" * 40, "#", "Ä"])
def test_war_room_search_treats_wildcards_and_quotes_as_text(responder, incident, other, text):
    for name, field, picked in (
        ("incident_component_search", "component_name", "component"),
        ("incident_person_search", "person", "user"),
        ("incident_merge_search", "into_reference", "into"),
    ):
        response = _search(responder, name, incident, field, text)
        assert response.status_code == 200, (name, text)
        assert _values(response, picked) == [], (name, text)


def test_war_room_search_escapes_what_it_shows(responder, incident):
    Component.objects.create(name='Pay <img src=x onerror="alert(1)">')
    response = _search(responder, "incident_component_search", incident, "component_name", "<img")
    content = response.content.decode()
    assert "&lt;img src=x" in content and "<img" not in content
    assert "“&lt;img”" in content


# --- components ---


def test_component_search_finds_by_name_leaving_out_those_already_affected(responder, incident, checkout):
    Component.objects.create(name="Payouts")
    response = _search(responder, "incident_component_search", incident, "component_name", "pay")
    content = response.content.decode()
    assert "Payouts" in content and "Payments API" not in content  # already affected
    assert "1 match for “pay”" in content
    assert 'role="status"' not in content
    nothing = _search(responder, "incident_component_search", incident, "component_name", "zzz")
    assert "No other component matches “zzz”." in nothing.content.decode()


def test_component_search_lists_at_most_20_names_starting_with_the_query_first(responder, incident):
    Component.objects.bulk_create(Component(name=f"Search node {i:02d}", position=i) for i in range(30))
    Component.objects.create(name="Elastic search")
    response = _search(responder, "incident_component_search", incident, "component_name", "search")
    content = response.content.decode()
    assert len(_values(response, "component")) == 20
    assert "First 20 matches for “search”" in content and "Type more to narrow the list." in content
    assert "Elastic search" not in content  # names starting with the query come first
    assert content.index("Search node 00") < content.index("Search node 19")


def test_component_added_from_a_picked_match(responder, incident, checkout):
    response = responder.post(
        _url("incident_component", incident),
        {"component": checkout.pk, "component_name": "chec", "impact": "major_outage"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert incident.affected_components.get(component=checkout).impact == "major_outage"
    # The panel now lists it with its own status control.
    assert f'<input type="hidden" name="component" value="{checkout.pk}">' in response.content.decode()


def test_component_added_by_its_typed_name_without_javascript(responder, incident, checkout):
    response = responder.post(
        _url("incident_component", incident),
        {"component_name": "  checkout ", "impact": "degraded_performance"},
    )
    assert response.status_code == 302
    assert incident.affected_components.get(component=checkout).impact == "degraded_performance"


@pytest.mark.parametrize(
    "data",
    [
        {"component_name": "Checkou", "impact": "major_outage"},  # no such name: pick a match instead
        {"component_name": "", "impact": "major_outage"},
        {"impact": "major_outage"},
        {"component": "abc", "impact": "major_outage"},
        {"component": str(BIG_ID), "impact": "major_outage"},
        {"component": "999999", "impact": "major_outage"},
        {"component": "-1", "impact": "major_outage"},
        {"component_name": "Check\x00out", "impact": "major_outage"},
        {"component_name": "C" * 101, "impact": "major_outage"},
        {"component_name": "Checkout", "impact": "on_fire"},
    ],
)
def test_component_form_refuses_unknown_or_hostile_components_and_changes_nothing(
    responder, incident, checkout, data
):
    before = _changes()
    response = responder.post(_url("incident_component", incident), data, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert _shows_an_error(response)
    assert _changes() == before


def test_component_typed_name_shows_a_clear_error(responder, incident):
    response = responder.post(
        _url("incident_component", incident), {"component_name": "Checkou", "impact": "major_outage"}
    )
    assert response.status_code == 400
    assert "No component is named “Checkou”." in response.content.decode()


# --- people ---


def test_person_search_finds_staff_by_name_username_or_email_not_outsiders(
    responder, incident, make_staff, charlie
):
    ana = make_staff("ana", Role.RESPONDER)
    ana.first_name, ana.last_name = "Ana", "Lopez"
    ana.save()
    gone = make_staff("anabel", Role.RESPONDER)
    gone.is_active = False
    gone.save()
    # A partner's account is never staff, whatever groups someone gave it.
    make_staff("partner:anacorp", None).groups.add(Group.objects.get(name=Role.RESPONDER.value))
    for text in ("ana", "lopez", "ANA LOP", "ana@ops.example"):
        response = _search(responder, "incident_person_search", incident, "person", text)
        assert _values(response, "user") == [str(ana.pk)], text
        assert "Ana Lopez" in response.content.decode() and "responder" in response.content.decode()
    # charlie has an account but no staff role.
    assert _values(_search(responder, "incident_person_search", incident, "person", "charlie"), "user") == []


def test_person_search_with_nothing_typed_offers_the_recently_active(responder, incident, make_staff, rob):
    now = timezone.now()
    for i, name in enumerate(["dora", "eli", "fay"]):
        user = make_staff(name, Role.RESPONDER)
        user.last_login = now - timedelta(minutes=i)
        user.save()
    response = _search(responder, "incident_person_search", incident, "person", "")
    content = response.content.decode()
    assert "Recently active" in content
    assert content.index("dora") < content.index("eli") < content.index("fay")


def test_person_search_lists_at_most_20(responder, incident):
    _many_components_and_staff(40)
    response = _search(responder, "incident_person_search", incident, "person", "engineer")
    assert len(_values(response, "user")) == 20
    assert "Type more to narrow the list." in response.content.decode()


def test_role_assigned_to_a_picked_person(responder, incident, make_staff):
    ana = make_staff("ana", Role.RESPONDER)
    response = responder.post(
        _url("incident_role_assign", incident),
        {"role": "scribe", "user": ana.pk, "person": "an"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert incident.role_assignments.get(role="scribe", relieved_at__isnull=True).user == ana


@pytest.mark.parametrize("typed", ["ana", "ANA", "ana@ops.example.com"])
def test_role_assigned_by_typed_username_or_email_without_javascript(responder, incident, make_staff, typed):
    ana = make_staff("ana", Role.RESPONDER)
    response = responder.post(_url("incident_role_assign", incident), {"role": "comms_lead", "person": typed})
    assert response.status_code == 302
    assert incident.role_assignments.get(role="comms_lead").user == ana


@pytest.mark.parametrize(
    "data",
    [
        {"role": "scribe", "person": "nobody"},
        {"role": "scribe", "person": "charlie"},  # an account with no staff role
        {"role": "scribe", "person": ""},
        {"role": "scribe"},
        {"role": "scribe", "user": "abc"},
        {"role": "scribe", "user": str(BIG_ID)},
        {"role": "scribe", "user": "999999"},
        {"role": "scribe", "person": "ana\x1b"},
        {"role": "scribe", "person": "a" * 101},
        {"role": "janitor", "person": "ana"},
    ],
)
def test_role_form_refuses_unknown_or_hostile_people_and_changes_nothing(
    responder, incident, make_staff, charlie, data
):
    make_staff("ana", Role.RESPONDER)
    before = _changes()
    response = responder.post(_url("incident_role_assign", incident), data, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert _shows_an_error(response)
    assert _changes() == before


def test_role_for_an_outsider_picked_by_id_is_refused_by_the_service(responder, incident, charlie):
    before = _changes()
    response = responder.post(
        _url("incident_role_assign", incident),
        {"role": "scribe", "user": charlie.pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "charlie is not active staff." in response.content.decode()
    assert _changes() == before


# --- merge ---


@pytest.fixture
def other(db):
    return incident_declare(actor=SYSTEM, title="Checkout errors in EU", severity="P3")


@pytest.fixture
def finished(db):
    done = incident_declare(actor=SYSTEM, title="Checkout errors last week", severity="P3")
    incident_transition(actor=SYSTEM, incident=done, status="resolved")
    return done


def test_merge_search_lists_other_active_incidents_only(responder, incident, other, finished):
    for text in ("checkout", f"INC-{other.pk}", str(other.pk), ""):
        response = _search(responder, "incident_merge_search", incident, "into_reference", text)
        assert _values(response, "into") == [str(other.pk)], text
    # Itself is never offered, even by its own reference.
    assert (
        _values(
            _search(responder, "incident_merge_search", incident, "into_reference", f"INC-{incident.pk}"),
            "into",
        )
        == []
    )


def test_merge_into_a_picked_incident(responder, incident, other):
    response = responder.post(
        _url("incident_merge", incident), {"into": other.pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "merged" and incident.merged_into == other


def test_merge_by_typed_reference_without_javascript(responder, incident, other):
    response = responder.post(_url("incident_merge", incident), {"into_reference": f"inc-{other.pk}"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.merged_into == other


@pytest.mark.parametrize(
    "into",
    [
        {"into_reference": "INC-999999"},
        {"into_reference": "self"},
        {"into_reference": "finished"},
        {"into_reference": ""},
        {"into_reference": "INC-" + "9" * 30},
        {"into_reference": "INC-1\x00"},
        {"into": "abc"},
        {"into": str(BIG_ID)},
        {"into": "self"},
        {"into": "finished"},
    ],
)
def test_merge_form_refuses_unknown_finished_or_own_incident_and_changes_nothing(
    responder, incident, finished, into
):
    data = {
        key: value.replace(
            "self", f"INC-{incident.pk}" if key == "into_reference" else str(incident.pk)
        ).replace("finished", f"INC-{finished.pk}" if key == "into_reference" else str(finished.pk))
        for key, value in into.items()
    }
    before = _changes()
    response = responder.post(_url("incident_merge", incident), data, headers={"HX-Request": "true"})
    assert response.status_code == 400, data
    assert _shows_an_error(response)
    assert _changes() == before


# --- public update ---


@pytest.mark.parametrize("key", ["component_999999", f"component_{BIG_ID}", "component_" + "9" * 200])
def test_public_update_naming_an_unknown_component_is_refused_and_posts_nothing(responder, incident, key):
    before = _changes()
    response = responder.post(
        _url("incident_public_update", incident),
        {"status": "identified", "body": "Found it", key: "major_outage"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "No component has the id" in response.content.decode()
    assert _changes() == before


def test_public_update_may_still_set_a_component_the_incident_does_not_affect(responder, incident, checkout):
    response = responder.post(
        _url("incident_public_update", incident),
        {"status": "identified", "body": "Found it", f"component_{checkout.pk}": "degraded_performance"},
    )
    assert response.status_code == 302
    checkout.refresh_from_db()
    assert checkout.status == "degraded_performance"


def test_war_room_searches_use_a_fixed_number_of_queries(responder, incident, django_assert_max_num_queries):
    _many_components_and_staff(60)
    for name, field in (
        ("incident_component_search", "component_name"),
        ("incident_person_search", "person"),
        ("incident_person_search", ""),
        ("incident_merge_search", "into_reference"),
    ):
        with django_assert_max_num_queries(7):
            response = _search(responder, name, incident, field, "" if not field else "e")
        assert response.status_code == 200
