"""Settings for aftersales, read from the environment.

Every setting that differs between a laptop and production comes from an environment variable;
the defaults give a working development system on SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # It signs sessions and the customers' upload links: a public default would let anyone
        # forge a link to any case.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, kept the same on "
            "every machine. For development on this machine, set DEBUG=1 instead (`make run` "
            "does)."
        )
    # Development only: a stable key so sessions and signed links survive restarts.
    SECRET_KEY = "insecure-development-key-change-me-" + "0" * 20
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "workspace",  # before django.contrib.admin: it overrides admin templates
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "aftersales",
    "marketplaces",
    "cases",
    "intake",
    "messaging",  # issue 6: the message log
    "scorecards",  # issue 6: marketplace scorecards
    "jobs",  # issue 6: background jobs
    "packs",  # issue 12: dispute packs
    "api",  # issue 3: REST API for integrations, webhooks
]

MIDDLEWARE = [
    # First: every log line of the request carries its id (aftersales.logs).
    "aftersales.middleware.RequestIdMiddleware",
    # Before the host check and the HTTPS redirect: a load balancer probes by address over HTTP.
    "aftersales.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from gunicorn itself, hashed names cached for a year (issue 10).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "aftersales.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database that cannot be reached answers 503 with Retry-After, never a traceback.
    "aftersales.middleware.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "aftersales.urls"
WSGI_APPLICATION = "aftersales.wsgi.application"
ASGI_APPLICATION = "aftersales.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "aftersales" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://..., sqlite:///...); default a SQLite file in the project.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'aftersales.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # A kept connection that died with the server (an outage, a failover) is replaced at the
        # next request instead of failing it.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable server fails the request in seconds (a 503), not after the TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    )
    # No JIT compilation: it pays off for long analytical queries, and here cost 10-12 ms of
    # compiling on scorecard reads of 20-200 ms (PostgreSQL's default turns it on by cost).
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes; the timeout makes a
    # writer wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Internationalisation: staff and customers work in English, French or Chinese.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))

# Uploaded evidence lives under MEDIA_ROOT, which is never served by URL: files are streamed by
# views that check access. There is deliberately no MEDIA_URL route.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT / "files"},
    },
    # Hashed and compressed names written by collectstatic (``make serve`` runs it); with DEBUG
    # on, the files are served unhashed from the apps.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT / "evidence", "directory_permissions_mode": 0o750},
    },
}
# Uploads above this size go to a temporary file on disk instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Evidence limits (docs/domain.md §3); configurable per deployment.
EVIDENCE_MAX_PHOTO_BYTES = int(os.environ.get("EVIDENCE_MAX_PHOTO_BYTES", 20 * 1024 * 1024))
EVIDENCE_MAX_VIDEO_BYTES = int(os.environ.get("EVIDENCE_MAX_VIDEO_BYTES", 200 * 1024 * 1024))
EVIDENCE_MAX_VIDEO_SECONDS = float(os.environ.get("EVIDENCE_MAX_VIDEO_SECONDS", 300))
EVIDENCE_MAX_PHOTO_PIXELS = int(os.environ.get("EVIDENCE_MAX_PHOTO_PIXELS", 40_000_000))

# E-mail: in development each message is written to a file in var/outbox/ (the deadline sweep
# sends many, and printed on the console they would bury the server's output); SMTP in
# production (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the EMAIL_* below).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "outbox"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "aftersales@localhost")

# Background jobs: django-q2 on the ORM broker by default; set REDIS_URL to use Redis.
Q_CLUSTER: dict = {
    "name": "aftersales",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 600,
    "retry": 900,
    "max_attempts": 3,
    "catch_up": False,
    "label": "Background jobs",
}
if os.environ.get("REDIS_URL"):
    Q_CLUSTER["redis"] = os.environ["REDIS_URL"]
else:
    Q_CLUSTER["orm"] = "default"

# Rate limits (API throttling, evidence-link limits) count in the cache. The in-process default
# is right for one server process (``make run``); with several processes or machines, set
# REDIS_URL so that they share one count.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Tests and one-off scripts can run tasks in-process.
if env_bool("Q_SYNC", False):
    Q_CLUSTER["sync"] = True

# Logs: one JSON object per line on standard error (``LOG_FORMAT=json``, the default with DEBUG
# off), each with the request id of the request it was written in (aftersales.logs); readable
# text in development.
LOG_FORMAT: str = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "aftersales.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "aftersales.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own loggers write through the root handler (one format for every line).
    "loggers": {"django": {"handlers": [], "propagate": True}},
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# -- HTTPS (issue 10): all from the environment, documented in the README ("Deploying") -------
# Behind a reverse proxy that ends TLS, say which header tells a request came over HTTPS:
# ``SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto`` (the value ``https`` is implied) or
# ``Header-Name=value``. Only set it when the proxy overwrites that header from the client.
SECURE_SSL_REDIRECT: bool = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS: int = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD: bool = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE: bool = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE: bool = env_bool("CSRF_COOKIE_SECURE", False)


def _proxy_ssl_header(value: str) -> tuple[str, str] | None:
    if not value.strip():
        return None
    name, _sep, expected = value.partition("=")
    meta = "HTTP_" + name.strip().upper().replace("-", "_")
    return (meta, expected.strip() or "https")


SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(os.environ.get("SECURE_PROXY_SSL_HEADER", ""))
# The Content-Security-Policy of every page that sets none of its own (the admin, the forms;
# the API readers have theirs). Scripts from this server only; inline styles are allowed (the
# dashboard's bars and the admin's widgets set widths inline; no script can run from them).
CONTENT_SECURITY_POLICY: str = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

# -- Health and outages (issue 10) -------------------------------------------------------------
# ``/healthz`` answers when the process does; ``/readyz`` when the database, the broker and
# cache, and the evidence storage answer too (aftersales.health).
# What a 503 answer tells clients to wait before trying again, while the database is down.
OUTAGE_RETRY_AFTER_SECONDS: int = int(os.environ.get("OUTAGE_RETRY_AFTER_SECONDS", "5"))

# -- Support workspace (the Django admin; app `workspace`) ------------------------------------
# The application's own settings are declared here once, typed, with their defaults; the code
# reads them as ``settings.NAME`` (no second default anywhere else).
# Lists count exactly up to this many rows; beyond, they show an estimate (PostgreSQL) or
# "more than N", so a list over a million cases never runs a full COUNT.
WORKSPACE_EXACT_COUNT_LIMIT: int = int(os.environ.get("WORKSPACE_EXACT_COUNT_LIMIT", "1000"))
# Most cases a bulk action (assign, remind, transition) runs on at once.
WORKSPACE_BULK_ACTION_LIMIT: int = int(os.environ.get("WORKSPACE_BULK_ACTION_LIMIT", "500"))

# -- Background jobs and scorecards (apps `jobs`, `scorecards`, `messaging`) -------------------
# Who hears about deadlines of unassigned cases and late shipments (comma-separated e-mails);
# when empty, every active staff user with an e-mail address.
TEAM_EMAILS: list[str] = env_list("TEAM_EMAILS")
# Who receives the quarterly scorecard report; when empty, the team (above).
SCORECARD_REPORT_RECIPIENTS: list[str] = env_list("SCORECARD_REPORT_RECIPIENTS")
# How often the worker runs the deadline sweep (minutes); `setup_schedules` applies it.
DEADLINE_SWEEP_MINUTES: int = int(os.environ.get("DEADLINE_SWEEP_MINUTES", "5"))

# -- Evidence intake (upload links and forms; app `intake`) -----------------------------------
# Absolute address of this site, for links in e-mails (sent by background jobs, with no request).
INTAKE_PUBLIC_URL: str = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")
# An upload link keeps working this long after its request's deadline (late evidence is still
# heard; staff see the deadline as missed), then answers "expired" (410).
INTAKE_LINK_GRACE: dt.timedelta = dt.timedelta(
    days=float(os.environ.get("INTAKE_LINK_GRACE_DAYS", "3"))
)
# The one reminder e-mail goes this long before the deadline.
INTAKE_REMINDER_BEFORE: dt.timedelta = dt.timedelta(
    hours=float(os.environ.get("INTAKE_REMINDER_HOURS", "24"))
)
# E-mail the upload link to the customer when a customer request is made.
INTAKE_EMAIL_LINKS: bool = env_bool("INTAKE_EMAIL_LINKS", True)
# Rate limits: name -> (count, window in seconds); see intake/ratelimit.py. Counters live in
# this cache; production must use a cache shared by all web processes (Redis).
INTAKE_RATE_LIMITS: dict[str, tuple[int, int]] = {}
INTAKE_RATE_LIMIT_CACHE: str = os.environ.get("INTAKE_RATE_LIMIT_CACHE", "default")
# Behind N reverse proxies, the client address is the N-th from the right of X-Forwarded-For.
INTAKE_TRUSTED_PROXIES: int = int(os.environ.get("INTAKE_TRUSTED_PROXIES", "0"))

# -- REST API for integrations and webhooks (app `api`) ---------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsApiClient"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    # Requests per client (a client's own limit, set in the admin, wins); bulk order imports
    # (up to 10,000 orders each) have their own. Counts live in the default cache: with several
    # web processes, use a shared cache (Redis or the database cache).
    "DEFAULT_THROTTLE_RATES": {
        "client": os.environ.get("API_THROTTLE_RATE", "1200/min"),
        "bulk": os.environ.get("API_BULK_THROTTLE_RATE", "120/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": [],
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ProblemAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "aftersales API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from drf-spectacular-sidecar: nothing is fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "validatorUrl": None,
        "persistAuthorization": True,
    },
    "GET_LIB_DOC_EXCLUDES": "api.schema.library_doc_excludes",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.describe_api",
        "api.schema.declare_rules",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "cases.choices.CaseState",
        "CaseKindEnum": "cases.choices.CaseKind",
        "RefundRejectionReasonEnum": "cases.choices.RefundRejectionReason",
        "EvidenceSourceEnum": "cases.choices.EvidenceSource",
        "UploadSourceEnum": ["api", "customer", "partner"],
        "MessageChannelEnum": "messaging.models.MessageChannel",
        "MetricUnitEnum": ["ratio", "seconds", "score"],  # scorecards.definitions.Unit
        # One name per choice set: without these, check --deploy warns (drf_spectacular.W001).
        "RefundDecisionEnum": "cases.choices.RefundDecision",
        "ReturnDecisionEnum": "cases.choices.ReturnDecision",
        "CustomerLanguageEnum": "cases.models.orders.CUSTOMER_LANGUAGES",
    },
}
# Bodies above this size are refused (413) before being read (a 10,000-order import is ~5 MB).
API_MAX_JSON_BYTES = int(os.environ.get("API_MAX_JSON_BYTES", 32 * 1024 * 1024))
# A POST's Idempotency-Key (and its stored answer) is kept this long.
API_IDEMPOTENCY_SECONDS = int(os.environ.get("API_IDEMPOTENCY_SECONDS", 24 * 3600))
# Webhooks: per-request timeout; retries for at least this long, waiting 30 s doubling up to 4 h.
API_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("API_WEBHOOK_TIMEOUT_SECONDS", "10"))
API_WEBHOOK_RETRY_SECONDS = int(os.environ.get("API_WEBHOOK_RETRY_SECONDS", 24 * 3600))
API_WEBHOOK_BACKOFF_BASE_SECONDS = 30
API_WEBHOOK_BACKOFF_MAX_SECONDS = 4 * 3600
# Webhook URLs on loopback or private networks are refused in production (a client must not make
# this server probe its own network); allowed in development and tests.
API_WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("API_WEBHOOK_ALLOW_PRIVATE_NETWORKS", DEBUG)

# -- Hostile and concurrent traffic (issue 10: webhooks, abuse, file names, personal data) -----
# Settings of the application's own defences; the production wiring (server, cache, storage,
# HTTPS, logs) is above and in its own blocks.
# Most webhook subscriptions a client may hold (each case event is one delivery per
# subscription).
API_WEBHOOK_MAX_SUBSCRIPTIONS = int(os.environ.get("API_WEBHOOK_MAX_SUBSCRIPTIONS", "20"))

# Admin list parameters are checked before they reach the database (workspace.parameters).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "workspace.parameters.ListParametersMiddleware",
)

# Failed staff logins (django-axes): after AXES_FAILURE_LIMIT failures within the cool-off, a
# (user name, address) pair is locked out, and so is an address whatever user names it tries;
# a lockout lifts after AXES_COOLOFF_MINUTES, or when a supervisor deletes it in the admin
# (Axes > Access attempts); a successful login clears the user's failures. Attempts are kept in
# the database, which every web process shares (the cache handler would need the shared Redis
# cache and shows nothing in the admin).
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "workspace.lockout.lockout_response"
# The address as the rate limits see it (INTAKE_TRUSTED_PROXIES), not a forgeable header.
AXES_CLIENT_IP_CALLABLE = "intake.ratelimit.client_ip"
AXES_VERBOSE = False
# Invalid API keys, per client address: more than this many in the window answer 429.
API_INVALID_KEY_LIMIT = int(os.environ.get("API_INVALID_KEY_LIMIT", "30"))
API_INVALID_KEY_WINDOW_SECONDS = int(os.environ.get("API_INVALID_KEY_WINDOW_SECONDS", "600"))

# -- Several web processes and workers: Redis (issue 10, "scale") -----------------------------
# REDIS_URL (e.g. redis://redis.internal:6379/0) makes every process share one Redis: the
# django-q2 broker (tasks queued by any web process, taken by any worker) and the cache that
# holds every rate-limit count (API clients, invalid keys, upload links). Staff login failures
# (django-axes) are counted in the database, which every process shares already.
# REDIS_CACHE_URL and REDIS_BROKER_URL, when set, give each its own database or server: a cache
# ``clear()`` empties its whole Redis database, which must not hold the queue. The default keeps
# them apart on one server: the broker on the URL's database, the cache on the next one.
REDIS_URL = os.environ.get("REDIS_URL", "")


def _redis_next_db(url: str) -> str:
    """``redis://host:6379/0`` -> ``redis://host:6379/1`` (database 0 when none is named)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    current = parts.path.strip("/")
    number = int(current) + 1 if current.isdigit() else 1
    return urlunsplit(parts._replace(path=f"/{number}"))


