"""The portal page for a responder's own contact methods and rules: add, get a code, verify, pause, remove;
rules; someone else's methods are not reachable; htmx swaps the section in place."""

from __future__ import annotations

import re

import pytest

from oncall.models import ContactMethod, NotificationRule
from opsportal.notifications.models import Delivery

PAGE = "/portal/me/contacts/"


def _code(address: str) -> str:
    delivery = Delivery.objects.filter(address=address).latest("pk")
    return re.search(r"\b(\d{6})\b", delivery.message.text_body)[1]


def test_contacts_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/portal/login/" in response["Location"]


def test_contacts_page_shows_the_default_when_there_are_no_rules(client_for, rob):
    response = client_for(rob).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "None yet." in body and "the default: in-app push at once" in body
    assert 'name="viewport"' in body  # readable at 390 px: the portal's responsive base


def test_add_verify_and_use_a_phone(client_for, rob):
    client = client_for(rob)
    response = client.post(PAGE + "methods/", {"method-kind": "sms", "method-address": "+1 416 555 0100"})
    assert response.status_code == 302
    method = ContactMethod.objects.get(user=rob)
    assert method.address == "+14165550100" and not method.is_verified
    assert "code is on its way" in client.get(PAGE).content.decode()

    wrong = client.post(f"{PAGE}methods/{method.pk}/verify/", {f"verify-{method.pk}-code": "000000x"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()

    right = client.post(
        f"{PAGE}methods/{method.pk}/verify/", {f"verify-{method.pk}-code": _code("+14165550100")}
    )
    assert right.status_code == 302
    method.refresh_from_db()
    assert method.is_verified

    rule = client.post(
        PAGE + "rules/", {"rule-method": method.pk, "rule-delay_minutes": "1", "rule-urgency": "high"}
    )
    assert rule.status_code == 302
    assert list(NotificationRule.objects.values_list("delay_minutes", "urgency")) == [(1, "high")]


def test_a_resend_too_soon_is_explained(client_for, rob):
    client = client_for(rob)
    client.post(PAGE + "methods/", {"method-kind": "email", "method-address": "rob@ops.example.com"})
    method = ContactMethod.objects.get(user=rob)
    response = client.post(f"{PAGE}methods/{method.pk}/code/")
    assert response.status_code == 409 and "another in" in response.content.decode()
    assert Delivery.objects.count() == 1


def test_bad_input_is_a_400_and_changes_nothing(client_for, rob):
    client = client_for(rob)
    assert (
        client.post(PAGE + "methods/", {"method-kind": "sms", "method-address": "not a phone"}).status_code
        == 400
    )
    assert client.post(PAGE + "methods/", {"method-kind": "sms", "method-address": ""}).status_code == 400
    assert client.post(PAGE + "methods/", {"method-kind": "pager", "method-address": "1"}).status_code == 400
    assert (
        client.post(PAGE + "methods/", {"method-kind": "email", "method-address": "a\x00@b.com"}).status_code
        == 400
    )
    assert not ContactMethod.objects.exists()
    client.post(PAGE + "methods/", {"method-kind": "push"})
    push = ContactMethod.objects.get()
    for delay in ("-1", "241", "99999999999999999999", "soon"):
        response = client.post(
            PAGE + "rules/", {"rule-method": push.pk, "rule-delay_minutes": delay, "rule-urgency": "any"}
        )
        assert response.status_code == 400
    assert not NotificationRule.objects.exists()


def test_someone_elses_methods_and_rules_are_not_found(client_for, rob, ana):
    method = ContactMethod.objects.create(user=ana, kind="push", address="", verified_at="2026-11-27T03:00Z")
    rule = NotificationRule.objects.create(user=ana, contact_method=method, delay_minutes=0)
    client = client_for(rob)
    for path in ("code/", "verify/", "enabled/", "remove/"):
        assert client.post(f"{PAGE}methods/{method.pk}/{path}").status_code == 404
    assert client.post(f"{PAGE}rules/{rule.pk}/remove/").status_code == 404
    response = client.post(
        PAGE + "rules/", {"rule-method": method.pk, "rule-delay_minutes": "0", "rule-urgency": "any"}
    )
    assert response.status_code == 400  # not one of rob's methods to choose from
    assert ContactMethod.objects.filter(user=ana).exists() and NotificationRule.objects.count() == 1


def test_pause_resume_and_remove(client_for, rob):
    client = client_for(rob)
    client.post(PAGE + "methods/", {"method-kind": "push"})
    method = ContactMethod.objects.get()
    client.post(f"{PAGE}methods/{method.pk}/enabled/")
    method.refresh_from_db()
    assert not method.enabled
    client.post(f"{PAGE}methods/{method.pk}/enabled/", {"enabled": "on"})
    method.refresh_from_db()
    assert method.enabled
    client.post(f"{PAGE}methods/{method.pk}/remove/")
    assert not ContactMethod.objects.exists()


def test_htmx_swaps_the_section_in_place(client_for, rob):
    response = client_for(rob).post(
        PAGE + "methods/", {"method-kind": "push"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith('<div id="contacts"')
    assert "In-app push added." in body and "<html" not in body


@pytest.mark.parametrize("persona", ["none"])
def test_people_without_a_portal_role_are_refused(client_for, personas, persona):
    assert client_for(personas[persona]).get(PAGE).status_code == 403
