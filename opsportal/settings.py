"""opsportal settings: everything that varies between machines comes from the environment."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from opsportal.core.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    sqlite_database,
)
from opsportal.core.startup import notification_providers_check, public_url, running_mode
from opsportal.core.time_zones import is_iana_time_zone

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OPSPORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
PORT = env_int("PORT", 8000)

# --- Production fails closed: the running mode, the public address and the notification providers are
# stated, never guessed (see opsportal.core.startup; a wrong or missing one refuses to start).
RUNNING_MODE = running_mode(
    stated=env_str("OPSPORTAL_MODE"), debug=DEBUG, database_url=DATABASE_URL, redis_url=REDIS_URL
)
PUBLIC_URL = public_url(env_str("PUBLIC_URL"), debug=DEBUG, port=PORT)
# --- end of the fail-closed block (notification providers are checked after the mail and SMS settings)
# The public status page as its Statuspage-compatible JSON describes it (page.id, page.name, page.time_zone).
STATUSPAGE_NAME = env_str("STATUSPAGE_NAME", "Platform status")
STATUSPAGE_ID = env_str("STATUSPAGE_ID", "opsportal")
STATUSPAGE_TIME_ZONE = env_str("STATUSPAGE_TIME_ZONE", "Etc/UTC")
if not is_iana_time_zone(STATUSPAGE_TIME_ZONE):
    raise ImproperlyConfigured(
        f"STATUSPAGE_TIME_ZONE must be an IANA time zone name, got {STATUSPAGE_TIME_ZONE!r}."
    )
# When set, every public change re-exports the status page as static files here (see export_statuspage).
STATUSPAGE_EXPORT_DIR = env_str("STATUSPAGE_EXPORT_DIR")


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG off) refuses to start without it; "
            "set SECRET_KEY to a long random string, or DEBUG=1 for local development."
        )
    # Development: a random key kept on this machine, never one written in the code.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. Production (DEBUG off) refuses to start without it; "
        "set ALLOWED_HOSTS to a comma-separated list of host names, e.g. status.example.com."
    )
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", [PUBLIC_URL] if PUBLIC_URL.startswith("https") else []
)

INSTALLED_APPS = [
    "daphne",
    # No django.contrib.admin: the portal is the one place staff change things, through the services that
    # check roles and write the audit log; an admin site would be a second door around both.
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "channels",
    "axes",
    "opsportal.core",
    "opsportal.notifications",
    "statuspage",
    "statuspage.public",
    "oncall",
    "opsportal.incidents",
    "opsportal.changes",
    "opsportal.api",
    "opsportal.portal",
    "opsportal.embedded",
    "opsportal.demo",
]

MIDDLEWARE = [
    "opsportal.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files carry the policy too: every response has one.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsportal.urls"
WSGI_APPLICATION = "opsportal.wsgi.application"
ASGI_APPLICATION = "opsportal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opsportal.core.context_processors.opsportal",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": sqlite_database(str(VAR_DIR / "opsportal.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if RUNNING_MODE == "production":
    CACHES = {
        "default": {
            "BACKEND": "opsportal.core.redis_cache.PooledRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "opsportal",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "opsportal:ws"},
        }
    }
else:
    # A file cache, not per-process memory: management commands and the server then agree on what
    # the public page's current version is.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "opsportal.core.channel_layer.EmbeddedChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in attempts are counted per username and per client address by django-axes; past the limit that
# username (or address) waits out the cool-off, whatever password it tries. The address comes from
# opsportal.core.client_address, which trusts exactly TRUSTED_PROXY_COUNT proxies (0: none, REMOTE_ADDR).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one reaching the limit locks
AXES_CLIENT_IP_CALLABLE = "opsportal.core.client_address.client_ip_or_none"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/login_locked.html"
AXES_VERBOSE = False
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files need `collectstatic`; development serves straight from the finders.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root

# Mail: Django's own setting names.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "opsportal <status@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# SMS through an HTTP provider speaking Twilio's Messages API; without a base URL texts go to the console.
SMS_API_BASE_URL = env_str("SMS_API_BASE_URL")
SMS_ACCOUNT_SID = env_str("SMS_ACCOUNT_SID")
SMS_AUTH_TOKEN = env_str("SMS_AUTH_TOKEN")
SMS_FROM = env_str("SMS_FROM")
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)
# Printing messages instead of sending them is a development convenience; with DEBUG off it must be asked for
# (and is logged at start), and without it a missing SMTP server or SMS provider refuses to start.
NOTIFICATIONS_CONSOLE = env_bool("NOTIFICATIONS_CONSOLE", DEBUG)
notification_providers_check(
    debug=DEBUG,
    console=NOTIFICATIONS_CONSOLE,
    email_backend=EMAIL_BACKEND,
    sms={
        "SMS_API_BASE_URL": SMS_API_BASE_URL,
        "SMS_ACCOUNT_SID": SMS_ACCOUNT_SID,
        "SMS_AUTH_TOKEN": SMS_AUTH_TOKEN,
        "SMS_FROM": SMS_FROM,
    },
)

# Security. Production defaults are strict; a TLS-terminating proxy sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# --- Content-Security-Policy (django-csp) on every response. We serve no third-party script and no inline
# script or style (htmx's own indicator styles are off; its rules live in opsportal.css), so it can be strict.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_NONE],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],  # CSP3: 'self' covers this origin's ws:// and wss:// too
        "manifest-src": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "object-src": [CSP_NONE],
    }
}
# --- end of Content-Security-Policy
# HSTS preload is a commitment for the whole domain that only its owner can make: opt in with
# SECURE_HSTS_PRELOAD=1; until then the deploy check's reminder (W021) is expected, not a fault.
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [] if SECURE_HSTS_PRELOAD else ["security.W021"])

# Celery: production runs workers and beat on Redis; embedded mode runs the same tasks in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# Paging has its own queue, so an escalation step never waits behind a fan-out's deliveries: run a worker on
# it (`-Q paging`); the general worker takes it too (`-Q celery,paging`), so nothing is stranded without one.
CELERY_TASK_ROUTES = {
    "oncall.tasks.escalations_tick": {"queue": "paging"},
    "oncall.tasks.alert_events_apply": {"queue": "paging"},
    "oncall.tasks.heartbeats_sweep": {"queue": "paging"},
}
# Periodic timers, shared by Celery beat (production) and the embedded scheduler: name -> (task, seconds).
PERIODIC_TASKS = {
    "run-due-jobs": ("opsportal.core.tasks.jobs_run_due", 1.0),
    # Escalation steps and pages that fell due; ingestion also starts one on commit, so this is the backstop.
    "escalations-tick": ("oncall.tasks.escalations_tick", 2.0),
    # Events /v2/enqueue queued whose on-commit start was lost (oncall.intake); the backstop, as above.
    "alert-intake": ("oncall.tasks.alert_events_apply", 2.0),
    "check-sla-clocks": ("opsportal.incidents.tasks.check_sla_clocks", 5.0),
    "maintenance-sweep": ("opsportal.changes.tasks.maintenance_sweep", 15.0),
    # Picks up deliveries whose on-commit start was lost, retries that fell due, and rows a dead worker held.
    "deliver-due": ("opsportal.notifications.tasks.deliver_due", 10.0),
    # Resumes audience expansions whose start was lost or whose process died mid-way.
    "expand-pending": ("opsportal.notifications.tasks.expand_pending", 10.0),
    # Reminds whoever comes on call within the hour; dedupe keys make overlapping runs harmless.
    "oncall-handoff-reminders": ("oncall.tasks.send_handoff_reminders", 60.0),
    # Raises the alert for heartbeats whose deadline passed without a ping.
    "heartbeats-sweep": ("oncall.tasks.heartbeats_sweep", 10.0),
    # Retention: delivered messages and finished timers older than their retention go (the audit log stays).
    "prune-notifications": ("opsportal.notifications.tasks.prune_notifications", 86400.0),
    "prune-jobs": ("opsportal.core.tasks.prune_jobs", 86400.0),
    # The static export's backstop (with STATUSPAGE_EXPORT_DIR set): a re-export lost with its worker, and the
    # day turning (the uptime bars move at midnight). Writes nothing when nothing changed.
    "statuspage-export": ("statuspage.public.tasks.export_statuspage_files", 300.0),
}
# Days a message whose deliveries have all finished is kept (with its deliveries) before the daily prune.
NOTIFICATION_RETENTION_DAYS = env_int("NOTIFICATION_RETENTION_DAYS", 30)
# Days a finished (done, failed or cancelled) durable timer is kept.
JOB_RETENTION_DAYS = env_int("JOB_RETENTION_DAYS", 7)
# Called as each worker process starts (Celery and embedded), with its node name: hands back the claims a
# previous life of the same node held.
WORKER_STARTUP_HOOKS = ["opsportal.notifications.workers.worker_started"]

# Request bodies past this are refused: 413 under /api/ (the API's JSON parser applies it too), 400 elsewhere.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["opsportal.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["opsportal.api.permissions.HasTokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["opsportal.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "opsportal.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["opsportal.core.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "opsportal.core.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "opsportal.api.schema.ProblemAutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# Delivery tasks started when a message commits: one per worker slot lets a big fan-out use every worker.
NOTIFICATION_DELIVERY_TASKS = env_int("NOTIFICATION_DELIVERY_TASKS", 4 if RUNNING_MODE == "production" else 1)
# Audiences a message can name; their outbox rows are written after commit, in chunks (notifications.expansion).
NOTIFICATION_AUDIENCES = {"statuspage_subscribers": "statuspage.notify.subscriber_audience"}
# Looks up what must not be stored in an outbox row (signed links, webhook signing secrets) at send time:
# one hook per recipient ref prefix ("subscriber:12", "page:7").
NOTIFICATIONS_RECIPIENT_CONTEXT = {
    "subscriber": "statuspage.subscriptions.subscribers_send_context",
    "page": "oncall.paging.pages_send_context",
}
# Outcomes are written every this many rows (and at least every quarter second): 1 = each as it happens.
# 25 bounds what a crash can resend to a quarter second's sends, without one UPDATE per row (which halved the
# 100,000-subscriber fan-out's throughput: bench/README.md).
NOTIFICATION_OUTCOME_BATCH = env_int("NOTIFICATION_OUTCOME_BATCH", 25)
# Who hears about addresses that bounce hard (notifications knows no other app; the status page quarantines).
NOTIFICATIONS_ON_HARD_BOUNCE = "statuspage.subscriptions.subscribers_quarantine_bounced"
# Who hears about every delivery that ended dead (the status page disables webhooks that keep failing).
NOTIFICATIONS_ON_DELIVERY_DEAD = "statuspage.subscriptions.subscribers_disable_failing_webhooks"
# Outbound requests (webhooks, the SMS provider) to non-public addresses are refused (SSRF) unless this is on:
# a development allowance for tests and local demos (logged at start when DEBUG is off).
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", DEBUG and RUNNING_MODE == "embedded")
# Networks outbound requests may reach although they are not public (an internal receiver you vouch for).
OUTBOUND_ALLOWED_NETWORKS = env_list("OUTBOUND_ALLOWED_NETWORKS", [])
# Requests per minute for one API token unless the token says otherwise.
API_TOKEN_RATE_PER_MINUTE = env_int("API_TOKEN_RATE_PER_MINUTE", 600)
# Events one integration key may send per minute (fixed one-minute windows, counted across every process)
# before the doors in answer 429 with Retry-After, as PagerDuty does past its ~120 a minute. 0: no limit.
INGEST_RATE_PER_MINUTE = env_int("INGEST_RATE_PER_MINUTE", 600)

SPECTACULAR_SETTINGS = {
    "TITLE": "opsportal partner API",
    "DESCRIPTION": "Partner and machine API v1. Authenticate with `Authorization: Bearer <token>`; "
    "errors are RFC 9457 problem details (application/problem+json).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Input and output serializers differ in what they promise (patterns, required fields): keep them apart.
    "COMPONENT_SPLIT_REQUEST": True,
    # <id:...> path segments (opsportal.core.converters): a row id within the 64-bit column.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}},
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "opsportal.incidents.lifecycle.IncidentStatus",
        "ComponentStatusEnum": "statuspage.models.ComponentStatus",
        "PublicStatusEnum": "opsportal.incidents.lifecycle.PUBLIC_STATUSES",
        "PublicUpdateStatusEnum": "opsportal.incidents.api.serializers.PUBLIC_UPDATE_STATUSES",
        "PostmortemStatusEnum": "opsportal.incidents.models.Postmortem.Status",
        "MaintenanceStatusEnum": "opsportal.changes.api.serializers.STATUS_CHOICES",
        "SeverityEnum": "opsportal.incidents.models.Severity",
        "AlertUrgencyEnum": "oncall.models.Urgency",
        "RuleUrgencyEnum": "oncall.models.NotificationRule.ForUrgency",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # One line per task per second from the timer tick is noise.
        "celery.app.trace": {"level": "WARNING"},
    },
}

# --- Paging people (oncall.paging, README "Paging and rate limits") -----------------------------------------
# How long the one-time acknowledge link in an SMS or email page works.
ALERT_LINK_TTL = timedelta(seconds=env_int("ALERT_LINK_TTL_SECONDS", 24 * 3600))
# Per contact method: at most this many messages a minute and an hour (0: no limit). A page over the limit is
# held; when the window reopens, ONE summary goes out for every page held on that method.
PAGE_RATE_LIMITS = {
    "sms": {
        "per_minute": env_int("PAGE_RATE_SMS_PER_MINUTE", 1),
        "per_hour": env_int("PAGE_RATE_SMS_PER_HOUR", 10),
    },
    "email": {
        "per_minute": env_int("PAGE_RATE_EMAIL_PER_MINUTE", 1),
        "per_hour": env_int("PAGE_RATE_EMAIL_PER_HOUR", 20),
    },
    "push": {
        "per_minute": env_int("PAGE_RATE_PUSH_PER_MINUTE", 6),
        "per_hour": env_int("PAGE_RATE_PUSH_PER_HOUR", 120),
    },
}
