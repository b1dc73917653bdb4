"""FlowChat settings: one file, read from the environment, with development defaults.

With no environment set, FlowChat runs on SQLite and the in-memory channel layer.
Every variable is listed in the README ("Configuration").
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from flowchat.secret_key import load_or_create

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    return os.getenv(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


# Off unless asked for: Django's debug pages show settings and code to whoever hits an error.
DEBUG = envbool("DEBUG", "false")
# An empty SECRET_KEY (a blank line in an env file) counts as unset, not as a key. Unset, the
# key is made once and kept in SECRET_KEY_FILE (git-ignored, readable by its owner alone).
SECRET_KEY = os.getenv("SECRET_KEY") or load_or_create(Path(os.getenv("SECRET_KEY_FILE") or BASE_DIR / ".secret_key"))

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_NAME = os.getenv("SITE_NAME", "FlowChat")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "allauth",
    "allauth.account",
    "accounts",
    "conversations",
]

MIDDLEWARE = [
    # Outermost: a request's broadcasts go once its whole answer has been sent.
    "conversations.outbox.AfterTheAnswer",
    # A view that fails for want of the database answers 503 (flowchat.unavailable).
    "flowchat.unavailable.DatabaseUnavailable",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files keep their own caching (flowchat.headers).
    "flowchat.headers.ResponseHeaders",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "flowchat.urls"
ASGI_APPLICATION = "flowchat.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.preferences",
            ],
        },
    },
]

# Databases ------------------------------------------------------------------

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "flowchat.sqlite3",
        # The live-server tests run the app in another process, so the test
        # database must be a file both processes can open.
        "TEST": {"NAME": BASE_DIR / "test_flowchat.sqlite3"},
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
    }
}
if database_url := os.getenv("DATABASE_URL"):
    sqlite_options = DATABASES["default"]["OPTIONS"]
    # Under an ASGI server every request runs in a thread of its own, so a persistent connection
    # (CONN_MAX_AGE) would be one more connection per request; a bounded pool shares a few.
    # With health checks on, the pool checks a connection before it lends it (psycopg's
    # ConnectionPool.check_connection), so none that died with a restarted PostgreSQL is used
    # (tests/faults/test_postgres_restart.py).
    DATABASES["default"] = dj_database_url.parse(database_url, conn_max_age=0, conn_health_checks=True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = sqlite_options
        sqlite_path = Path(DATABASES["default"]["NAME"])
        DATABASES["default"]["TEST"] = {"NAME": sqlite_path.with_name(f"test_{sqlite_path.name}")}
    else:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": int(os.getenv("DATABASE_POOL_SIZE", "10")),
            # A request waits this long for a free connection before it fails.
            "timeout": float(os.getenv("DATABASE_POOL_TIMEOUT", "10")),
        }
        DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channels and cache -----------------------------------------------------------

REDIS_URL = os.getenv("REDIS_URL", "")


def redis_database(url: str) -> int:
    """The database number a redis:// URL names (its path or `?db=`; 0 when it names none)."""
    parts = urlsplit(url)
    number = parts.path.strip("/") or parse_qs(parts.query).get("db", ["0"])[0]
    return int(number) if number.isdigit() else 0


