"""One settings module, read from the environment.

Embedded default: SQLite under ``var/`` and the in-memory channel layer, one process.
Production (``CARTABLE_PRODUCTION=1``): every secret and host must be given explicitly, and a
missing or bad value raises ``ImproperlyConfigured`` naming the variable.
Any variable ``NAME`` may also be given as ``NAME_FILE`` (a path), for secrets kept in files.
"""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("CARTABLE_VAR_DIR", Path.cwd() / "var")).resolve()


def env(name: str, default: str | None = None) -> str | None:
    """Read ``name`` from the environment, or from the file named by ``name_FILE``."""
    if name in os.environ:
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from exc
    return default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {value!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


PRODUCTION = env_bool("CARTABLE_PRODUCTION", False)
DEBUG = env_bool("CARTABLE_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("CARTABLE_DEBUG: cannot be on when CARTABLE_PRODUCTION is on")


def _secret_key() -> str:
    key = env("SECRET_KEY")
    if key:
        if PRODUCTION and len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY: must be at least 50 characters in production")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY: required in production (or SECRET_KEY_FILE)")
    # The embedded default keeps a generated key beside its database, so sessions and
    # device credentials survive a restart without anyone having to invent a secret.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS: required in production (comma-separated)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "cartable.core",
    "cartable.organisation",
    "cartable.fleet",
    "cartable.live",
    "cartable.consent",
    # accounts (see the "Accounts" block below): sign-in, attempt limits, OIDC, TOTP.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "cartable.accounts",
    # privacy: retention and purge, audit log, people's rights, processing register.
    "cartable.privacy",
    "cartable.evaluation",
    "cartable.surveys",
    # schoolwork: documents handed out to the pupil and their work given back.
    "cartable.schoolwork",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # core: no-store for everyone signed in, Permissions-Policy; then NUL refused (400).
    "cartable.core.middleware.PrivacyHeadersMiddleware",
    "cartable.core.middleware.RefuseNulMiddleware",
    # accounts: which second factor verified this session, then "enter your code first".
    "django_otp.middleware.OTPMiddleware",
    "cartable.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # accounts: last, as django-axes asks, so it turns a lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cartable.urls"
ASGI_APPLICATION = "cartable.asgi.application"

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
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another (PostgreSQL in production).
_database_url = env("DATABASE_URL")
if _database_url:
    try:
        # No persistent connections: under ASGI, Django's per-thread connections outlive
        # their requests (Django's own advice is CONN_MAX_AGE=0 with ASGI).
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=0)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from exc
else:
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL: required in production (PostgreSQL)")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(VAR_DIR / "cartable.sqlite3")),
            # WAL lets the signalling consumer write attendance while pages read.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory, for the test database: the tests' own server runs in
            # another thread and needs its own connections to the same data.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channel layer: in memory for one process, Redis for several workers.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 times reads out after 5 s, the length of channels_redis's own
                # blocking read: an idle connection (a pupil waiting for the class) would
                # crash (channels_redis issue 422). Give reads more than that.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache holds rate-limit counters: shared through Redis when workers are several,
# so a limit applies to the platform, not to each process.
# The cache gets its own Redis database: clearing a cache flushes its whole database, which
# must never take the channel layer's messages with it.
REDIS_CACHE_URL = env("REDIS_CACHE_URL")
if REDIS_URL and not REDIS_CACHE_URL:
    _redis = urlsplit(REDIS_URL)
    _db = int(_redis.path.strip("/") or 0)
    REDIS_CACHE_URL = urlunsplit(_redis._replace(path=f"/{_db + 1}"))
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
TIME_ZONE = env("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "servestatic.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without collectstatic (embedded default), ServeStatic (WhiteNoise made for ASGI)
# serves straight from the apps.
SERVESTATIC_USE_FINDERS = not PRODUCTION
SERVESTATIC_AUTOREFRESH = not PRODUCTION

# Security headers, strict everywhere; HTTPS-only settings in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A form sent without its anti-forgery token gets the French 403 page.
CSRF_FAILURE_VIEW = "cartable.core.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
DEVICE_COOKIE_SECURE = PRODUCTION

# Content-Security-Policy (django-csp) on every response: everything from this origin only,
# no inline script or style, no plugin, no framing. Images and media may also be blob: and
# data: URLs made in the page (QR codes, the board's stills kept on the pupil's tablet, the
# live streams); connections only back to this origin (the signalling WebSocket, the API).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}


# Live link.
def env_positive(name: str, default: int) -> int:
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name}: must be a positive integer, got {value}")
    return value


