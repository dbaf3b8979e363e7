"""One client address for every per-client limit: REMOTE_ADDR unless TRUSTED_PROXY_COUNT proxies stand in
front, then the address the outermost trusted proxy saw; whatever the client writes itself is ignored."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from opsportal.core.client_address import client_address


def _request(remote="127.0.0.1", forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.mark.parametrize(
    ("hops", "remote", "forwarded", "client"),
    [
        (0, "198.51.100.7", None, "198.51.100.7"),
        (0, "198.51.100.7", "203.0.113.1", "198.51.100.7"),  # no proxy trusted: the header is the client's
        (1, "127.0.0.1", "198.51.100.7", "198.51.100.7"),  # nginx appended what it saw
        (1, "127.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a forged left part changes nothing
        (2, "10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.1", "198.51.100.7"),  # CDN + nginx
        (1, "127.0.0.1", "not-an-address", "127.0.0.1"),
        (1, "127.0.0.1", " 2001:db8::1 ", "2001:db8::1"),
        (1, "198.51.100.9", None, "198.51.100.9"),  # reached us without the proxy
        (0, "", None, "unknown"),
    ],
)
def test_client_address_trusts_exactly_the_configured_proxies(settings, hops, remote, forwarded, client):
    settings.TRUSTED_PROXY_COUNT = hops
    assert client_address(_request(remote, forwarded)) == client


def test_login_throttling_and_the_subscribe_limits_ask_the_same_function(settings):
    from statuspage.public import subscription_views

    assert settings.AXES_CLIENT_IP_CALLABLE == "opsportal.core.client_address.client_ip_or_none"
    assert subscription_views.client_address is client_address


@pytest.mark.django_db
def test_a_login_without_an_address_is_logged_without_one(client, django_user_model):
    # force_login has no HTTP request behind it; the IP column gets NULL, never the word "unknown"
    # (PostgreSQL refuses it).
    from axes.models import AccessLog

    user = django_user_model.objects.create_user("nora")
    client.force_login(user)
    assert AccessLog.objects.get(username="nora").ip_address is None
