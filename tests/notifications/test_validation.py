"""Where we may send: phones, emails, and webhook URLs that stay out of our network."""

import pytest
from django.core.exceptions import ValidationError

from opsportal.notifications.validation import normalise_email, normalise_phone, validate_webhook_url


def test_phones_are_normalised_to_e164_or_refused():
    assert normalise_phone("+1 (416) 555-0100") == "+14165550100"
    for bad in ("4165550100", "+0123456789", "+1 416", "call me", ""):
        with pytest.raises(ValidationError):
            normalise_phone(bad)


def test_emails_keep_their_local_part_and_lowercase_the_domain():
    assert normalise_email(" Ana@Shop.EXAMPLE.com ") == "Ana@shop.example.com"
    with pytest.raises(ValidationError):
        normalise_email("not-an-address")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.5/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data",
        "http://192.168.1.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/hook",
        "http://0.0.0.0/",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused_in_production(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match="private, loopback or link-local"):
        validate_webhook_url(url)


def test_public_addresses_and_bad_schemes(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    assert validate_webhook_url("https://93.184.215.14/hooks") == "https://93.184.215.14/hooks"
    for bad in ("ftp://example.com/", "javascript:alert(1)", "https://user:pw@example.com/"):
        with pytest.raises(ValidationError):
            validate_webhook_url(bad)


def test_loopback_is_allowed_only_when_the_setting_says_so(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert validate_webhook_url("http://127.0.0.1:9999/hook") == "http://127.0.0.1:9999/hook"


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\n",
        "https://hooks\x00.example.com/",
        "http://x/\x7f",
    ],
)
def test_urls_with_whitespace_or_control_characters_are_refused(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # refused before any address is considered
    with pytest.raises(ValidationError, match="spaces or control characters"):
        validate_webhook_url(url)


@pytest.mark.parametrize(
    "url", ["http://[::ffff:10.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://100.64.0.7/"]
)
def test_embedded_and_shared_addresses_are_refused(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match="private, loopback or link-local"):
        validate_webhook_url(url)