LIVE = {
    # ICE servers handed to browsers; none are needed on loopback.
    "STUN_URLS": env_list("STUN_URLS", []),
    # The TURN relay (coturn with use-auth-secret): its URLs, e.g.
    # "turn:turn.example.org:3478?transport=udp,turns:turn.example.org:443?transport=tcp",
    # the secret shared with coturn, and how long a credential lives (it is handed out
    # only inside a live session; a school half-day by default).
    "TURN_URLS": env_list("TURN_URLS", []),
    "TURN_SECRET": env("TURN_SECRET", "") or "",
    "TURN_TTL_SECONDS": env_positive("TURN_TTL_SECONDS", 4 * 3600),
    # "relay" makes both sides send media only through the TURN relay: the family and the
    # school then never learn each other's network addresses.
    "ICE_TRANSPORT_POLICY": env("LIVE_ICE_TRANSPORT_POLICY", "all"),
    # Limits on one signalling connection (see docs/protocol.md).
    "MAX_MESSAGE_BYTES": env_positive("LIVE_MAX_MESSAGE_BYTES", 64 * 1024),
    "RATE_PER_SECOND": env_positive("LIVE_RATE_PER_SECOND", 20),
    "RATE_BURST": env_positive("LIVE_RATE_BURST", 60),
    # Presence (docs/protocol.md, "Presence"): each connection's consumer refreshes its
    # attendance row this often; a row not refreshed for PRESENCE_STALE_SECONDS is held by
    # no live socket (its server was killed) and is closed at its last sign of life by the
    # sweep, which every server process runs every SWEEP_SECONDS (and `cartable live_sweep`).
    "HEARTBEAT_SECONDS": env_positive("LIVE_HEARTBEAT_SECONDS", 15),
    "PRESENCE_STALE_SECONDS": env_positive("LIVE_PRESENCE_STALE_SECONDS", 60),
    "SWEEP_SECONDS": env_positive("LIVE_SWEEP_SECONDS", 60),
}
PAIRING = {
    "CODE_DIGITS": 6,
    "VALID_SECONDS": 600,
    "MAX_WRONG_TRIES": 5,
}
if LIVE["ICE_TRANSPORT_POLICY"] not in ("all", "relay"):
    raise ImproperlyConfigured("LIVE_ICE_TRANSPORT_POLICY: expected 'all' or 'relay'")
if LIVE["ICE_TRANSPORT_POLICY"] == "relay" and not LIVE["TURN_URLS"]:
    raise ImproperlyConfigured("LIVE_ICE_TRANSPORT_POLICY: 'relay' needs TURN_URLS")
if LIVE["PRESENCE_STALE_SECONDS"] < 2 * LIVE["HEARTBEAT_SECONDS"]:
    # Shorter, and a slow heartbeat would have a live connection's row closed under it.
    raise ImproperlyConfigured("LIVE_PRESENCE_STALE_SECONDS: at least twice LIVE_HEARTBEAT_SECONDS")
if LIVE["TURN_URLS"] and not LIVE["TURN_SECRET"]:
    raise ImproperlyConfigured("TURN_SECRET: required when TURN_URLS is set (or TURN_SECRET_FILE)")
