"""What production must state before it starts: the running mode, the public address, and where messages go.
Called from settings.py, so gunicorn, daphne, Celery and every management command refuse the same way."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("opsportal.startup")

MODES = ("embedded", "production")
# Django email backends that deliver nothing anywhere a recipient could read it.
NON_DELIVERING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


def running_mode(*, stated: str, debug: bool, database_url: str, redis_url: str) -> str:
    """OPSPORTAL_MODE, checked against what it needs. Unset means embedded only in development."""
    mode = stated.strip().lower()
    if not mode:
        if redis_url:
            raise ImproperlyConfigured(
                "REDIS_URL is set but OPSPORTAL_MODE is not. Say which mode this is: OPSPORTAL_MODE=production "
                "(PostgreSQL, Redis, Celery) or OPSPORTAL_MODE=embedded (and unset REDIS_URL)."
            )
        if not debug:
            raise ImproperlyConfigured(
                "OPSPORTAL_MODE is not set. Production (DEBUG off) states its running mode: "
                "OPSPORTAL_MODE=production (with DATABASE_URL and REDIS_URL) or OPSPORTAL_MODE=embedded "
                "(one process, SQLite)."
            )
        return "embedded"
    if mode not in MODES:
        raise ImproperlyConfigured(f"OPSPORTAL_MODE must be one of {', '.join(MODES)}, got {stated!r}.")
    if mode == "production":
        missing = [
            name for name, value in (("DATABASE_URL", database_url), ("REDIS_URL", redis_url)) if not value
        ]
        if missing:
            raise ImproperlyConfigured(
                f"OPSPORTAL_MODE=production needs {' and '.join(missing)} "
                "(PostgreSQL: postgres://user:pass@host/name; Redis: redis://host:6379/0)."
            )
        if urlsplit(database_url).scheme.lower() not in {"postgres", "postgresql", "pgsql"}:
            raise ImproperlyConfigured(
                "OPSPORTAL_MODE=production runs on PostgreSQL: DATABASE_URL=postgres://…"
            )
    elif redis_url:
        raise ImproperlyConfigured(
            "OPSPORTAL_MODE=embedded does not use Redis, but REDIS_URL is set: unset it, or set "
            "OPSPORTAL_MODE=production."
        )
    return mode


def public_url(raw: str, *, debug: bool, port: int) -> str:
    """PUBLIC_URL, the address people reach (links in every message): required with DEBUG off."""
    value = raw.strip().rstrip("/")
    if not value:
        if not debug:
            raise ImproperlyConfigured(
                "PUBLIC_URL is not set. Production (DEBUG off) refuses to start without it: every message "
                "links to it. Set PUBLIC_URL=https://status.example.com."
            )
        return f"http://127.0.0.1:{port}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"PUBLIC_URL must look like https://status.example.com, got {raw!r}.")
    return value


def notification_providers_check(
    *, debug: bool, console: bool, email_backend: str, sms: dict[str, str]
) -> None:
    """With DEBUG off, email needs a delivering backend and SMS a provider, unless NOTIFICATIONS_CONSOLE=1 says
    to print them instead. A provider that is half configured refuses to start either way."""
    if sms.get("SMS_API_BASE_URL"):
        missing = [name for name, value in sms.items() if not value]
        if missing:
            raise ImproperlyConfigured(f"SMS_API_BASE_URL is set but {', '.join(missing)} is not.")
    if debug or console:
        return
    problems = []
    if email_backend in NON_DELIVERING_EMAIL_BACKENDS:
        problems.append("no SMTP server (set EMAIL_HOST, or EMAIL_BACKEND to a delivering backend)")
    if not sms.get("SMS_API_BASE_URL"):
        problems.append("no SMS provider (set SMS_API_BASE_URL, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM)")
    if problems:
        raise ImproperlyConfigured(
            "Production (DEBUG off) would mark messages sent that went nowhere: "
            + "; ".join(problems)
            + ". Configure them, or set NOTIFICATIONS_CONSOLE=1 to print those messages to the log instead."
        )


def startup_warnings(settings) -> list[str]:
    """Development allowances that someone switched on in production: said once at start, in the log."""
    if settings.DEBUG:
        return []
    warnings = []
    if settings.NOTIFICATIONS_CONSOLE:
        warnings.append(
            "NOTIFICATIONS_CONSOLE is on: emails without an SMTP server and texts without an SMS provider are "
            "printed to the log, not sent."
        )
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        warnings.append(
            "WEBHOOKS_ALLOW_PRIVATE is on: outbound requests may reach private and loopback addresses."
        )
    return warnings


def log_startup_warnings(settings) -> None:
    for warning in startup_warnings(settings):
        logger.warning(warning)
