"""The client's address, as the one place that knows how many proxies stand in front of us.

Login throttling (django-axes) and the subscribe form's per-address limits both ask here, so a proxy in
front of the portal neither merges every visitor into one address nor lets a client choose its own.

With TRUSTED_PROXY_COUNT=n, the n nearest hops are ours: each appended the address it saw to
X-Forwarded-For (nginx's $proxy_add_x_forwarded_for), so the client is the (n+1)-th address from the right
of X-Forwarded-For + REMOTE_ADDR. Entries further left are whatever the client wrote and are ignored. This
is only true if nothing but those proxies can reach the process, which is how the README deploys it."""

from __future__ import annotations

import ipaddress

from django.conf import settings

UNKNOWN = "unknown"


def _valid(candidate: str) -> str | None:
    try:
        return str(ipaddress.ip_address(candidate.strip()))
    except ValueError:
        return None


def client_address(request) -> str:
    """The address of the client behind this request (a valid IP), or "unknown"."""
    remote = _valid(request.META.get("REMOTE_ADDR", "") or "")
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops <= 0:
        return remote or UNKNOWN
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain = [*forwarded, remote or ""]
    if len(chain) <= hops:
        # Fewer hops than our proxies add: the request did not come through all of them. Take the farthest
        # address we have; it was written by one of ours.
        return _valid(chain[0]) or remote or UNKNOWN
    return _valid(chain[-(hops + 1)]) or remote or UNKNOWN


def client_ip_or_none(request) -> str | None:
    """For django-axes, which stores the address in an IP column: no address is NULL there, not "unknown"
    (a login made without an HTTP request, such as a test's force_login, has none)."""
    address = client_address(request)
    return None if address == UNKNOWN else address