# Fleet (cartable/fleet): kits, devices and their heartbeats.
FLEET = {
    # V5 kits go only to the académies of the V5 pilot (académie codes: Versailles 25,
    # Nice 23, La Réunion 28); third-generation kits go anywhere.
    "V5_PILOT_ACADEMIES": env_list("FLEET_V5_PILOT_ACADEMIES", ["25", "23", "28"]),
    # A device is online when its last heartbeat is this recent (they beat every minute).
    "ONLINE_WITHIN_S": env_positive("FLEET_ONLINE_WITHIN_S", 180),
    # Raw heartbeats are kept this many days, then folded into one row per device and day.
    "HEARTBEAT_RAW_DAYS": env_positive("FLEET_HEARTBEAT_RAW_DAYS", 7),
    # A loan with no live lesson for this many school days is a candidate to reclaim.
    "RECLAIM_AFTER_SCHOOL_DAYS": env_positive("FLEET_RECLAIM_AFTER_SCHOOL_DAYS", 10),
    # A kit on loan whose devices have all been silent this long is listed as offline.
    "OFFLINE_AFTER_HOURS": env_positive("FLEET_OFFLINE_AFTER_HOURS", 48),
    # Enrolment codes printed on labels: how long one stays valid, and how many tries an
    # address may make per 10 minutes.
    "ENROLMENT_VALID_DAYS": env_positive("FLEET_ENROLMENT_VALID_DAYS", 365),
    "ENROLMENT_TRIES_PER_10_MIN": env_positive("FLEET_ENROLMENT_TRIES_PER_10_MIN", 20),
}

# Privacy (cartable/privacy): retention periods, applied daily by `cartable purge`; the
# register of processing activities is generated from cartable/privacy/register.py.
PRIVACY = {
    # A pupil's display name is kept this many weeks after the end of their last loan.
    "PUPIL_NAME_WEEKS": env_positive("PRIVACY_PUPIL_NAME_WEEKS", 8),
    # An account nobody has signed in with for this many days is deleted.
    "ACCOUNT_INACTIVE_DAYS": env_positive("PRIVACY_ACCOUNT_INACTIVE_DAYS", 365),
    # A loan nobody ended is treated as ended this many days after its planned end, for
    # retention: its pupil's name and records do not outlive it because a step was missed.
    # Its coordinator is told as soon as the planned end has passed (cartable notify_overdue).
    "OVERDUE_GRACE_DAYS": env_positive("PRIVACY_OVERDUE_GRACE_DAYS", 30),
}

