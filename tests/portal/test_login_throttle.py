"""Signing in is throttled per username and per client address (django-axes); behind a proxy the address
is the one the trusted proxy saw, so clients are neither merged nor able to pick their own."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/portal/login/"
PASSWORD = "correct horse battery"  # make_staff's


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def _login(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_a_username_is_locked_after_repeated_failures_even_with_the_right_password(rob):
    for n in range(3):
        response = _login(Client(REMOTE_ADDR=f"198.51.100.{n}"), "rob", "wrong")
        assert response.status_code in (200, 429)
    locked = _login(Client(REMOTE_ADDR="198.51.100.50"), "rob", PASSWORD)
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in locked.wsgi_request.session
    # Someone else, from another address, still signs in.
    assert _login(Client(REMOTE_ADDR="198.51.100.60"), "vera_free", "x").status_code == 200


def test_one_client_address_trying_many_usernames_is_locked(rob, vera):
    client = Client(REMOTE_ADDR="203.0.113.5")
    for name in ("alice", "bob", "carol"):
        _login(client, name, "guess")
    assert _login(client, "vera", PASSWORD).status_code == 429
    assert _login(Client(REMOTE_ADDR="203.0.113.6"), "vera", PASSWORD).status_code == 302


def test_a_successful_sign_in_signs_in(rob):
    response = _login(Client(REMOTE_ADDR="198.51.100.1"), "rob", PASSWORD)
    assert response.status_code == 302 and response.wsgi_request.user.get_username() == "rob"


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(settings, rob, vera):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    # One attacker behind the proxy rotating a forged X-Forwarded-For prefix is still one address.
    for n in range(3):
        _login(Client(**proxy), f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.7")
    assert _login(Client(**proxy), "vera", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Another client behind the same proxy is not locked with them.
    ok = _login(Client(**proxy), "rob", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert ok.status_code == 302


def test_behind_a_proxy_the_subscribe_form_counts_each_client_separately(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SUBSCRIBE_RATE_PER_IP = 2
    proxy = Client(REMOTE_ADDR="127.0.0.1")

    def subscribe(n, forwarded):
        return proxy.post(
            "/subscribe/",
            {"channel": "email", "address": f"ops{n}@shop.example"},
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    assert subscribe(1, "6.6.6.1, 203.0.113.7").status_code == 200
    assert subscribe(2, "6.6.6.2, 203.0.113.7").status_code == 200
    assert subscribe(3, "6.6.6.3, 203.0.113.7").status_code == 429  # forged prefixes do not help
    assert subscribe(4, "198.51.100.20").status_code == 200  # a neighbour behind the proxy is not merged
