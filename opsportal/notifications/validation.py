"""Checks on where we may send: E.164 phone numbers, email addresses, and webhook URLs that do not point
inside our own network (SSRF). Used when a subscriber signs up; at send time the outbound client checks the
one lookup it connects with (opsportal.core.outbound), since DNS can change in between."""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from opsportal.core.outbound import (
    OutboundFailed,
    OutboundRefused,
    default_policy,
    parse_target,
    resolve_checked,
    url_refusal,
)

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


def webhook_loopback_allowed() -> bool:
    # Tests and the embedded demo post to loopback sinks; production never may.
    return default_policy().allow_private


def validate_webhook_url(url: str, *, resolve: bool = True) -> str:
    """Return the URL if it is http(s), free of spaces and control characters, and (when `resolve`) every
    address its host resolves to is public; else ValidationError. The outbound client checks again when it
    sends, on the one lookup it connects with."""
    url = url or ""
    reason = url_refusal(url)
    if reason:
        raise ValidationError(reason, code="url")
    target = parse_target(url)
    policy = default_policy()
    # The development allowance lets any address through, so there is nothing to look up.
    if policy.allow_private or (not resolve and not _is_literal(target.host)):
        return url
    try:
        resolve_checked(target.host, target.port, policy=policy, timeout=5.0)
    except OutboundRefused as exc:
        if "does not resolve" in str(exc):
            raise ValidationError(f"{target.host} does not resolve.", code="url") from None
        raise ValidationError(
            "Webhooks cannot point at private, loopback or link-local addresses.", code="ssrf"
        ) from None
    except OutboundFailed as exc:
        raise ValidationError(
            f"{target.host} could not be resolved just now; try again.", code="url"
        ) from exc
    return url


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