# Schoolwork (cartable/schoolwork): documents handed out to the pupil, their work given
# back. Files go through Django's storage API, alias "schoolwork": local files under
# CARTABLE_VAR_DIR/schoolwork by default, an S3-compatible object store when
# SCHOOLWORK_S3_BUCKET is set (django-storages; see docs/deploy.md). Never a public URL:
# every file is served by a view that checks the loan's members on each request.
SCHOOLWORK = {
    # One uploaded file at most (the request is refused before it is read).
    "MAX_UPLOAD_BYTES": env_positive("SCHOOLWORK_MAX_UPLOAD_MB", 20) * 1024 * 1024,
    # A PDF of more pages is refused (a "page bomb").
    "MAX_PAGES": env_positive("SCHOOLWORK_MAX_PAGES", 60),
    # An image declaring more pixels is refused before it is decoded (a decompression bomb).
    "MAX_IMAGE_PIXELS": env_positive("SCHOOLWORK_MAX_IMAGE_MEGAPIXELS", 40) * 1_000_000,
    # Pages are rendered for the tablet with this long side, in pixels.
    "PAGE_LONG_SIDE": env_positive("SCHOOLWORK_PAGE_LONG_SIDE", 1600),
    # Documents and returned work are kept this many days after the loan's end, then purged.
    "RETENTION_DAYS": env_positive("SCHOOLWORK_RETENTION_DAYS", 30),
    # LibreOffice, to convert ODF and Office documents to PDF; optional (empty: refused).
    "SOFFICE": env("SCHOOLWORK_SOFFICE", "") or shutil.which("soffice") or "",
}
FILE_UPLOAD_HANDLERS = [
    "cartable.schoolwork.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
if env("SCHOOLWORK_S3_BUCKET"):
    STORAGES["schoolwork"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("SCHOOLWORK_S3_BUCKET"),
            "endpoint_url": env("SCHOOLWORK_S3_ENDPOINT_URL") or None,
            "region_name": env("SCHOOLWORK_S3_REGION") or None,
            "access_key": env("SCHOOLWORK_S3_ACCESS_KEY_ID") or None,
            "secret_key": env("SCHOOLWORK_S3_SECRET_ACCESS_KEY") or None,
            "location": env("SCHOOLWORK_S3_PREFIX", "schoolwork") or "",
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    STORAGES["schoolwork"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env("SCHOOLWORK_DIR", str(VAR_DIR / "schoolwork")),
            "base_url": None,
            "directory_permissions_mode": 0o700,
            "file_permissions_mode": 0o600,
        },
    }

# Surveys (cartable/surveys): questionnaires at the end of each loan (and halfway through
# long ones), sent daily by `cartable send_surveys`.
SURVEYS = {
    # A loan planned for at least this many weeks also gets a questionnaire halfway.
    "MIDWAY_AFTER_WEEKS": env_positive("SURVEYS_MIDWAY_AFTER_WEEKS", 8),
    # How long a questionnaire link stays valid.
    "LINK_VALID_DAYS": env_positive("SURVEYS_LINK_VALID_DAYS", 30),
    # A loan that ended longer ago than this gets no questionnaire any more.
    "SEND_WITHIN_DAYS": env_positive("SURVEYS_SEND_WITHIN_DAYS", 14),
    # The site's address, for the links in the emails (the command has no request).
    "SITE_URL": env("SITE_URL", "" if PRODUCTION else "http://127.0.0.1:8000"),
}
if PRODUCTION and not SURVEYS["SITE_URL"].startswith("https://"):
    raise ImproperlyConfigured(
        "SITE_URL: required in production, the https:// address people open (for email links)"
    )

DEVICE_COOKIE_NAME = "cartable_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600

# --- Accounts (cartable/accounts) -------------------------------------------------------
# People sign in with their email address and password; too many failures lock the
# account from that address for a while (django-axes); a forgotten password is reset by
# email; OpenID Connect (the ministry's sign-in services) is offered when configured; staff
# add a TOTP code (django-otp). The apps and middleware are in the lists above.
AUTHENTICATION_BACKENDS = [
    # django-axes first: a locked-out person is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "cartable.accounts.backends.EmailBackend",
    "cartable.accounts.backends.OidcBackend",
]

# Attempt limits: failures are counted per account and address together, so one person
# mistyping does not lock a whole school behind one NAT address, and someone guessing
# cannot lock a colleague out from elsewhere. The counters live in the cache (Redis when
# REDIS_URL is set, shared by the workers), not in a table of addresses and names.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env_positive("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_positive("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Against password spraying (a few passwords on many accounts): failures are also counted
# per address across accounts, and past this many within the lockout time every sign-in
# from that address is refused (cartable/accounts/spraying.py).
SIGN_IN_ADDRESS_FAILURE_LIMIT = env_positive("SIGN_IN_ADDRESS_FAILURE_LIMIT", 50)
AXES_USERNAME_CALLABLE = "cartable.accounts.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "cartable.accounts.views.lockout"  # a French page, HTTP 429
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False  # no start-up banner; failures and lockouts are still logged
# uvicorn already puts the client's address in REMOTE_ADDR behind the trusted proxy
# (proxy_headers in production), so axes reads it there rather than from headers.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
if not REDIS_URL:
    # axes warns that a per-process cache cannot be shared; without REDIS_URL there is
    # exactly one process (`cartable serve --workers 2` refuses to start), so it is shared.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]

# Password reset by email: Django's own views; links are valid one day.
PASSWORD_RESET_TIMEOUT = 24 * 3600
EMAIL_HOST = env("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_positive("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT != 465)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_SSL: cannot be on together with EMAIL_USE_TLS")
    EMAIL_TIMEOUT = env_positive("EMAIL_TIMEOUT", 10)
elif PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST: required in production (password reset emails)")
else:
    # The embedded default prints emails on the console (the tests use Django's outbox).
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "")
if not DEFAULT_FROM_EMAIL:
    if PRODUCTION:
        raise ImproperlyConfigured("DEFAULT_FROM_EMAIL: required in production")
    DEFAULT_FROM_EMAIL = "Cartable connecté <ne-pas-repondre@localhost>"


