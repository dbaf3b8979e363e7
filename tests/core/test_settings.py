"""Production fails closed: it refuses to start without a secret key, allowed hosts, a stated running mode, a
public URL, and somewhere real to send email and texts (or an explicit, logged opt-in to the console).
Development starts safely with nothing set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Everything production needs; each test takes one thing away or changes it. Nothing here is connected to.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "status.example.com",
    "PUBLIC_URL": "https://status.example.com",
    "OPSPORTAL_MODE": "production",
    "DATABASE_URL": "postgres://ops@db.example.com/opsportal",
    "REDIS_URL": "redis://redis.example.com:6379/0",
    "EMAIL_HOST": "smtp.example.com",
    "SMS_API_BASE_URL": "https://sms.example.com",
    "SMS_ACCOUNT_SID": "AC123",
    "SMS_AUTH_TOKEN": "token",
    "SMS_FROM": "+15005550006",
}
CLEARED = {
    *PRODUCTION,
    "EMAIL_BACKEND",
    "NOTIFICATIONS_CONSOLE",
    "WEBHOOKS_ALLOW_PRIVATE",
    "STATUSPAGE_TIME_ZONE",
}


def _start(env_overrides: dict, tmp_path, *, without: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update({"OPSPORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "opsportal.settings"})
    env.update(env_overrides)
    for name in without:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _refused(result, message: str) -> bool:
    return result.returncode != 0 and "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_starts_when_everything_is_stated(tmp_path):
    result = _start(PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY is not set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS is not set"),
        ("PUBLIC_URL", "PUBLIC_URL is not set"),
        ("DATABASE_URL", "OPSPORTAL_MODE=production needs DATABASE_URL"),
        ("REDIS_URL", "OPSPORTAL_MODE=production needs REDIS_URL"),
        ("EMAIL_HOST", "no SMTP server"),
        ("SMS_API_BASE_URL", "no SMS provider"),
        ("SMS_AUTH_TOKEN", "SMS_API_BASE_URL is set but SMS_AUTH_TOKEN is not"),
    ],
)
def test_production_refuses_to_start_without(tmp_path, missing, message):
    result = _start(PRODUCTION, tmp_path, without=(missing,))
    assert _refused(result, message), result.stderr


def test_production_refuses_when_the_mode_is_not_stated(tmp_path):
    without_redis = {k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"}
    assert _refused(_start(without_redis, tmp_path, without=("OPSPORTAL_MODE",)), "OPSPORTAL_MODE is not set")
    # Nor is it guessed from REDIS_URL, in production or development.
    assert _refused(_start(PRODUCTION, tmp_path, without=("OPSPORTAL_MODE",)), "REDIS_URL is set but")
    development = {"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    assert _refused(_start(development, tmp_path), "REDIS_URL is set but OPSPORTAL_MODE is not")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"OPSPORTAL_MODE": "cluster"}, "OPSPORTAL_MODE must be one of embedded, production"),
        ({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, "runs on PostgreSQL"),
        ({"OPSPORTAL_MODE": "embedded"}, "OPSPORTAL_MODE=embedded does not use Redis"),
        ({"PUBLIC_URL": "status.example.com"}, "PUBLIC_URL must look like"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "no SMTP server"),
        ({"STATUSPAGE_TIME_ZONE": "localtime"}, "STATUSPAGE_TIME_ZONE must be an IANA time zone name"),
    ],
)
def test_production_refuses_contradictory_settings(tmp_path, overrides, message):
    assert _refused(_start({**PRODUCTION, **overrides}, tmp_path), message)


def test_embedded_mode_can_run_in_production_when_stated(tmp_path):
    embedded = {k: v for k, v in PRODUCTION.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = _start({**embedded, "OPSPORTAL_MODE": "embedded"}, tmp_path)
    assert result.returncode == 0, result.stderr


def test_console_transport_in_production_is_an_explicit_logged_opt_in(tmp_path):
    no_providers = ("EMAIL_HOST", "SMS_API_BASE_URL", "SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN", "SMS_FROM")
    refused = _start(PRODUCTION, tmp_path, without=no_providers)
    assert _refused(refused, "no SMTP server")
    assert "no SMS provider" in refused.stderr
    assert "NOTIFICATIONS_CONSOLE=1" in refused.stderr

    opted_in = _start({**PRODUCTION, "NOTIFICATIONS_CONSOLE": "1"}, tmp_path, without=no_providers)
    assert opted_in.returncode == 0, opted_in.stderr
    assert "WARNING opsportal.startup NOTIFICATIONS_CONSOLE is on" in opted_in.stderr


def test_private_outbound_allowance_in_production_is_logged(tmp_path):
    result = _start({**PRODUCTION, "WEBHOOKS_ALLOW_PRIVATE": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WARNING opsportal.startup WEBHOOKS_ALLOW_PRIVATE is on" in result.stderr


def test_development_starts_with_nothing_set_and_makes_a_private_secret_key(tmp_path):
    result = _start({"DEBUG": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "dev-secret-key"
    assert len(key_file.read_text()) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
