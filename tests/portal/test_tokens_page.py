"""Creating, seeing and revoking API tokens in the portal."""

import pytest
from django.urls import reverse

from opsportal.core.models import ApiToken, AuditEntry

pytestmark = pytest.mark.django_db


def test_a_new_token_is_shown_once_and_works(rob, client_for, api):
    client = client_for(rob)
    response = client.post(
        reverse("portal:api_tokens"),
        {"name": "Acme monitor", "scopes": ["oncall:read"], "expires_in_days": "90"},
    )
    assert response.status_code == 200
    plaintext = response.context["created_plaintext"]
    assert plaintext and plaintext.encode() in response.content
    assert api.get("/api/v1/oncall/regions/", token=plaintext).status_code == 200
    again = client.get(reverse("portal:api_tokens"))
    assert plaintext.encode() not in again.content
    assert b"Acme monitor" in again.content


def test_a_form_error_is_shown_and_nothing_is_saved(rob, client_for):
    response = client_for(rob).post(reverse("portal:api_tokens"), {"name": "", "scopes": []})
    assert response.status_code == 400
    assert b"This field is required" in response.content
    assert ApiToken.objects.count() == 0
    assert not AuditEntry.objects.filter(action="api_token.created").exists()


def test_a_viewer_cannot_create_a_token_even_by_posting(vera, client_for):
    response = client_for(vera).post(
        reverse("portal:api_tokens"), {"name": "sneaky", "scopes": ["oncall:read"]}
    )
    assert response.status_code == 302
    assert ApiToken.objects.count() == 0


def test_revoking_over_htmx_swaps_the_row(rob, client_for, make_token):
    make_token(rob, "oncall:read", name="old monitor")
    token = ApiToken.objects.get()
    response = client_for(rob).post(
        reverse("portal:api_token_revoke", kwargs={"token_id": token.pk}), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b"Revoked" in response.content and b"<tr" in response.content
    assert AuditEntry.objects.filter(action="api_token.revoked", object_id=str(token.pk)).exists()


def test_responders_see_only_their_own_tokens_and_admins_see_all(rob, alice, client_for, make_token):
    make_token(rob, "oncall:read", name="rob's")
    make_token(alice, "oncall:read", name="alice's")
    assert [t.name for t in client_for(rob).get(reverse("portal:api_tokens")).context["tokens"]] == ["rob's"]
    assert {t.name for t in client_for(alice).get(reverse("portal:api_tokens")).context["tokens"]} == {
        "rob's",
        "alice's",
    }


def test_an_admin_adds_a_partner_gives_it_a_token_and_switches_it_off(alice, client_for, api):
    from opsportal.core.models import Partner

    client = client_for(alice)
    added = client.post(
        reverse("portal:partner_new"),
        {"partner-name": "Acme Payments", "partner-contacts": "Ann Lee <ann@acme.example>"},
    )
    assert added.status_code == 302
    partner = Partner.objects.get()
    assert [str(c) for c in partner.contacts.all()] == ["Ann Lee <ann@acme.example>"]
    created = client.post(
        reverse("portal:partner_token_new"),
        {
            "partner_token-partner": partner.pk,
            "partner_token-name": "status monitor",
            "partner_token-scopes": ["statuspage:read"],
            "partner_token-expires_in_days": "90",
        },
    )
    plaintext = created.context["created_plaintext"]
    assert plaintext and api.get("/api/v1/status/incidents/", token=plaintext).status_code == 200
    page = client.get(reverse("portal:api_tokens")).content.decode()
    assert "Acme Payments" in page and "ann@acme.example" in page
    client.post(reverse("portal:partner_active", args=[partner.pk]), {"active": "0"})
    assert api.get("/api/v1/status/incidents/", token=plaintext).status_code == 401
    assert AuditEntry.objects.filter(action="partner.deactivated", actor=alice).exists()


def test_a_partner_token_cannot_be_given_staff_scopes(alice, client_for):
    from opsportal.core.identity_services import partner_create
    from opsportal.core.services import SYSTEM

    partner = partner_create(actor=SYSTEM, name="Acme")
    response = client_for(alice).post(
        reverse("portal:partner_token_new"),
        {
            "partner_token-partner": partner.pk,
            "partner_token-name": "x",
            "partner_token-scopes": ["incidents:read"],
        },
    )
    assert response.status_code == 400
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("persona", ["viewer", "responder", "incident_commander"])
def test_only_admins_see_and_manage_partners(personas, client_for, persona):
    client = client_for(personas[persona])
    assert b"Add a partner" not in client.get(reverse("portal:api_tokens")).content
    response = client.post(reverse("portal:partner_new"), {"partner-name": "Sneaky"})
    assert response.status_code == 403
