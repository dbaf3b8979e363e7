"""Every API error is RFC 9457 problem+json: malformed JSON, 404, 405, 500 (without a stack trace)."""

import pytest
from django.test import Client, override_settings
from django.urls import path

from opsportal.urls import urlpatterns as real_urlpatterns

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400_problem(api, rob, make_token):
    from statuspage.models import Component

    component = Component.objects.create(name="Checkout")
    token = make_token(rob, "statuspage:write")
    response = api.client.patch(
        f"/api/v1/statuspage/components/{component.pk}/",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:opsportal:problem:malformed-body"
    assert "JSON" in response.json()["detail"]
    component.refresh_from_db()
    assert component.status == "operational"


def test_invalid_fields_are_a_400_problem_listing_each_field(api, rob, make_token):
    from statuspage.models import Component

    component = Component.objects.create(name="Checkout")
    token = make_token(rob, "statuspage:write")
    response = api.client.patch(
        f"/api/v1/statuspage/components/{component.pk}/",
        data={"status": "on_fire"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:opsportal:problem:validation-failed"
    assert "on_fire" in body["errors"]["status"][0]
    component.refresh_from_db()
    assert component.status == "operational"
    assert not component.status_changes.exists()


def test_an_unknown_api_path_is_a_404_problem(api):
    for url in ("/api/v1/no-such-thing/", "/api/v9/summary.json"):
        response = api.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["instance"] == url


def test_a_wrong_method_is_a_405_problem(api, rob, make_token):
    token = make_token(rob, "statuspage:write")
    response = api.post("/api/v1/statuspage/components/", {}, token=token)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert "GET" in response["Allow"]


def _boom(request):
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [path("api/v1/boom/", _boom), *real_urlpatterns]
handler500 = "opsportal.core.errors.server_error"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_crash_is_a_500_problem_without_a_stack_trace():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    body = response.content.decode()
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert response.json()["title"] == "Internal server error"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_html_pages_keep_an_html_error_page():
    response = Client().get("/portal/definitely-not-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
UNKNOWN_API_PATHS = (
    "/api",
    "/api/",
    "/api/nope",
    "/api/v1",
    "/api/v1/nope/",
    "/api/v1/incidents",  # no trailing slash: no redirect, a problem
    "/api/v1/incidents/1/nope/",
    "/api/v1/incidents/99999999999999999999999/",  # beyond any row id
    "/api/v2",
    "/api/v2/",
    "/api/v2/nope.json",
    "/api/v2/summary.json/extra",
    "/api/v9/summary.json",
)


@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_api_path_is_a_404_problem_for_every_method(method, api, alice, make_token):
    token = make_token(alice, "incidents:write")
    # No CSRF page either: an API client with or without a token gets a problem.
    client = Client(enforce_csrf_checks=True)
    for url in UNKNOWN_API_PATHS:
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            response = client.generic(
                method, url, data=b"{}", content_type="application/json", headers=headers
            )
            assert response.status_code == 404, (method, url, response.status_code)
            assert response["Content-Type"] == "application/problem+json", (method, url)
            if method != "HEAD":
                assert response.json()["status"] == 404