if REDIS_URL:
    Q_CLUSTER.pop("orm", None)
    Q_CLUSTER["redis"] = os.environ.get("REDIS_BROKER_URL") or REDIS_URL
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_CACHE_URL") or _redis_next_db(REDIS_URL),
        "KEY_PREFIX": "aftersales",
    }

# -- Evidence on object storage (issue 10, "scale") -------------------------------------------
# AWS_STORAGE_BUCKET_NAME puts the evidence files (and outgoing e-mail attachments) in a bucket
# of any S3-compatible service instead of MEDIA_ROOT, so that every web process and worker sees
# the same files. The bucket stays private: the backend (cases.storage.PrivateS3Storage) gives no
# URL, public or presigned; files are streamed by the access-checked views. Uploads still wait in
# MEDIA_ROOT/tmp while they are checked.
#   AWS_STORAGE_BUCKET_NAME   the bucket (created beforehand, public access blocked)
#   AWS_S3_ENDPOINT_URL       the service's address (empty: Amazon S3 itself)
#   AWS_S3_REGION_NAME        its region, when it needs one
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   the credentials (or the machine's role)
#   AWS_LOCATION              a folder inside the bucket (default: none)
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:

    def _bucket_storage(folder: str) -> dict:
        prefix = os.environ.get("AWS_LOCATION", "").strip("/")
        return {
            "BACKEND": "cases.storage.PrivateS3Storage",
            "OPTIONS": {
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
                "location": f"{prefix}/{folder}" if prefix else folder,
            },
        }

    STORAGES["evidence"] = _bucket_storage("evidence")
    STORAGES["default"] = _bucket_storage("files")
