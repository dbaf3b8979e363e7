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