if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Publish/subscribe: a group message is one PUBLISH, not one list push per socket
            # (benchmarks/fanout.py measures both).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Redis's publish/subscribe ignores the database number: two sites on one Redis
            # (redis://…/1 and redis://…/2) would hear each other's events under one prefix.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"flowchat{redis_database(REDIS_URL)}"},
        }
    }
    # Rate limits must be counted across every server process. While Redis is down they count
    # in each process instead (flowchat/cache.py), and a dead Redis must not hold up requests.
    REDIS_CACHE_TIMEOUT = float(os.getenv("REDIS_CACHE_TIMEOUT", "0.5"))
    CACHES = {
        "default": {
            "BACKEND": "flowchat.cache.RedisWithFallback",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_CACHE_TIMEOUT, "socket_timeout": REDIS_CACHE_TIMEOUT},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Accounts ---------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
# Who may make an account: anyone (`open`, as the original API), whoever has an invite link
# (`invite`; links are made by operators, or by any member with SIGNUP_INVITES_BY=members),
# or nobody but the operators, in the admin or with createsuperuser (`closed`).
SIGNUP = os.getenv("SIGNUP", "open").strip().lower()
if SIGNUP not in {"open", "invite", "closed"}:
    raise ImproperlyConfigured("SIGNUP must be 'open', 'invite' or 'closed'.")
SIGNUP_INVITES_BY = os.getenv("SIGNUP_INVITES_BY", "staff").strip().lower()
if SIGNUP_INVITES_BY not in {"staff", "members"}:
    raise ImproperlyConfigured("SIGNUP_INVITES_BY must be 'staff' or 'members'.")
# One adapter for allauth's hooks: who may sign up (SIGNUP), and the login throttle.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_USERNAME_MIN_LENGTH = 2
# The login and password forms with FlowChat's labels (the templates are in templates/account/),
# and the sign-up form that asks for an invite under SIGNUP=invite.
ACCOUNT_FORMS = {
    "login": "accounts.allauth_forms.LoginForm",
    "change_password": "accounts.allauth_forms.ChangePasswordForm",
    "signup": "accounts.signup.SignupForm",
}
ACCOUNT_RATE_LIMITS = {
    # Logins are limited by FlowChat's own policy (accounts/login_throttle.py), which the
    # login page and /api/login/ share: allauth's per-address limits would lock out an office.
    "login": None,
    "login_failed": None,
    "signup": "20/h/ip",
}

# Who people search finds: everyone active (`all`, a team), or only those who already share a
# chat with the searcher (`shared`, a server open to sign-up: no directory of every account).
DIRECTORY = os.getenv("DIRECTORY", "all").strip().lower()
if DIRECTORY not in {"all", "shared"}:
    raise ImproperlyConfigured("DIRECTORY must be 'all' or 'shared'.")

# Wrong passwords before a login must wait (accounts/login_throttle.py): per login name and
# address, per login name from anywhere, and per address for every name; each count fills
# again over LOGIN_FAILURE_WINDOW_MINUTES. 0 turns that count off.
LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = envint("LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", 5)
LOGIN_FAILURES_PER_ACCOUNT = envint("LOGIN_FAILURES_PER_ACCOUNT", 20)
LOGIN_FAILURES_PER_ADDRESS = envint("LOGIN_FAILURES_PER_ADDRESS", 200)
LOGIN_FAILURE_WINDOW_MINUTES = envint("LOGIN_FAILURE_WINDOW_MINUTES", 15)

# Registration through the JSON API, per IP address and per username.
API_RATE_LIMITS = {
    "register": os.getenv("API_RATE_LIMIT_REGISTER", "20/h"),
}

# Behind a proxy every request comes from the proxy's address; the client's own is in
# the header the proxy sets (for example X-Real-IP), which rate limits must count by
# (flowchat/addresses.py, and allauth's sign-up limit).
if client_ip_header := os.getenv("CLIENT_IP_HEADER"):
    RATELIMIT_IP_META_KEY = "HTTP_" + client_ip_header.upper().replace("-", "_")
    ALLAUTH_TRUSTED_CLIENT_IP_HEADER = client_ip_header

# Messages a person may send: a burst of SEND_RATE_BURST at once, then SEND_RATE_PER_MINUTE
# (conversations/limits.py). Either set to 0 turns the limit off.
SEND_RATE_BURST = envint("SEND_RATE_BURST", 30)
SEND_RATE_PER_MINUTE = envint("SEND_RATE_PER_MINUTE", 60)

# Presence: each server process renews its open sockets every PRESENCE_HEARTBEAT_SECONDS;
# a socket not renewed for PRESENCE_TTL_SECONDS (its process died) no longer counts.
PRESENCE_HEARTBEAT_SECONDS = envint("PRESENCE_HEARTBEAT_SECONDS", 20)
PRESENCE_TTL_SECONDS = envint("PRESENCE_TTL_SECONDS", 60)
# Presence is live in direct chats and in groups of up to this many members (conversations.broadcast).
PRESENCE_GROUP_LIMIT = envint("PRESENCE_GROUP_LIMIT", 100)

# Sockets (conversations/socket_limits.py): open at once per person in one server process, and
# the frames one socket may send (a burst, then so many a second; a tab sends "typing" at
# most every two seconds). The largest frame is the server's to refuse (bin/serve: SOCKET_MAX_FRAME_BYTES).
MAX_SOCKETS_PER_PERSON = envint("MAX_SOCKETS_PER_PERSON", 50)
SOCKET_FRAME_BURST = envint("SOCKET_FRAME_BURST", 20)
SOCKET_FRAMES_PER_SECOND = envint("SOCKET_FRAMES_PER_SECOND", 5)

# Uploads ----------------------------------------------------------------------

MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
UPLOAD_MAX_PIXELS = envint("UPLOAD_MAX_PIXELS", 25_000_000)
# One message may carry up to 10 files (conversations.attachments), each up to UPLOAD_MAX_BYTES;
# all of them and its picture together up to this. Bodies are bounded by it, not by 10 × the file limit.
MESSAGE_UPLOAD_MAX_BYTES = envint("MESSAGE_UPLOAD_MAX_BYTES", 4 * UPLOAD_MAX_BYTES)
# Django holds a form or JSON body of at most this much in memory (larger: 413); an uploaded
# file over FILE_UPLOAD_MAX_MEMORY_SIZE is spooled to a temporary file, not held in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Any request body over this is refused with 413 before it is read (flowchat.request_bodies):
# room for the largest message's files and the form around them. 0 leaves it to the front proxy alone.
MAX_REQUEST_BYTES = envint("MAX_REQUEST_BYTES", max(UPLOAD_MAX_BYTES, MESSAGE_UPLOAD_MAX_BYTES) + 1024 * 1024)

# Link previews ----------------------------------------------------------------

# The first http(s) link of a message gets a preview (conversations.previews), fetched after
# the message is committed by a few threads of each server process. Off: nothing is fetched,
# and no preview stored before is shown.
LINK_PREVIEWS = envbool("LINK_PREVIEWS", "true")
# scheme://host:port origins the fetcher may reach although they are not public or not on port
# 80/443: for tests against a local server only. Empty in every real deployment.
LINK_PREVIEW_TEST_ORIGINS = envlist("LINK_PREVIEW_TEST_ORIGINS", "")
LINK_PREVIEW_WORKERS = envint("LINK_PREVIEW_WORKERS", 2)
# Previews waiting for a worker; past this a new one is dropped (a preview is optional).
LINK_PREVIEW_QUEUE = envint("LINK_PREVIEW_QUEUE", 100)
# Run the fetch in the thread that committed the message, not in the pool: tests only.
LINK_PREVIEW_SYNC = envbool("LINK_PREVIEW_SYNC", "false")

# Internationalisation ---------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files -------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT") or BASE_DIR / "staticfiles")
# In development static files come straight from the apps; in production from
# `collectstatic` output (bin/run runs it), served by WhiteNoise from every ASGI process,
# under hashed names that browsers keep for good (flowchat/static_files.py).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "flowchat.static_files.HashedStaticFiles"
    },
}

