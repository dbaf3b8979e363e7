"""Checks on where we may send: E.164 phone numbers, email addresses, and webhook URLs that do not point
inside our own network (SSRF). Used when a subscriber signs up and again just before each webhook send,
since DNS can change in between."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_phone(raw: str) -> str:
    """'+1 (416) 555-0100' -> '+14165550100'; anything that is not E.164 is refused."""
    compact = re.sub(r"[\s().-]", "", raw or "")
    if not E164.match(compact):
        raise ValidationError("Give the number in international format, e.g. +14165550100.", code="phone")
    return compact


def normalise_email(raw: str) -> str:
    address = (raw or "").strip()
    validate_email(address)
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def webhook_loopback_allowed() -> bool:
    # Tests and the embedded demo post to loopback sinks; production never may.
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False))


def validate_webhook_url(url: str, *, resolve: bool = True) -> str:
    """Return the URL if it is http(s) and every address it resolves to is public; else ValidationError."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Use an http:// or https:// URL.", code="url")
    if parts.username or parts.password:
        raise ValidationError("Put credentials in a header secret, not in the URL.", code="url")
    if webhook_loopback_allowed():
        return url.strip()
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    elif not resolve:
        return url.strip()
    else:
        try:
            infos = socket.getaddrinfo(
                host, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP
            )
        except socket.gaierror:
            raise ValidationError(f"{host} does not resolve.", code="url") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if any(_forbidden(address) for address in addresses):
        raise ValidationError(
            "Webhooks cannot point at private, loopback or link-local addresses.", code="ssrf"
        )
    return url.strip()
