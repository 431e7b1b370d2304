"""Settings, all read from the environment (see .env.example).

Embedded defaults give a working service with nothing installed: a SQLite file in the project and Celery tasks
run in-process after the transaction commits. Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL
(Redis).
"""

from datetime import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# On by default so a fresh checkout runs as a development server; production sets DEBUG=false (and SECRET_KEY).
DEBUG = env.bool("DEBUG", default=True)

DEVELOPMENT_SECRET_KEY = "development-only-insecure-key"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY):
    # No fallback in production: a key anyone can read in this file would let anyone forge sessions.
    raise ImproperlyConfigured("SECRET_KEY must be set (to a long random string of your own) when DEBUG is false.")
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    # django.contrib.admin, its site building the app list only for a page that shows it.
    "common.admin_site.OpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver serves static files as gunicorn does (WhiteNoise), not with staticfiles' own view.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "omnitron",
    "channels",
    "orders",
    "cancellations",
    "refunds",
    "storefront",
    "webhooks",
]

MIDDLEWARE = [
    "common.request_id.RequestIdMiddleware",
    "common.api.middleware.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "channels.middleware.AdminLoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "omnitron.urls"
# An API request whose body is larger is refused with 413 before it is read.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
WSGI_APPLICATION = "omnitron.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and a test thread share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )

# The hot statements (common.compiled.prepared_cursor) are prepared once per connection on PostgreSQL; off for a
# connection pooler in transaction mode that does not keep prepared statements.
PREPARED_STATEMENTS = env.bool("PREPARED_STATEMENTS", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic's output, which gunicorn serves through WhiteNoise (with DEBUG on, the apps' own files are served).
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # With DEBUG off: content-hashed names (cached for good by browsers) and gzip copies, from collectstatic's manifest.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Decided by DEBUG as the process starts (the test runner turns DEBUG off later): in development WhiteNoise finds the
# apps' files as they change; in production it indexes STATIC_ROOT once, at start-up.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# ISO 8601 wants a four-digit year; glibc's `%Y` writes the year 269 as "269", its `%4Y` as "0269". The directive
# that pads, where the C library has one.
_YEAR = "%4Y" if datetime(269, 1, 1).strftime("%4Y") == "0269" else "%Y"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["channels.authentication.ExpiringTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.LimitPagePagination",
    "PAGE_SIZE": 10,
    "DEFAULT_FILTER_BACKENDS": ["common.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "common.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": f"{_YEAR}-%m-%dT%H:%M:%S.%fZ",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "Omnitron cancellations and refunds API",
    "DESCRIPTION": (
        "Order intake, order cancellation and returns, cancellation requests and refunds for sales channels "
        "and the back office. Authenticate with `Authorization: Token <key>` from `POST /api/i1/auth/login/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from this server's static files, not from a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No "valid" badge fetched from swagger.io (it would send the schema's URL there).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # `/api/v1/` serves the same routes as `/api/i1/` and `/api/channel/` for Omnitron's clients: documented once.
    "PREPROCESSING_HOOKS": ["common.api.schema.drop_alias_routes"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.schema.declare_error_responses",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "CancelStatusEnum": "orders.models.CancelStatus",
        "CancellationTypeEnum": "cancellations.models.CancellationType",
        "CancellationRequestStatusEnum": "cancellations.models.CancellationRequestStatus",
        "CancellationPlanStatusEnum": "cancellations.models.CancellationPlanStatus",
        "EasyReturnStatusEnum": "cancellations.models.EasyReturnStatus",
        "RefundStatusEnum": "refunds.models.RefundStatus",
        "OutboxStatusEnum": "common.outbox.OutboxStatus",
        "WebhookEventTypeEnum": "webhooks.models.WebhookEventType",
    },
}

# Celery: without a broker, tasks run in-process right after the surrounding transaction commits.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# At-least-once delivery: a task is acknowledged only after it ran, and re-delivered if its worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Messages a worker process reserves ahead: it takes the next task while acknowledging the last, instead of one
# round trip to the broker after each (with -c 1 on the sandbox gateway: about 1.4x the refunds a second). Safe
# with late acknowledgement: a reserved message of a worker that dies is delivered again, and the refund, sync or
# delivery row stays the truth (the sweepers re-send it). 1 for workers of long tasks only.
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
# Celery's Django fixup closes the database connection before and after every task unless this is set, so each task
# would open a new one (a connection costs more than a refund's queries). Set, the fixup closes it only every this
# many tasks, and omnitron/celery.py applies CONN_MAX_AGE and the health rules to it between tasks, as Django does
# between requests.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the hard time limit, so Redis does not re-deliver a task that is still running.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_TIMEZONE = TIME_ZONE
BROKER_HEALTH_TIMEOUT = env.float("BROKER_HEALTH_TIMEOUT", default=2.0)

# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id, exception); plain for
# development. Every line carries the request id (see common/request_id.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="") or "plain"
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "common.logs.RequestIdFilter"},
        "skip_logged_errors": {"()": "common.logs.SkipLoggedErrorsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own loggers go through the one handler above, not through Django's default console handlers (which
    # would print each django.request line a second time).
    "loggers": {
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        # runserver's access lines: a 4xx or 5xx is logged once, by django.request, not a second time here.
        "django.server": {"handlers": [], "level": "NOTSET", "propagate": True, "filters": ["skip_logged_errors"]},
    },
}

# Error reports go to Sentry only when a DSN is given.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from omnitron.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
    # Behind HTTPS set these (README, Production): redirect plain HTTP and tell browsers to stay on HTTPS.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# The cache holds the login-failure counters; give every process the same one (Redis) in production.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# Accounts: failed logins per username and per client address within the window, before 429 with Retry-After.
LOGIN_FAILURES_PER_USERNAME = env.int("LOGIN_FAILURES_PER_USERNAME", default=10)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=300)
# API tokens older than this many hours stop working (and are deleted); 0 keeps them until logout or a new password.
TOKEN_TTL_HOURS = env.int("TOKEN_TTL_HOURS", default=0)

# Cancellations and refunds
DEFAULT_CANCELLATION_STRATEGY = env.str("DEFAULT_CANCELLATION_STRATEGY", default="default")
IDEMPOTENCY_KEY_TTL_HOURS = 24
# A request still "in flight" after this long is taken to have died; its key can be used again.
IDEMPOTENCY_IN_FLIGHT_TIMEOUT = env.int("IDEMPOTENCY_IN_FLIGHT_TIMEOUT", default=120)
REFUND_CARD_GATEWAY = env.str("REFUND_CARD_GATEWAY", default="refunds.gateways.SandboxGateway")
# The sandbox gateway's behaviour: "succeed", or "fail" to refuse every refund (demos and tests).
SANDBOX_GATEWAY_MODE = env.str("SANDBOX_GATEWAY_MODE", default="succeed")
REFUND_LEASE_SECONDS = env.int("REFUND_LEASE_SECONDS", default=120)
if REFUND_LEASE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    # A lease that ends while its worker may still be calling the rail would let a second worker call it too.
    raise ImproperlyConfigured(
        f"REFUND_LEASE_SECONDS ({REFUND_LEASE_SECONDS}) must outlive CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT}),"
        " the moment a task still calling a rail is killed."
    )
REFUND_MAX_ATTEMPTS = env.int("REFUND_MAX_ATTEMPTS", default=5)
REFUND_SWEEP_INTERVAL = env.int("REFUND_SWEEP_INTERVAL", default=30)
# Backoff between attempts: REFUND_RETRY_BASE_DELAY * 2**(attempt-1) seconds, capped, with up to 50% jitter.
REFUND_RETRY_BASE_DELAY = env.float("REFUND_RETRY_BASE_DELAY", default=10.0)
REFUND_RETRY_MAX_DELAY = env.float("REFUND_RETRY_MAX_DELAY", default=600.0)
FINANCING_BASE_URL = env.str("FINANCING_BASE_URL", default="")
FINANCING_API_KEY = env.str("FINANCING_API_KEY", default="")
FINANCING_TIMEOUT = env.float("FINANCING_TIMEOUT", default=10.0)
# Publishing a task must not hold a request for long when the broker is down: the sweeper re-sends it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_connect_timeout": 2, "socket_timeout": 5})
# Outboxes (storefront syncs, webhook deliveries; see common/outbox.py): one lease per attempt, which must outlive
# the task time limit as a refund's does; the sweeper re-sends what is due.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
if OUTBOX_LEASE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"OUTBOX_LEASE_SECONDS ({OUTBOX_LEASE_SECONDS}) must outlive CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT})."
    )
