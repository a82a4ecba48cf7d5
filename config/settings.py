"""ConsentDesk settings, read from the environment.

The defaults are the one-command demo's (a SQLite file and an embedded
filesystem broker); production sets DATABASE_URL, CELERY_BROKER_URL,
DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS. DEBUG is off unless DJANGO_DEBUG=1.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CONSENTDESK_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for a local demo).")
    SECRET_KEY = "demo-only-secret-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "phonenumber_field",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "accounts",
    "customers",
    "consent",
    "compliance",
    "compliance.registry",
    "campaigns",
    "helpdesk",
    "demo",  # the top, beside config: seed_demo touches every app
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ViewerTimezoneMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionIdleMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "accounts.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DEMO_SQLITE_PATH = VAR_DIR / "demo.sqlite3"
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{DEMO_SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo only: WAL lets the web, worker and beat processes read while one
    # writes; IMMEDIATE takes the write lock at BEGIN so that two writers queue
    # up instead of failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
    # Values bound by the server, and statements prepared once per connection (psycopg 3):
    # a hot path runs the same few statements on every request, and PostgreSQL then plans
    # each once per connection, not on every call (the check's facts statement: about 3 ms
    # of planning). Behind a transaction-mode pooler that cannot keep prepared statements
    # (PgBouncer before 1.21), set DJANGO_DB_PREPARE_THRESHOLD=-1 (never prepare).
    _prepare_threshold = env.int("DJANGO_DB_PREPARE_THRESHOLD", default=2)
    DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault(
        "prepare_threshold", None if _prepare_threshold < 0 else _prepare_threshold
    )
    # test_<database>: suites run against different databases never share one.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
        "DJANGO_TEST_DATABASE_NAME", default=f"test_{DATABASES['default']['NAME']}"
    )
# The schema's owner (core.db_roles): `migrate` and `flush` run as this role,
# the app (web, worker, beat) as DATABASE_URL's, which may only read and
# append to the audit tables. Unset: one role for both (check --deploy warns).
DATABASE_OWNER = None
if env.str("DATABASE_OWNER_URL", default=""):
    _owner = env.db_url("DATABASE_OWNER_URL")
    if _owner["ENGINE"] != DATABASES["default"]["ENGINE"] or _owner["NAME"] != DATABASES["default"]["NAME"]:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the same PostgreSQL database as DATABASE_URL."
        )
    DATABASE_OWNER = {key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "config.postgresql"  # Django's, with a health check without a round trip
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes watches password logins (pages and admin) and locks a username+IP out
# after repeated failures; API tokens are separate credentials and never pass through it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("CONSENTDESK_LOGIN_LOCKOUT", default=True)
AXES_FAILURE_LIMIT = env.int("CONSENTDESK_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("CONSENTDESK_LOGIN_COOLOFF_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.signals.axes_username"  # truncated: a 300-character name is no 500
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successes and failures go to accounts.AccessLog instead
# TOTP after the password for compliance officers and superusers (pages and admin;
# API tokens are separate credentials). On unless DEBUG: the demo's logins stay one step.
CONSENTDESK_REQUIRE_2FA = env.bool("CONSENTDESK_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = "ConsentDesk"
# A session unused this long is over (requests move the deadline on: accounts.middleware).
SESSION_COOKIE_AGE = env.int("CONSENTDESK_SESSION_IDLE_MINUTES", default=30) * 60
# Password reset emails: printed to the console in the demo, SMTP from DJANGO_EMAIL_URL
# (e.g. smtp+tls://user:password@smtp.example.com:587) in production.
vars().update(env.email_url("DJANGO_EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="ConsentDesk <consentdesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PASSWORD_RESET_TIMEOUT = env.int("CONSENTDESK_PASSWORD_RESET_MINUTES", default=60) * 60

# --- I18N / time ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # stored and the default shown; each viewer sees their own zone (the `tz` cookie)
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]  # one date format everywhere: "Dec 2, 2026 14:18 EST"

# --- Static files ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# --- Security (production-safe unless DEBUG) ----------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Key of the suppression hashes that keep an erased person's number blocked.
# Its own key, never DJANGO_SECRET_KEY: rotating the secret key must never
# un-suppress anyone. Old keys stay listed in CONSENTDESK_SUPPRESSION_KEYS_OLD
# for as long as an entry made with them exists (`manage.py suppression_rehash`).
SUPPRESSION_HASH_KEY = env.str("CONSENTDESK_SUPPRESSION_KEY", default="")
if not SUPPRESSION_HASH_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set CONSENTDESK_SUPPRESSION_KEY (a long random string, kept apart from DJANGO_SECRET_KEY; "
            "see README, Configuration)."
        )
    SUPPRESSION_HASH_KEY = "demo-only-suppression-key-never-use-in-production-0123456789"
SUPPRESSION_HASH_KEYS_OLD = [
    key
    for key in env.list("CONSENTDESK_SUPPRESSION_KEYS_OLD", default=[])
    if key and key != SUPPRESSION_HASH_KEY
]
# The decision log's checkpoints (compliance.ledger): signed with an Ed25519 key
# the database never sees (a PEM PKCS#8 file; unset, one is created under the
# var directory with a warning), kept in a directory outside the database.
LEDGER_KEY_CONFIGURED = bool(env.str("CONSENTDESK_LEDGER_KEY", default=""))
LEDGER_KEY_PATH = Path(env.str("CONSENTDESK_LEDGER_KEY", default="") or VAR_DIR / "ledger" / "ledger-key.pem")
LEDGER_CHECKPOINT_DIR = Path(
    env.str("CONSENTDESK_LEDGER_CHECKPOINTS", default="") or VAR_DIR / "ledger" / "checkpoints"
)
# The inbound SMS webhook's signatures (unset: that kind of signed request is refused).
SMS_WEBHOOK_SECRET = env.str("CONSENTDESK_SMS_WEBHOOK_SECRET", default="")
TWILIO_AUTH_TOKEN = env.str("CONSENTDESK_TWILIO_AUTH_TOKEN", default="")
SIMPLE_HISTORY_REVERT_DISABLED = True  # history is read-only for everyone
PREFERENCE_LINK_MAX_AGE_DAYS = env.int("CONSENTDESK_PREFERENCE_LINK_DAYS", default=30)
CONSENTDESK_COMPANY_NAME = env.str("CONSENTDESK_COMPANY_NAME", default="Northwind Retail")

# --- Phone numbers ---------------------------------------------------------------
PHONENUMBER_DEFAULT_REGION = "US"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"

# --- REST API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenRolesAuthentication",  # token, user and roles in one query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.access.HasAnyRole"],
    # JSON only (the contract's format), with size, depth and NUL limits; a view that takes a
    # provider's form-encoded webhook sets its own parser_classes.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.KeysetPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ConsentDesk API",
    "DESCRIPTION": "Consent, do-not-call, compliance checks and the dialer queue.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["accounts.access.HasAnyRole"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation's 400/401/403/404/413 answers, with one shared error shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OptOutViaEnum": "consent.models.OptOutVia",
        "ConsentSourceEnum": "consent.models.ConsentGrant.Source",
        # Stable names for the contract's enums now that tickets have a status and a channel too.
        "StatusEnum": "campaigns.models.Campaign.Status",
        "ChannelEnum": "consent.models.Channel",
        "TicketStatusEnum": "helpdesk.models.Ticket.Status",
        "TicketChannelEnum": "helpdesk.models.Ticket.Channel",
    },
}

# --- Celery ------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The demo's embedded broker: messages are files in var/broker, no server.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    (BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False

# --- Logging -----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Registry inboxes: where the FTC download (or an operator) drops files ---
# Each source watches <REGISTRY_INBOX_ROOT>/<name>/ (default national, state-XX; a
# source may name another folder below the root, never a path); change lists go
# in its changes/ subfolder.
REGISTRY_INBOX_ROOT = Path(env.str("CONSENTDESK_REGISTRY_INBOX", default=str(VAR_DIR / "registry-inbox")))
# A file modified more recently than this is still being written: left for the next run.
REGISTRY_INBOX_SETTLE_SECONDS = env.float("CONSENTDESK_REGISTRY_INBOX_SETTLE_SECONDS", default=30.0)
# Shrink guard: a full file removing more than this share of an area code's numbers,
# where the area code holds at least REGISTRY_SHRINK_FLOOR, is held for a second
# compliance officer's approval (DESIGN.md "DNC registry files").
REGISTRY_SHRINK_LIMIT = env.float("CONSENTDESK_REGISTRY_SHRINK_LIMIT", default=0.20)
REGISTRY_SHRINK_FLOOR = env.int("CONSENTDESK_REGISTRY_SHRINK_FLOOR", default=1000)

# --- Reassigned Numbers Database (compliance.rnd.adapters) ---
# How RND queries are sent: "recorded" (a table of last-disconnect dates from
# CONSENTDESK_RND_RECORDED, a CSV phone_number,last_disconnect; without one every
# number is unknown to it: tests, CI, the demo), "file" (upload files to the outbox,
# result files from the inbox), "dnc_com" (DNC.com's RND Basic API) or "twilio"
# (Twilio Lookup's reassigned_number). Unset outside debug: nothing is queried (and
# no answer is made up) until a deployment names one.
# Litigator screening by a provider's lookup (compliance.registry.litigator_adapters):
# "recorded" (canned matches from CONSENTDESK_LITIGATOR_RECORDED, a CSV
# phone_number,level,listed_on) or unset (nothing is screened; list files still load).
LITIGATOR_ADAPTER = env.str("CONSENTDESK_LITIGATOR_ADAPTER", default="")
LITIGATOR_RECORDED_FILE = env.str("CONSENTDESK_LITIGATOR_RECORDED", default="")
RND_ADAPTER = env.str("CONSENTDESK_RND_ADAPTER", default="recorded" if DEBUG else "")
RND_RECORDED_FILE = env.str("CONSENTDESK_RND_RECORDED", default="")
RND_OUTBOX = Path(env.str("CONSENTDESK_RND_OUTBOX", default=str(VAR_DIR / "rnd" / "outbox")))
RND_INBOX = Path(env.str("CONSENTDESK_RND_INBOX", default=str(VAR_DIR / "rnd" / "inbox")))
# The result files' layout (the official one is not public): header names of the
# number, date and answer columns (update_column optional), the date format, and
# which cell value means yes / no / no_data. JSON; keys as compliance.rnd.adapters.ResultMap.
RND_RESULT_MAP = env.json("CONSENTDESK_RND_RESULT_MAP", default={})
RND_DNC_COM_LOGIN_ID = env.str("CONSENTDESK_RND_DNC_COM_LOGIN_ID", default="")
RND_TWILIO_ACCOUNT_SID = env.str("CONSENTDESK_RND_TWILIO_ACCOUNT_SID", default="")
RND_TWILIO_AUTH_TOKEN = env.str("CONSENTDESK_RND_TWILIO_AUTH_TOKEN", default="")
