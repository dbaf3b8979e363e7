"""Bearer tokens: missing or bad -> 401, wrong scope -> 403, always problem+json; tokens stored hashed."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from opsportal.core.identity_services import api_token_revoke
from opsportal.core.models import ApiToken

pytestmark = pytest.mark.django_db

COMPONENTS = "/api/v1/statuspage/components/"


def assert_problem(response, status: int):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("urn:opsportal:problem:")
    return body


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(api):
    response = api.get(COMPONENTS)
    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in body["detail"]


def test_an_unknown_token_is_401(api):
    assert_problem(api.get(COMPONENTS, token="ops_not-a-real-token"), 401)


def test_a_malformed_authorization_header_is_401(api):
    response = api.client.get(COMPONENTS, headers={"Authorization": "Token abc"})
    assert_problem(response, 401)


def test_an_expired_token_is_401(api, rob, make_token):
    token = make_token(rob, "statuspage:read", expires_in=timedelta(days=1))
    assert api.get(COMPONENTS, token=token).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        body = assert_problem(api.get(COMPONENTS, token=token), 401)
    assert "expired" in body["detail"]


def test_a_revoked_token_is_401(api, rob, make_token):
    token = make_token(rob, "statuspage:read")
    api_token_revoke(actor=rob, token=ApiToken.objects.get(user=rob))
    body = assert_problem(api.get(COMPONENTS, token=token), 401)
    assert "revoked" in body["detail"]


def test_a_token_of_a_deactivated_account_is_401(api, rob, make_token):
    token = make_token(rob, "statuspage:read")
    rob.is_active = False
    rob.save()
    assert_problem(api.get(COMPONENTS, token=token), 401)


def test_a_token_without_the_scope_is_403(api, rob, make_token):
    token = make_token(rob, "oncall:read")
    body = assert_problem(api.get(COMPONENTS, token=token), 403)
    assert "statuspage:read" in body["detail"]


def test_a_write_scope_includes_reading_the_same_area(api, rob, make_token):
    token = make_token(rob, "statuspage:write")
    assert api.get(COMPONENTS, token=token).status_code == 200


def test_the_token_is_stored_hashed_and_its_use_is_noted(api, rob, make_token):
    plaintext = make_token(rob, "oncall:read")
    stored = ApiToken.objects.get(user=rob)
    assert plaintext not in (stored.token_hash, stored.prefix)
    assert plaintext.startswith(stored.prefix)
    assert stored.last_used_at is None
    response = api.get("/api/v1/me/", token=plaintext)
    assert response.status_code == 200
    assert response.json()["scopes"] == ["oncall:read"]
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_viewers_tokens_cannot_have_write_scopes(vera, make_token):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="viewer"):
        make_token(vera, "incidents:write")
    assert ApiToken.objects.count() == 0


def test_unknown_scopes_are_refused(rob, make_token):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Unknown scope"):
        make_token(rob, "incidents:read,everything:write")
    assert ApiToken.objects.count() == 0


def test_list_endpoints_paginate(api, rob, make_token):
    from statuspage.models import Component

    Component.objects.bulk_create([Component(name=f"Component {n:02}") for n in range(30)])
    token = make_token(rob, "statuspage:read")
    page = api.get(COMPONENTS + "?page_size=10&page=2", token=token).json()
    assert page["count"] == 30
    assert page["results"][0]["name"] == "Component 10"
    assert page["next"] and page["previous"]