def env_url(name: str, default: str = "") -> str:
    value = env(name, default) or ""
    if value and not value.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"{name}: expected an http(s) URL, got {value!r}")
    if value and PRODUCTION and not value.startswith("https://"):
        raise ImproperlyConfigured(f"{name}: must be an https:// URL in production")
    return value.rstrip("/") if name == "OIDC_ISSUER" else value


# Where the platform's source is published (shown on « Code source » beside the archive of
# the running version, which the platform serves itself: GNU AGPL v3, section 13).
SOURCE_URL = env_url("SOURCE_URL")

# OpenID Connect (mozilla-django-oidc). Off unless OIDC_CLIENT_ID is set; then either
# OIDC_ISSUER (the endpoints are discovered) or the four endpoints must be given. People
# are matched by verified email to existing accounts; no account is ever created here.
OIDC_ISSUER = env_url("OIDC_ISSUER")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_url("OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_url("OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_url("OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_url("OIDC_JWKS_ENDPOINT")
OIDC_RP_CLIENT_ID = env("OIDC_CLIENT_ID", "") or ""
OIDC_RP_CLIENT_SECRET = env("OIDC_CLIENT_SECRET", "") or ""
OIDC_RP_SIGN_ALGO = env("OIDC_SIGN_ALGO", "RS256") or "RS256"
OIDC_BUTTON_LABEL = env("OIDC_BUTTON_LABEL", "") or "Se connecter avec mon compte académique"
_oidc_endpoints = {
    "OIDC_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
    "OIDC_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
    "OIDC_USERINFO_ENDPOINT": OIDC_OP_USER_ENDPOINT,
    "OIDC_JWKS_ENDPOINT": OIDC_OP_JWKS_ENDPOINT,
}
if OIDC_RP_CLIENT_ID:
    if not OIDC_RP_CLIENT_SECRET:
        raise ImproperlyConfigured("OIDC_CLIENT_SECRET: required with OIDC_CLIENT_ID")
    if not OIDC_ISSUER:
        for _name, _value in _oidc_endpoints.items():
            if not _value:
                raise ImproperlyConfigured(
                    f"{_name}: required with OIDC_CLIENT_ID (or OIDC_ISSUER)"
                )
    if OIDC_RP_SIGN_ALGO not in {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}:
        raise ImproperlyConfigured(
            f"OIDC_SIGN_ALGO: expected RS256 or another RS/ES, got {OIDC_RP_SIGN_ALGO!r}"
        )
else:
    for _name in ["OIDC_ISSUER", "OIDC_CLIENT_SECRET", *_oidc_endpoints]:
        if env(_name):
            raise ImproperlyConfigured(f"OIDC_CLIENT_ID: required when {_name} is set")
OIDC_RP_SCOPES = "openid email"
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"

# Second factor (django-otp, TOTP). Who needs one: cartable.accounts.second_factor.
OTP_TOTP_ISSUER = "Cartable connecté"
# Each wrong code doubles the wait before the next one is checked: 1 s, 2 s, 4 s…
OTP_TOTP_THROTTLE_FACTOR = 1

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "uvicorn.access": {"level": "WARNING"},
    },
}
