"""Every portal page needs a login; each page admits exactly the roles it should."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

PUBLIC_PORTAL_PAGES = {"portal:login", "portal:logout"}


def _portal_url_names():
    resolver = get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "portal":
            for pattern in entry.url_patterns:
                if isinstance(pattern, URLPattern):
                    yield f"portal:{pattern.name}", pattern


def test_every_portal_page_sends_anonymous_visitors_to_the_login_page(client):
    checked = 0
    for name, pattern in _portal_url_names():
        if name in PUBLIC_PORTAL_PAGES:
            continue
        kwargs = {key: 1 for key in pattern.pattern.converters}
        url = reverse(name, kwargs=kwargs)
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (302, 405), (name, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("portal:login")), name
        checked += 1
    assert checked >= 7


# (method, url name, roles that may) — everyone else gets 403.
ACCESS_TABLE = [
    ("get", "portal:home", {"viewer", "responder", "incident_commander", "admin"}),
    ("get", "portal:api_tokens", {"viewer", "responder", "incident_commander", "admin"}),
    ("post", "portal:live_check", {"viewer", "responder", "incident_commander", "admin"}),
    ("get", "portal:staff", {"admin"}),
    ("get", "portal:audit", {"admin"}),
]
ROLES = ["none", "viewer", "responder", "incident_commander", "admin"]


@pytest.mark.parametrize(("method", "name", "allowed"), ACCESS_TABLE, ids=[row[1] for row in ACCESS_TABLE])
def test_each_role_is_allowed_or_refused(personas, client_for, method, name, allowed):
    for role in ROLES:
        client = client_for(personas[role])
        response = getattr(client, method)(
            reverse(name), {"delay_seconds": "5"} if method == "post" else None
        )
        if role in allowed:
            assert response.status_code == 200, (role, response.status_code)
        else:
            assert response.status_code == 403, (role, response.status_code)


def test_revoking_a_token_needs_the_responder_role(personas, client_for, make_token):
    from opsportal.core.models import ApiToken

    make_token(personas["admin"], "oncall:read")
    token = ApiToken.objects.get()
    url = reverse("portal:api_token_revoke", kwargs={"token_id": token.pk})
    assert client_for(personas["viewer"]).post(url).status_code == 403
    # Someone else's token is invisible to a responder, not merely forbidden.
    assert client_for(personas["responder"]).post(url).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client_for(personas["admin"]).post(url).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_changing_roles_needs_the_admin_role(personas, client_for):
    from opsportal.core.roles import role_of

    target = personas["viewer"]
    url = reverse("portal:staff_role", kwargs={"user_id": target.pk})
    for role in ("responder", "incident_commander"):
        assert client_for(personas[role]).post(url, {"role": "admin"}).status_code == 403
    assert role_of(target) == "viewer"
    assert client_for(personas["admin"]).post(url, {"role": "responder"}).status_code == 302
    assert role_of(target) == "responder"


def test_login_and_logout_through_the_forms(rob, client):
    response = client.post(reverse("portal:login"), {"username": "rob", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert b"War room" in client.get(reverse("portal:home")).content
    client.post(reverse("portal:logout"))
    assert client.get(reverse("portal:home")).status_code == 302


def test_a_wrong_password_shows_an_error_and_does_not_log_in(rob, client):
    response = client.post(reverse("portal:login"), {"username": "rob", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get(reverse("portal:home")).status_code == 302