OUTBOX_SWEEP_INTERVAL = env.int("OUTBOX_SWEEP_INTERVAL", default=30)
# The storefront cancel call (channel conf.storefront): timeout in seconds, attempts, backoff as for refunds.
STOREFRONT_TIMEOUT = env.float("STOREFRONT_TIMEOUT", default=10.0)
STOREFRONT_MAX_ATTEMPTS = env.int("STOREFRONT_MAX_ATTEMPTS", default=8)
STOREFRONT_RETRY_BASE_DELAY = env.float("STOREFRONT_RETRY_BASE_DELAY", default=10.0)
STOREFRONT_RETRY_MAX_DELAY = env.float("STOREFRONT_RETRY_MAX_DELAY", default=900.0)
# Webhook deliveries: timeout, backoff, and how long a delivery is retried.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_RETRY_BASE_DELAY = env.float("WEBHOOK_RETRY_BASE_DELAY", default=30.0)
WEBHOOK_RETRY_MAX_DELAY = env.float("WEBHOOK_RETRY_MAX_DELAY", default=3600.0)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
# Receivers on loopback or private addresses (server-side request forgery): allowed for development only.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=DEBUG)
# Beat writes its schedule file after every task it sends: the file's age is its health check (omnitron/beat_health.py).
CELERY_BEAT_SYNC_EVERY = 1
CELERY_BEAT_SCHEDULE = {
    "refunds-sweep": {"task": "refunds.sweep", "schedule": float(REFUND_SWEEP_INTERVAL)},
    "outbox-sweep": {"task": "outbox.sweep", "schedule": float(OUTBOX_SWEEP_INTERVAL)},
    "idempotency-purge": {"task": "omnitron.idempotency_purge", "schedule": 3600.0},
}