# Email ----------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "FlowChat <noreply@localhost>")
if email_host := os.getenv("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": email_host,
                "port": envint("EMAIL_PORT", 587),
                "username": os.getenv("EMAIL_HOST_USER", ""),
                "password": os.getenv("EMAIL_HOST_PASSWORD", ""),
                "use_tls": envbool("EMAIL_USE_TLS", "true"),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# Security ---------------------------------------------------------------------------

# No inline scripts or styles anywhere: every script is a static file.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# HTTPS is assumed in production (DEBUG off); HTTPS=false serves plain HTTP,
# for example behind a test harness on localhost.
HTTPS = envbool("HTTPS", "false" if DEBUG else "true")
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "true")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "true")
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "true")
if envbool("TRUST_X_FORWARDED_PROTO", "false"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own logging gives "django" a console handler of its own (printing with DEBUG on);
        # its records go on to the root's console too, so each line would be printed twice.
        "django": {"handlers": [], "propagate": True},
    },
}

# Web Push (conversations.push). Without both keys push is off. `manage.py vapid_keys` makes them.
VAPID_PUBLIC_KEY = os.getenv("VAPID_PUBLIC_KEY", "").strip()
VAPID_PRIVATE_KEY = os.getenv("VAPID_PRIVATE_KEY", "").strip()
VAPID_SUBJECT = os.getenv("VAPID_SUBJECT", "").strip()
# Origins (scheme://host:port) accepted as push endpoints although not https on a public host: tests only.
WEBPUSH_TEST_ORIGINS = envlist("WEBPUSH_TEST_ORIGINS", "")
# Threads per server process that send pushes (conversations.webpush); with REDIS_URL they share
# one queue in Redis with every other process's.
PUSH_WORKERS = int(os.getenv("PUSH_WORKERS", "2"))
