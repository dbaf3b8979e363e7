"""Components in the staff portal: who may see, set a status, add and edit components and groups; forms
that refuse bad input save nothing; a status change is recorded, audited and reaches the public page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from opsportal.core.models import AuditEntry
from statuspage import services
from statuspage.models import Component, ComponentGroup, ComponentStatusChange

pytestmark = pytest.mark.django_db

STAFF = ("viewer", "responder", "incident_commander", "admin")
RESPONDERS = {"responder", "incident_commander", "admin"}
ADMINS = {"admin"}
LIST = reverse("portal:component_list")


@pytest.fixture
def checkout():
    return ComponentGroup.objects.create(name="Checkout", position=1)


@pytest.fixture
def card_payments(checkout):
    return Component.objects.create(name="Card payments", group=checkout)


def _component_form(**overrides) -> dict:
    data = {"name": "Payouts", "description": "", "group": "", "position": "0", "showcase": "on"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _status_url(component) -> str:
    return reverse("portal:component_status", args=[component.pk])


# Access


def test_component_list_opens_for_every_staff_role_and_shows_forms_by_role(
    personas, client_for, card_payments
):
    for role in STAFF:
        html = client_for(personas[role]).get(LIST).content.decode()
        assert "Card payments" in html and "Operational" in html, role
        assert (_status_url(card_payments) in html) == (role in RESPONDERS), role
        assert (reverse("portal:component_new") in html) == (role in ADMINS), role
        assert (reverse("portal:component_edit", args=[card_payments.pk]) in html) == (role in ADMINS), role


def test_component_pages_refuse_outsiders_and_send_anonymous_to_login(
    personas, client_for, client, card_payments
):
    assert client_for(personas["none"]).get(LIST).status_code == 403
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


def test_setting_a_status_needs_the_responder_role(personas, client_for, card_payments):
    for role in ("none", *STAFF):
        response = client_for(personas[role]).post(_status_url(card_payments), {"status": "major_outage"})
        assert response.status_code == (302 if role in RESPONDERS else 403), role
        card_payments.refresh_from_db()
        if role not in RESPONDERS:
            assert card_payments.status == "operational", role
        Component.objects.filter(pk=card_payments.pk).update(status="operational")


def test_admin_pages_need_the_admin_role(personas, client_for, checkout, card_payments):
    urls = [
        reverse("portal:component_new"),
        reverse("portal:component_edit", args=[card_payments.pk]),
        reverse("portal:component_group_new"),
        reverse("portal:component_group_edit", args=[checkout.pk]),
    ]
    for role in ("none", *STAFF):
        client = client_for(personas[role])
        for url in urls:
            assert client.get(url).status_code == (200 if role in ADMINS else 403), (role, url)
            if role not in ADMINS:
                assert client.post(url, _component_form(name="Sneaky")).status_code == 403, (role, url)
    assert not Component.objects.filter(name="Sneaky").exists()
    assert not ComponentGroup.objects.filter(name="Sneaky").exists()


def test_services_refuse_non_admins_themselves(personas, checkout, card_payments):
    for role in ("viewer", "responder", "incident_commander"):
        actor = personas[role]
        with pytest.raises(PermissionDenied):
            services.component_create(actor=actor, name="Sneaky")
        with pytest.raises(PermissionDenied):
            services.component_update(
                actor=actor,
                component=card_payments,
                name="Renamed",
                description="",
                group=None,
                position=0,
                showcase=True,
                only_show_if_degraded=False,
                start_date=None,
            )
        with pytest.raises(PermissionDenied):
            services.component_group_create(actor=actor, name="Sneaky")
        with pytest.raises(PermissionDenied):
            services.component_group_update(
                actor=actor, group=checkout, name="Renamed", description="", position=0
            )
    with pytest.raises(PermissionDenied):
        services.component_set_status(
            actor=personas["viewer"], component=card_payments, status="major_outage"
        )
    assert not AuditEntry.objects.filter(action__startswith="component").exists()


# Creating and editing


def test_admin_adds_a_component_to_a_group(personas, client_for, checkout):
    client = client_for(personas["admin"])
    response = client.post(
        reverse("portal:component_new"),
        _component_form(
            group=str(checkout.pk), position="3", start_date="2025-01-15", description="Bank files"
        ),
    )
    assert response.status_code == 302 and response["Location"] == LIST
    payouts = Component.objects.get(name="Payouts")
    assert (payouts.group, payouts.position, payouts.status) == (checkout, 3, "operational")
    assert payouts.showcase and payouts.start_date.isoformat() == "2025-01-15"
    entry = AuditEntry.objects.get(action="component.created")
    assert entry.actor == personas["admin"] and entry.after["group"] == "Checkout"


def test_component_form_shows_errors_and_saves_nothing(personas, client_for, card_payments):
    client = client_for(personas["admin"])
    url = reverse("portal:component_new")
    cases = [
        (_component_form(name=""), "This field is required."),
        (_component_form(position="-1"), "greater than or equal to 0"),
        (_component_form(start_date="not a date"), "Enter a valid date."),
        (_component_form(name="card PAYMENTS"), "There is already a component called"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400, data
        html = response.content.decode()
        assert message in html and "Nothing was saved" in html, data
    assert list(Component.objects.values_list("name", flat=True)) == ["Card payments"]
    assert not AuditEntry.objects.filter(action="component.created").exists()


def test_admin_edits_a_component_without_touching_its_status(personas, client_for, card_payments):
    Component.objects.filter(pk=card_payments.pk).update(status="partial_outage")
    client = client_for(personas["admin"])
    url = reverse("portal:component_edit", args=[card_payments.pk])
    assert 'value="Card payments"' in client.get(url).content.decode()
    response = client.post(url, _component_form(name="Cards", showcase=None, status="operational"))
    assert response.status_code == 302
    card_payments.refresh_from_db()
    assert (card_payments.name, card_payments.group, card_payments.showcase) == ("Cards", None, False)
    assert card_payments.status == "partial_outage"
    entry = AuditEntry.objects.get(action="component.updated")
    assert entry.before == {"name": "Card payments", "group": "Checkout", "showcase": True}
    assert entry.after == {"name": "Cards", "group": None, "showcase": False}


def test_editing_a_component_to_a_taken_name_is_refused(personas, client_for, card_payments):
    Component.objects.create(name="Payouts")
    url = reverse("portal:component_edit", args=[card_payments.pk])
    response = client_for(personas["admin"]).post(url, _component_form(name="Payouts"))
    assert response.status_code == 400
    assert "There is already a component called" in response.content.decode()
    card_payments.refresh_from_db()
    assert card_payments.name == "Card payments"


def test_saving_a_component_unchanged_records_nothing(personas, client_for, card_payments):
    url = reverse("portal:component_edit", args=[card_payments.pk])
    data = _component_form(name="Card payments", group=str(card_payments.group_id))
    assert client_for(personas["admin"]).post(url, data).status_code == 302
    assert not AuditEntry.objects.filter(action="component.updated").exists()


def test_admin_adds_and_edits_a_group(personas, client_for, checkout):
    client = client_for(personas["admin"])
    response = client.post(reverse("portal:component_group_new"), {"name": "Payouts", "position": "2"})
    assert response.status_code == 302
    group = ComponentGroup.objects.get(name="Payouts")
    url = reverse("portal:component_group_edit", args=[group.pk])
    response = client.post(
        url, {"name": "Payouts and transfers", "description": "Money out", "position": "0"}
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.description, group.position) == ("Payouts and transfers", "Money out", 0)
    assert list(
        AuditEntry.objects.filter(action__startswith="component_group")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "component_group.created",
        "component_group.updated",
    ]


def test_group_form_shows_errors_and_saves_nothing(personas, client_for, checkout):
    client = client_for(personas["admin"])
    for data in (
        {"name": "", "position": "0"},
        {"name": "checkout", "position": "0"},
        {"name": "X", "position": "a"},
    ):
        response = client.post(reverse("portal:component_group_new"), data)
        assert response.status_code == 400, data
        assert "Nothing was saved" in response.content.decode()
    assert list(ComponentGroup.objects.values_list("name", flat=True)) == ["Checkout"]
    other = ComponentGroup.objects.create(name="Payouts")
    url = reverse("portal:component_group_edit", args=[other.pk])
    assert client.post(url, {"name": "Checkout", "position": "0"}).status_code == 400
    other.refresh_from_db()
    assert other.name == "Payouts"


def test_a_new_public_component_reaches_the_public_page(
    personas, client_for, client, checkout, django_capture_on_commit_callbacks
):
    assert "Payouts" not in client.get("/").content.decode()  # the public page is now cached
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas["admin"]).post(
            reverse("portal:component_new"), _component_form(group=str(checkout.pk))
        )
    assert response.status_code == 302
    assert "Payouts" in client.get("/").content.decode()


def test_services_check_names_themselves(personas, card_payments):
    with pytest.raises(ValidationError) as blank:
        services.component_create(actor=personas["admin"], name="  ")
    assert "name" in blank.value.message_dict
    with pytest.raises(ValidationError) as taken:
        services.component_create(actor=personas["admin"], name=" Card Payments ")
    assert "name" in taken.value.message_dict


# Status changes


def test_status_change_is_recorded_audited_and_shown_on_the_public_page(
    personas, client_for, client, card_payments, django_capture_on_commit_callbacks
):
    assert "Partial outage" not in client.get("/").content.decode()  # the public page is now cached
    staff = client_for(personas["responder"])
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(_status_url(card_payments), {"status": "partial_outage"})
    assert response.status_code == 302 and response["Location"] == LIST
    change = ComponentStatusChange.objects.get(component=card_payments)
    assert (change.previous_status, change.status) == ("operational", "partial_outage")
    entry = AuditEntry.objects.get(action="component.status_changed")
    assert entry.actor == personas["responder"] and entry.after == {"status": "partial_outage"}
    html = client.get("/").content.decode()
    assert "Card payments" in html and "Partial outage" in html
    assert "is now partial outage" in staff.get(LIST).content.decode()


def test_status_change_through_htmx_swaps_the_row(personas, client_for, card_payments):
    response = client_for(personas["responder"]).post(
        _status_url(card_payments), {"status": "major_outage"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="component-{card_payments.pk}">')
    assert 'value="major_outage" selected' in html and "Major outage" in html
    assert "Edit" not in html  # a responder gets no admin link in the swapped row either


def test_unknown_status_is_refused_and_nothing_recorded(personas, client_for, card_payments):
    client = client_for(personas["responder"])
    response = client.post(_status_url(card_payments), {"status": "on_fire"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "Choose one of the listed statuses." in response.content.decode()
    response = client.post(_status_url(card_payments), {"status": "on_fire"})
    assert response.status_code == 302
    card_payments.refresh_from_db()
    assert card_payments.status == "operational"
    assert not ComponentStatusChange.objects.exists()


def test_component_list_query_count_does_not_grow_with_components(
    personas, client_for, checkout, django_assert_max_num_queries
):
    client = client_for(personas["admin"])
    client.get(LIST)  # warm up the session and permission caches
    for n in range(10):
        Component.objects.create(name=f"C{n}", group=checkout if n % 2 else None)
        ComponentGroup.objects.create(name=f"G{n}")
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200
