"""Settings for promo, read from the environment (see .env.example).

Development defaults are safe to run on a laptop; with ``DEBUG`` off the settings refuse
to start without a real ``SECRET_KEY``, a ``DATABASE_URL`` and a ``REDIS_URL``.
"""

from __future__ import annotations

import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from promo.core.crypto import derive_development_key
from promo.core.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("PROMO_TESTING", False)

_DEV_SECRET = "promo-development-only-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = env_secret("SECRET_KEY") or ""
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = _DEV_SECRET
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) to a long random value, "
            "or set DEBUG=1 for local development."
        )
elif not (DEBUG or TESTING) and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY is too short or is the development key: use at least 50 random characters."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

_database_url = env_str("DATABASE_URL")
if not _database_url:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. `make run` and `make test` start an embedded PostgreSQL "
        "and set it for you; otherwise point it at PostgreSQL, e.g. "
        "postgres://postgres@127.0.0.1:5432/promo"
    )
_database = dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
if _database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "DATABASE_URL must point at PostgreSQL: promo uses no other database."
    )
_database["CONN_HEALTH_CHECKS"] = True
# Planner settings of every promo connection (docs/performance.md):
# - no JIT compilation: promo's queries are short, and PostgreSQL compiling one whose estimate
#   passes jit_above_cost costs more than it saves (a unit head's visit list: 325 -> 90 ms);
# - no Memoize nodes: a visibility condition (an OR of sub-queries) is estimated at a million
#   rows, so each Memoize under a 50-row page's joins was sized for tens of thousands of cache
#   entries and set up and freed on every request (a unit head's API visit page at province:
#   the statement 9-12 -> 4.3-5.4 ms, the request 23.6-27.7 -> 16.8-18.4 ms).
_DATABASE_OPTIONS = "-c jit=off -c enable_memoize=off"
_database.setdefault("OPTIONS", {})["options"] = _DATABASE_OPTIONS
DATABASES = {"default": _database}
# A read replica (streaming standby) for the cockpit, the reports and the exports; writes and
# every other read stay on the primary, and a user who just wrote reads the primary for
# PROMO_REPLICA_PIN_SECONDS (promo/core/db.py, docs/operations.md).
_replica_url = env_str("DATABASE_REPLICA_URL")
if _replica_url:
    _replica = dj_database_url.parse(_replica_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica.setdefault("OPTIONS", {})["options"] = _DATABASE_OPTIONS
    # In tests the alias is the primary itself (no second test database).
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["promo.core.db.ReplicaRouter"]
# Two PostgreSQL roles in production (issue #16, docs/operations.md): the owner migrates (its
# URL is DATABASE_URL of the one-off migrate step only); web, worker and beat connect as the
# application role, made by `manage.py db_roles` with this name and password, which cannot
# update, delete or truncate the history, event and audit tables nor disable their triggers.
PROMO_DB_APP_ROLE = env_str("PROMO_DB_APP_ROLE", "")
PROMO_DB_APP_PASSWORD = env_secret("PROMO_DB_APP_PASSWORD", "")
PROMO_REPLICA_PIN_SECONDS = env_int("PROMO_REPLICA_PIN_SECONDS", 15)

REDIS_URL = env_str("REDIS_URL")
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. `make run` and `make test` start an embedded Redis and set it "
        "for you; otherwise point it at Redis, e.g. redis://127.0.0.1:6379/0"
    )

INSTALLED_APPS = [
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
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    # Second factor (issue #16): TOTP apps and single-use recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The kernel and the API layer first, then the apps in the direction of their imports
    # (docs/architecture.md): officers ← leads ← projects ← the reporting apps.
    "promo.core",
    "promo.api",
    "officers",
    "promo.accounts",
    "leads",
    "projects",
    "promo.reports",
    "promo.imports",
    "promo.dashboard",
    "promo.campaigns",
    "promo.workspace",
    "promo.agreements",
    "promo.operations",
    # The audit trail listens to every layer's events, so it sits on top of them.
    "promo.audit",
    "promo.devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "promo.accounts.security.SessionIdleMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After a write, this browser reads the primary for a while, never a lagging replica.
    "promo.core.db.ReplicaPinMiddleware",
    # The audit trail (promo/audit/): the request for its receivers; one entry per API client
    # call and per denied access, written after the answer is made.
    "promo.audit.middleware.AuditMiddleware",
    # Logs every denied access (403, 404 to a signed-in officer) to promo.accounts.security.
    "promo.accounts.security.AccessAuditMiddleware",
    # Every request by a superuser (installation only) goes to the security log (#16).
    "promo.accounts.security.SuperuserAuditMiddleware",
    # Second factor: a session not yet verified reaches only /account/two-factor/ (#16).
    "promo.accounts.two_factor.TwoFactorMiddleware",
    # After a reset by someone else, every page leads to /password/ until it is changed.
    "promo.accounts.security.PasswordChangeRequiredMiddleware",
    # Signed-in pages are never stored by the browser or a cache (no-store).
    "promo.accounts.security.SignedInNoStoreMiddleware",
    # Scripts only from promo's static files (PROMO_CSP).
    "promo.accounts.security.ContentSecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Tags every history row written during a request with the signed-in officer and URL.
    "pghistory.middleware.HistoryMiddleware",
]

ROOT_URLCONF = "promo.urls"
WSGI_APPLICATION = "promo.wsgi.application"
AUTH_USER_MODEL = "officers.Officer"
# Django's model backend, reading the officer with their unit's sub-tree (officers/backends.py).
AUTHENTICATION_BACKENDS = ["officers.backends.OfficerBackend"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "promo.core.context_processors.navigation",
                "promo.reports.context_processors.notices",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # 等保 2.0 身份鉴别 (issue #16): three kinds of characters; not the demo's nor a known weak one.
    {
        "NAME": "promo.accounts.validators.CharacterKindsValidator",
        "OPTIONS": {"kinds": env_int("PROMO_PASSWORD_KINDS", 3)},
    },
    {"NAME": "promo.accounts.validators.KnownPasswordValidator"},
    {
        "NAME": "promo.accounts.validators.PasswordHistoryValidator",
        "OPTIONS": {"keep": env_int("PROMO_PASSWORD_HISTORY", 5)},
    },
]

if TESTING:
    # Tests create many officers; the production hasher's cost would dominate the run.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Language: Simplified Chinese first, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as 2026年12月3日 and 3 Dec 2026 (promo/core/formats).
FORMAT_MODULE_PATH = ["promo.core.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "static"]
# The cockpit's charting library, installed by npm (`make install` runs `npm ci`); never a
# CDN. Only listed once installed, so a checkout without node_modules still passes --deploy.
if (BASE_DIR / "node_modules" / "echarts" / "dist").is_dir():
    STATICFILES_DIRS.append(("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")) or "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        # Django's RedisCache behind a breaker: after a failure this process does not ask Redis
        # again for PROMO_CACHE_RETRY_SECONDS, so a hung Redis costs one timeout, not one per
        # request (promo/core/cache.py).
        "BACKEND": "promo.core.cache.GuardedRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "promo"),
        # A hung or stopped Redis must not hold a page: give up fast, fall back where coded.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

PROMO_CACHE_RETRY_SECONDS = env_int("PROMO_CACHE_RETRY_SECONDS", 5)

# API client tokens (promo/api/clients.py, issue #16): a token expires this many days after it
# was issued; after a rotation the previous one keeps working this many hours.
PROMO_API_TOKEN_DAYS = env_int("PROMO_API_TOKEN_DAYS", 180)
PROMO_API_TOKEN_OVERLAP_HOURS = env_int("PROMO_API_TOKEN_OVERLAP_HOURS", 72)

# 一次提交 (promo/core/submissions.py): how long a form's submission key is remembered, so a
# form resent within that time is recognised and not saved twice.
PROMO_FORM_SUBMISSION_DAYS = env_int("PROMO_FORM_SUBMISSION_DAYS", 7)
# Aftercare (亲商服务): days between service visits to a producing enterprise (quarterly by
# default), and to a 服务绿卡 enterprise (monthly); past them the visit is overdue on the
# envoy's home page (projects.selectors.service_visits_overdue).
PROMO_SERVICE_VISIT_DAYS = env_int("PROMO_SERVICE_VISIT_DAYS", 90)
PROMO_GREEN_CARD_VISIT_DAYS = env_int("PROMO_GREEN_CARD_VISIT_DAYS", 30)

# Sessions: idle sessions expire (government systems must not stay signed in forever).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
# The expiry moves on with use, written at most once a minute (promo.accounts.security.
# SessionIdleMiddleware), not on every request: reads do not pay a write and a commit.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
# However busy, a session ends this long after signing in (等保 2.0, issue #16): a working day.
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
# At most this many sessions open at once per officer: a new sign-in ends the oldest (#16).
PROMO_MAX_SESSIONS = env_int("PROMO_MAX_SESSIONS", 3)
# Second factor (TOTP app or a recovery code, promo/accounts/two_factor.py): always for those
# who see the whole bureau or administer it (officers.permissions.must_use_two_factor);
# for every officer when this bureau-wide switch is on.
PROMO_2FA_REQUIRED_FOR_ALL = env_bool("PROMO_2FA_REQUIRED_FOR_ALL", False)
# 三员分立 (issue #16, docs/decisions/0019): the Django superuser is for installation only. With
# this off (the default when DEBUG is off) a superuser reads no business record (leads,
# investors, visits, projects, agreements, bulletins, the cockpit, their exports); every
# request by a superuser is written to the promo.security log either way.
PROMO_SUPERUSER_READS_BUSINESS = env_bool("PROMO_SUPERUSER_READS_BUSINESS", DEBUG)
# The name the authenticator app shows beside the codes (otpauth issuer).
OTP_TOTP_ISSUER = env_str("PROMO_2FA_ISSUER", "promo")
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# Sign-in lockout (promo/security.py explains the design): an account is locked, for the
# addresses that failed, after N failures; an address is locked after a much higher count so
# one office behind one proxy address is not locked out by one person.
PROMO_LOGIN_FAILURES_PER_ACCOUNT = env_int("PROMO_LOGIN_FAILURES_PER_ACCOUNT", 5)
PROMO_LOGIN_FAILURES_PER_IP = env_int("PROMO_LOGIN_FAILURES_PER_IP", 50)
PROMO_LOGIN_LOCKOUT_MINUTES = env_int("PROMO_LOGIN_LOCKOUT_MINUTES", 15)
PROMO_LOGIN_TRUSTED_PROXIES = env_int("PROMO_LOGIN_TRUSTED_PROXIES", 0)
# Where those proxies connect from: X-Forwarded-For is read only on a connection from one of
# these networks. A client reaching the app port directly cannot pick its address (and dodge
# the lockout) by sending the header itself (issue #16).
PROMO_LOGIN_PROXY_NETWORKS = env_list(
    "PROMO_LOGIN_PROXY_NETWORKS",
    ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
)

# Cockpit scoring (功效系数法): "metric:weight,…" over reports Figure names (empty: defaults in
# promo/dashboard/scoring.py), and points deducted per project past its planned groundbreaking.
PROMO_SCORE_WEIGHTS = env_str("PROMO_SCORE_WEIGHTS", "") or ""
PROMO_SCORE_LATE_DEDUCTION = env_str("PROMO_SCORE_LATE_DEDUCTION", "1") or "0"
# The cockpit's figures are recomputed at most this often per scope and filters (seconds; 0:
# every request); the page shows the time they were computed.
PROMO_DASHBOARD_CACHE_SECONDS = env_int("PROMO_DASHBOARD_CACHE_SECONDS", 60)
# Celery recomputes the cockpits read in the last PROMO_DASHBOARD_HOT_MINUTES every
# PROMO_DASHBOARD_REFRESH_SECONDS (once half their allowed age), so chiefs rarely wait.
PROMO_DASHBOARD_REFRESH_SECONDS = env_int("PROMO_DASHBOARD_REFRESH_SECONDS", 20)
PROMO_DASHBOARD_HOT_MINUTES = env_int("PROMO_DASHBOARD_HOT_MINUTES", 60)
# A cold cockpit asks its independent questions side by side in this many threads, each on its
# own database connection (promo/core/reads.py; 1: one after the other).
PROMO_PARALLEL_READS = env_int("PROMO_PARALLEL_READS", 2)

# Personal data encrypted at rest (issue #16, promo/core/crypto.py): Fernet keys, newest
# first — every key decrypts, the first encrypts; `manage.py rotate_field_keys` re-encrypts
# every row under the first (docs/operations.md). PROMO_FIELD_KEYS (comma separated) or
# PROMO_FIELD_KEYS_FILE (one key a line or comma separated). Production refuses to start
# without one; DEBUG and tests derive a development key from SECRET_KEY.
_field_keys_raw = env_secret("PROMO_FIELD_KEYS") or ""
PROMO_FIELD_KEYS = [k.strip() for k in _field_keys_raw.replace("\n", ",").split(",") if k.strip()]
# The blind index's HMAC key (duplicate detection and search by phone number or e-mail): a
# secret of its own, never rotated lightly (changing it means `rotate_field_keys --reindex`).
PROMO_BLIND_INDEX_KEY = env_secret("PROMO_BLIND_INDEX_KEY") or ""
if not PROMO_FIELD_KEYS or not PROMO_BLIND_INDEX_KEY:
    if DEBUG or TESTING:
        PROMO_FIELD_KEYS = PROMO_FIELD_KEYS or [derive_development_key(SECRET_KEY)]
        PROMO_BLIND_INDEX_KEY = PROMO_BLIND_INDEX_KEY or derive_development_key(
            SECRET_KEY, "blind-index"
        )
    else:
        raise ImproperlyConfigured(
            "PROMO_FIELD_KEYS and PROMO_BLIND_INDEX_KEY must be set in production (or their "
            "_FILE variants): personal data is encrypted at rest. Make a key with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'`."
        )
for _key in PROMO_FIELD_KEYS:
    try:
        Fernet(_key.encode())
    except ValueError as _exc:
        raise ImproperlyConfigured(
            "PROMO_FIELD_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."
        ) from _exc

# Security headers: strict unless DEBUG.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Read every variable unconditionally so the documented set is the same in every mode.
# Tests talk plain HTTP to the test client and the live server; production is HTTPS-only.
_https_only = not (DEBUG or TESTING)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https_only)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https_only)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https_only)
# Compose and load balancers probe over plain HTTP inside the network (promo/core/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365 if _https_only else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https_only
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if _https_only:
    # Behind the bureau's TLS-terminating proxy.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# W021 asks for HSTS preload, a decision for the bureau's domain owner, not for promo.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# E-mail: console in development, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST", "") or ""
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "promo <noreply@promo.local>")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# E-mail: an SMTP exchange that hangs is given up after this many seconds.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# Periodic work reconciles (docs/operations.md). The reports sweep (巡检) runs every
# PROMO_SWEEP_MINUTES (a divisor of 60) and when a worker starts; it makes up the bulletins
# whose due time fell in the last PROMO_SWEEP_LOOKBACK_DAYS (older ones: manage.py bulletin).
PROMO_SWEEP_MINUTES = env_int("PROMO_SWEEP_MINUTES", 5)
PROMO_SWEEP_LOOKBACK_DAYS = env_int("PROMO_SWEEP_LOOKBACK_DAYS", 31)
if PROMO_SWEEP_MINUTES < 1 or 60 % PROMO_SWEEP_MINUTES:
    raise ImproperlyConfigured(
        f"PROMO_SWEEP_MINUTES={PROMO_SWEEP_MINUTES}: expected a divisor of 60 (1, 2, 5, 10…)."
    )
if PROMO_SWEEP_LOOKBACK_DAYS < 31:
    raise ImproperlyConfigured(
        "PROMO_SWEEP_LOOKBACK_DAYS must be at least 31, so last month's bulletin is always in it."
    )
# Deliveries (alert e-mails, webhook posts) and the on-demand bulletin tasks retry with a
# budget in time: the n-th failure waits about PROMO_RETRY_FIRST_SECONDS * 2^(n-1) (half to
# all of it, at random; at most PROMO_RETRY_MAX_SECONDS), until PROMO_RETRY_HORIZON_HOURS
# after the first attempt; then the delivery is failed and its owner told.
PROMO_RETRY_FIRST_SECONDS = env_int("PROMO_RETRY_FIRST_SECONDS", 60)
PROMO_RETRY_MAX_SECONDS = env_int("PROMO_RETRY_MAX_SECONDS", 3600)
PROMO_RETRY_HORIZON_HOURS = env_int("PROMO_RETRY_HORIZON_HOURS", 24)
# A webhook post is given up after this many seconds without an answer.
PROMO_WEBHOOK_TIMEOUT_SECONDS = env_int("PROMO_WEBHOOK_TIMEOUT_SECONDS", 5)
# A sender holds the delivery it is making this long (its lease): nobody else sends it
# meanwhile. Longer than any exchange, so only a sender that died lets it lapse.
PROMO_DELIVERY_LEASE_SECONDS = env_int("PROMO_DELIVERY_LEASE_SECONDS", 600)
if PROMO_RETRY_FIRST_SECONDS < 1 or PROMO_RETRY_MAX_SECONDS < PROMO_RETRY_FIRST_SECONDS:
    raise ImproperlyConfigured(
        "PROMO_RETRY_FIRST_SECONDS must be at least 1 and at most PROMO_RETRY_MAX_SECONDS."
    )
if PROMO_RETRY_FIRST_SECONDS < 2 * PROMO_WEBHOOK_TIMEOUT_SECONDS:
    # The shortest wait is half the first one: it must outlast a post that timed out.
    raise ImproperlyConfigured(
        "PROMO_RETRY_FIRST_SECONDS must be at least twice PROMO_WEBHOOK_TIMEOUT_SECONDS."
    )
if PROMO_RETRY_HORIZON_HOURS < 1:
    raise ImproperlyConfigured("PROMO_RETRY_HORIZON_HOURS must be at least 1.")
if PROMO_DELIVERY_LEASE_SECONDS <= 2 * max(PROMO_WEBHOOK_TIMEOUT_SECONDS, EMAIL_TIMEOUT):
    raise ImproperlyConfigured(
        "PROMO_DELIVERY_LEASE_SECONDS must be more than twice PROMO_WEBHOOK_TIMEOUT_SECONDS "
        "and EMAIL_TIMEOUT: a lease must outlast the exchange it covers."
    )

# Import worker heartbeat (导入心跳): a running import writes its progress and heartbeat this
# often (from a thread, whatever the rows are doing); a batch checking or committing whose
# heartbeat is older than PROMO_IMPORT_STALL_SECONDS is put back and re-sent by the sweep,
# which runs every PROMO_IMPORT_SWEEP_SECONDS: a dead worker's batch runs again within
# STALL + SWEEP seconds (90 s by default).
PROMO_IMPORT_HEARTBEAT_SECONDS = env_int("PROMO_IMPORT_HEARTBEAT_SECONDS", 10)
PROMO_IMPORT_STALL_SECONDS = env_int("PROMO_IMPORT_STALL_SECONDS", 60)
PROMO_IMPORT_SWEEP_SECONDS = env_int("PROMO_IMPORT_SWEEP_SECONDS", 30)
if PROMO_IMPORT_HEARTBEAT_SECONDS < 1 or PROMO_IMPORT_SWEEP_SECONDS < 1:
    raise ImproperlyConfigured(
        "PROMO_IMPORT_HEARTBEAT_SECONDS and PROMO_IMPORT_SWEEP_SECONDS must be at least 1."
    )
if PROMO_IMPORT_STALL_SECONDS < 3 * PROMO_IMPORT_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "PROMO_IMPORT_STALL_SECONDS must be at least three PROMO_IMPORT_HEARTBEAT_SECONDS: "
        "a live worker missing one beat must not lose its batch."
    )
# The same file uploaded again by the same officer this soon, while its first batch waits for
# or is in its dry run, opens that batch instead of making a second (a retried upload).
PROMO_IMPORT_DEDUPE_SECONDS = env_int("PROMO_IMPORT_DEDUPE_SECONDS", 600)

# Celery: Redis as broker and result store; tasks are enqueued only after commit.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Crash recovery (docs/operations.md, "Crash recovery"). A task is acknowledged when it ends
# (acks_late): a worker killed whole (OOM killer, reboot, a container stopped past its grace
# period) leaves its message unacknowledged, and Redis hands it out again once it has been
# out for the visibility timeout. That must be longer than any task may run, or a long task
# still running would be handed to a second worker: every task has a hard time limit
# (CELERY_TASK_TIME_LIMIT, longer ones in CELERY_TASK_ANNOTATIONS) below it. The jobs that
# matter sooner do not wait for it: imports are taken back on heartbeat silence
# (PROMO_IMPORT_STALL_SECONDS), the sweeps and outboxes run again on the beat.
PROMO_TASK_VISIBILITY_SECONDS = env_int("PROMO_TASK_VISIBILITY_SECONDS", 1800)
CELERY_TASK_TIME_LIMIT = env_int("PROMO_TASK_TIME_LIMIT_SECONDS", 600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
# An import of PROMO_IMPORT_MAX_ROWS rows is the longest job.
PROMO_IMPORT_TIME_LIMIT_SECONDS = env_int("PROMO_IMPORT_TIME_LIMIT_SECONDS", 1500)
CELERY_TASK_ANNOTATIONS = {
    "promo.imports.tasks.run_import": {
        "time_limit": PROMO_IMPORT_TIME_LIMIT_SECONDS,
        "soft_time_limit": PROMO_IMPORT_TIME_LIMIT_SECONDS - 30,
    },
}
# A hung or stopped Redis must not hold a request or a worker: every broker and result
# connection gives up after this long (a request's own enqueue is shorter still, see
# promo/core/enqueue.py). Waits for work (BRPOP) are not socket reads and are not cut short.
PROMO_BROKER_TIMEOUT_SECONDS = env_int("PROMO_BROKER_TIMEOUT_SECONDS", 2)
CELERY_BROKER_CONNECTION_TIMEOUT = PROMO_BROKER_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": PROMO_TASK_VISIBILITY_SECONDS,
    "socket_timeout": PROMO_BROKER_TIMEOUT_SECONDS,
    "socket_connect_timeout": PROMO_BROKER_TIMEOUT_SECONDS,
}
CELERY_REDIS_SOCKET_TIMEOUT = PROMO_BROKER_TIMEOUT_SECONDS
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = PROMO_BROKER_TIMEOUT_SECONDS
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": PROMO_TASK_VISIBILITY_SECONDS}
# What a request waits at most to hand a job to the broker (seconds); then the job waits in
# PostgreSQL for its sweep.
try:
    PROMO_ENQUEUE_TIMEOUT_SECONDS = float(env_str("PROMO_ENQUEUE_TIMEOUT_SECONDS", "0.5") or 0.5)
except ValueError as exc:
    raise ImproperlyConfigured(
        "PROMO_ENQUEUE_TIMEOUT_SECONDS must be a number of seconds."
    ) from exc
_longest_task = max(
    [CELERY_TASK_TIME_LIMIT]
    + [limits.get("time_limit", 0) for limits in CELERY_TASK_ANNOTATIONS.values()]
)
if CELERY_TASK_SOFT_TIME_LIMIT < 1 or PROMO_IMPORT_TIME_LIMIT_SECONDS <= 30:
    raise ImproperlyConfigured(
        "PROMO_TASK_TIME_LIMIT_SECONDS and PROMO_IMPORT_TIME_LIMIT_SECONDS must exceed 30."
    )
if PROMO_TASK_VISIBILITY_SECONDS <= _longest_task:
    raise ImproperlyConfigured(
        f"PROMO_TASK_VISIBILITY_SECONDS={PROMO_TASK_VISIBILITY_SECONDS} must be longer than the "
        f"longest task's time limit ({_longest_task} s): a task still running would be handed "
        "to a second worker."
    )
if not 0 < PROMO_ENQUEUE_TIMEOUT_SECONDS <= PROMO_BROKER_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "PROMO_ENQUEUE_TIMEOUT_SECONDS must be more than 0 and at most PROMO_BROKER_TIMEOUT_SECONDS."
    )
# 运行心跳: beat sends the heartbeat task this often; a worker running it records both as alive
# (promo/operations/). The operations page and compose's health check of beat read it.
PROMO_HEARTBEAT_SECONDS = env_int("PROMO_HEARTBEAT_SECONDS", 30)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # 运行心跳: dropped when older than two intervals, so a heartbeat is never stale news.
    "operations-heartbeat": {
        "task": "promo.operations.tasks.heartbeat",
        "schedule": float(PROMO_HEARTBEAT_SECONDS),
        "options": {"expires": 2.0 * PROMO_HEARTBEAT_SECONDS},
    },
    # Daily housekeeping: recompute each lead's last activity so staleness filters stay right
    # even if a visit was imported in bulk outside the services.
    "refresh-lead-activity": {
        "task": "leads.tasks.refresh_lead_activity",
        "schedule": crontab(hour=2, minute=15),
    },
    # 巡检 (the reports sweep, docs/operations.md): every PROMO_SWEEP_MINUTES, make whatever
    # should exist by now and does not — 每月一通报 from the 1st at 06:00 (the month before),
    # 旬汇报 from days 1, 11 and 21 at 08:00 (the 旬 just ended), 红黄灯督办 from 07:00 daily,
    # 月度台账更正 from 05:30 daily (promo/reports/schedule.py holds these times). A run the
    # broker lost or the database failed is made up by the next one; a starting worker runs
    # it at once. A message older than one interval is dropped: the next run does the work.
    "reports-sweep": {
        "task": "promo.reports.tasks.sweep",
        "schedule": crontab(minute=f"*/{PROMO_SWEEP_MINUTES}"),
        "options": {"expires": float(PROMO_SWEEP_MINUTES * 60)},
    },
    # 驾驶舱数据: keep the cockpits chiefs are reading fresh (promo/dashboard/snapshots.py);
    # a message older than one interval is dropped, the next one does the work.
    "dashboard-refresh-cockpits": {
        "task": "promo.dashboard.tasks.refresh_cockpit_snapshots",
        "schedule": float(PROMO_DASHBOARD_REFRESH_SECONDS),
        "options": {"expires": float(PROMO_DASHBOARD_REFRESH_SECONDS)},
    },
    # 专项活动排名: the same for the campaigns' league tables (promo/campaigns/selectors.py).
    "campaigns-refresh-leagues": {
        "task": "promo.campaigns.tasks.refresh_campaign_leagues",
        "schedule": float(PROMO_DASHBOARD_REFRESH_SECONDS),
        "options": {"expires": float(PROMO_DASHBOARD_REFRESH_SECONDS)},
    },
    # 导入补发: every PROMO_IMPORT_SWEEP_SECONDS, re-send import batches that could not be
    # queued (broker down) or were confirmed while the worker was away, and take back those
    # whose worker fell silent; claiming makes a second send harmless.
    "resume-waiting-imports": {
        "task": "promo.imports.tasks.resume_waiting_imports",
        "schedule": float(PROMO_IMPORT_SWEEP_SECONDS),
        "options": {"expires": float(PROMO_IMPORT_SWEEP_SECONDS)},
    },
    # 督办通知邮件 and 消息推送: every minute, send the outbox rows that are due. A failed one
    # waits its backoff (next_attempt_at) and is sent by a later run, up to
    # PROMO_RETRY_HORIZON_HOURS after its first attempt; no task retries.
    "reports-send-alert-emails": {
        "task": "promo.reports.tasks.send_alert_emails",
        "schedule": crontab(),
        "options": {"expires": 60.0},
    },
    "reports-send-alert-webhooks": {
        "task": "promo.reports.tasks.send_alert_webhooks",
        "schedule": crontab(),
        "options": {"expires": 60.0},
    },
    # 数据清理: nightly between 03:00 and 03:40, when nobody works, each job deleting in
    # bounded batches what has outlived its retention (PROMO_*_RETENTION_*); history and the
    # event trails are never pruned, the audit trail only past PROMO_AUDIT_RETENTION_DAYS.
    "prune-idempotency-records": {
        "task": "promo.api.tasks.prune_idempotency_records",
        "schedule": crontab(hour=3, minute=0),
    },
    "prune-form-submissions": {
        "task": "promo.operations.tasks.prune_form_submission_keys",
        "schedule": crontab(hour=3, minute=5),
    },
    "prune-expired-sessions": {
        "task": "promo.accounts.tasks.prune_expired_sessions",
        "schedule": crontab(hour=3, minute=10),
    },
    "prune-import-files": {
        "task": "promo.imports.tasks.prune_import_files",
        "schedule": crontab(hour=3, minute=20),
    },
    "prune-alert-deliveries": {
        "task": "promo.reports.tasks.prune_alert_deliveries",
        "schedule": crontab(hour=3, minute=30),
    },
    "prune-read-notices": {
        "task": "promo.reports.tasks.prune_read_notices",
        "schedule": crontab(hour=3, minute=40),
    },
    "prune-export-files": {
        "task": "promo.imports.tasks.prune_export_files",
        "schedule": crontab(hour=3, minute=50),
    },
    # 审计记录清理: entries older than PROMO_AUDIT_RETENTION_DAYS (≥ 180), deleted only through
    # the database's audit_prune() (the application role has no DELETE), leaving an anchor
    # from which audit_verify checks the rest of the chain.
    "prune-audit-entries": {
        "task": "promo.audit.tasks.prune_audit_entries",
        "schedule": crontab(hour=3, minute=55),
    },
    # 驾驶舱汇总核对: nightly, the cockpit's daily summary of the last days (the whole year on
    # the 1st) recomputed from the raw rows and compared (promo/dashboard/summary.py); a
    # difference is told to the administrators, then corrected. Running it twice is harmless,
    # and a night missed is covered by the next one's window.
    "dashboard-reconcile-summary": {
        "task": "promo.dashboard.tasks.reconcile_cockpit_summary",
        "schedule": crontab(hour=4, minute=15),
    },
    # 协议履约状态: each agreement's categories recomputed for the new day (decision 0020), so
    # the first read of the morning counts rows; a night missed costs that read a live count.
    "agreements-refresh-states": {
        "task": "promo.agreements.tasks.refresh_agreement_states",
        "schedule": crontab(hour=0, minute=10),
    },
    # 导出补发: every minute, re-send export jobs still queued after a minute (the broker was
    # down when they were asked for); claiming makes a second send harmless.
    "resume-waiting-exports": {
        "task": "promo.imports.tasks.resume_waiting_exports",
        "schedule": crontab(),
        "options": {"expires": 60.0},
    },
}

# API requests allowed per caller ("<number>/<s|min|hour|day>"); over it, 429 with Retry-After.
PROMO_API_RATE = env_str("PROMO_API_RATE", "600/min") or "600/min"
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", PROMO_API_RATE):
    raise ImproperlyConfigured(
        f"PROMO_API_RATE={PROMO_API_RATE!r}: expected a rate such as 600/min."
    )

REST_FRAMEWORK = {
    # API client tokens and browser sessions both work; a read-only client cannot write.
    # (DRF imports these classes when its views module loads: the modules named here import
    # none of DRF's views or generics, so there is no cycle; tests/api check every default.)
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "promo.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "promo.api.authentication.ApiClientAccessPermission",
    ],
    # JSON encoded by orjson (promo/api/renderers.py); the browsable API as DRF's.
    "DEFAULT_RENDERER_CLASSES": [
        "promo.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "promo.api.pagination.StableCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["promo.api.filters.NamedFiltersBackend"],
    "DEFAULT_SCHEMA_CLASS": "promo.api.schema.PromoAutoSchema",
    "EXCEPTION_HANDLER": "promo.api.errors.exception_handler",
    # Requests per caller, counted in the Redis cache (CACHES["default"]).
    "DEFAULT_THROTTLE_CLASSES": ["promo.api.throttling.OfficerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"officer": PROMO_API_RATE},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "promo API",
    "DESCRIPTION": "REST API of promo, the investment-promotion CRM (招商引资).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # 等保 (issue #16): the schema and its viewer are for signed-in officers and API clients
    # (session or token); an outsider learns nothing of the interface from the server.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Request and response shapes differ (write vs read serializers): separate components.
    "COMPONENT_SPLIT_REQUEST": True,
    # Tag operations by resource (leads, projects…), not all under "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI and Redoc are served from the sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several choice sets share a field name ("kind", "status"): name each enum explicitly.
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "officers.choices.UnitKind",
        "RoleEnum": "officers.choices.Role",
        "InvestorKindEnum": "leads.choices.InvestorKind",
        "IntermediaryKindEnum": "leads.choices.IntermediaryKind",
        "VisitKindEnum": "leads.choices.VisitKind",
        "LeadStatusEnum": "leads.choices.LeadStatus",
        "LeadTransitionTargetEnum": "leads.api.serializers.TRANSITION_TARGETS",
        "ProblemKindEnum": "projects.choices.ProblemKind",
        "ProblemStatusEnum": "projects.choices.ProblemStatus",
        "StageEnum": "projects.choices.Stage",
        "AdvanceTargetEnum": "projects.api.serializers.ADVANCE_TARGETS",
        # Named here so a new enum elsewhere never renames one a client already generated.
        "MetricEnum": "officers.choices.TargetMetric",
        "CommitmentMetricEnum": "promo.agreements.choices.Metric",
        "AgreementKindEnum": "promo.agreements.choices.AgreementKind",
        "ClawbackRuleEnum": "promo.agreements.choices.ClawbackRule",
        "TermStatusEnum": "promo.agreements.choices.TermStatus",
        "PromiseKindEnum": "promo.agreements.choices.PromiseKind",
        "PromiseStatusEnum": "promo.agreements.choices.PromiseStatus",
        "PaymentEnum": "promo.agreements.choices.Payment",
        "IncentiveActionEnum": "promo.agreements.choices.IncentiveAction",
        "IncentiveRequestStatusEnum": "promo.agreements.choices.RequestStatus",
    },
}

# The history admin is for chiefs and administrators only (see promo/history_admin.py).
PGHISTORY_ADMIN_CLASS = "promo.core.history_admin.BureauEventsAdmin"
# Only requests that may write get a history context: pghistory prepends a set_config() to
# every statement inside one, which a read-only GET would pay for on each query.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Content-Security-Policy of every answer (promo.accounts.security): no inline or foreign
# script anywhere (the API viewer loads its set-up from a file too); images may be data: URLs
# (Swagger UI's icons); the service worker and the manifest come from promo itself.
PROMO_CSP = env_str(
    "PROMO_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; "
    "manifest-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'",
)

# Evidence uploads (licences, permits, land contracts): PDF, JPEG or PNG up to this size.
PROMO_EVIDENCE_MAX_BYTES = env_int("PROMO_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# Ledger imports (台账导入): the largest file accepted and the most data rows in one batch.
PROMO_IMPORT_MAX_BYTES = env_int("PROMO_IMPORT_MAX_BYTES", 16 * 1024 * 1024)
PROMO_IMPORT_MAX_ROWS = env_int("PROMO_IMPORT_MAX_ROWS", 100_000)
# An .xlsx is a zip: the most its parts may unpack to (MB). A 100,000-row ledger unpacks to
# about 60 MB; a zip bomb to gigabytes from a small upload.
PROMO_IMPORT_MAX_UNPACKED_MB = env_int("PROMO_IMPORT_MAX_UNPACKED_MB", 256)
# Exports (导出): a list of at most this many rows downloads at once; a larger one is an export
# job written by the worker (promo/imports/export_services.py). A running job silent this long
# failed (its worker died); the officer exports again.
PROMO_EXPORT_SYNC_MAX_ROWS = env_int("PROMO_EXPORT_SYNC_MAX_ROWS", 5000)
PROMO_EXPORT_STALL_SECONDS = env_int("PROMO_EXPORT_STALL_SECONDS", 600)
# Retention (保存期限) of what promo keeps only for a while, pruned nightly by the beat
# (promo/core/prune.py) in batches of PROMO_PRUNE_BATCH_SIZE rows, at most
# PROMO_PRUNE_MAX_BATCHES batches a run. History and event trails are never pruned; the audit
# trail only after PROMO_AUDIT_RETENTION_DAYS (below).
PROMO_PRUNE_BATCH_SIZE = env_int("PROMO_PRUNE_BATCH_SIZE", 1000)
PROMO_PRUNE_MAX_BATCHES = env_int("PROMO_PRUNE_MAX_BATCHES", 100)
# How long an API Idempotency-Key is remembered (hours).
PROMO_IDEMPOTENCY_TTL_HOURS = env_int("PROMO_IDEMPOTENCY_TTL_HOURS", 24)
# Uploaded ledger files are deleted this many days after upload; the batch and its row
# results stay.
PROMO_IMPORT_FILE_RETENTION_DAYS = env_int("PROMO_IMPORT_FILE_RETENTION_DAYS", 90)
# Export files (the job's row stays) are deleted this many days after they were written.
PROMO_EXPORT_RETENTION_DAYS = env_int("PROMO_EXPORT_RETENTION_DAYS", 7)
# Finished alert e-mails and webhook deliveries of cleared alerts are deleted after this.
PROMO_DELIVERY_RETENTION_DAYS = env_int("PROMO_DELIVERY_RETENTION_DAYS", 90)
# Read notices of alerts off the ladder (acknowledged or cleared) are deleted after this.
PROMO_READ_NOTICE_RETENTION_DAYS = env_int("PROMO_READ_NOTICE_RETENTION_DAYS", 180)
# Ended sign-in rows (the officer's list of sessions) are deleted after this; the sign-ins
# themselves stay in the security log.
PROMO_SESSION_LOG_RETENTION_DAYS = env_int("PROMO_SESSION_LOG_RETENTION_DAYS", 180)
# The application audit trail (安全审计, promo/audit/) keeps every entry at least this many days;
# the nightly prune deletes older ones through the database's audit_prune(). 等保 2.0 asks for
# at least 180 days, so less is refused (the database function refuses it too).
PROMO_AUDIT_RETENTION_DAYS = env_int("PROMO_AUDIT_RETENTION_DAYS", 180)
if PROMO_AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured("PROMO_AUDIT_RETENTION_DAYS must be at least 180 (等保 2.0).")
for _name in (
    "PROMO_PRUNE_BATCH_SIZE",
    "PROMO_PRUNE_MAX_BATCHES",
    "PROMO_IDEMPOTENCY_TTL_HOURS",
    "PROMO_IMPORT_FILE_RETENTION_DAYS",
    "PROMO_EXPORT_RETENTION_DAYS",
    "PROMO_DELIVERY_RETENTION_DAYS",
    "PROMO_READ_NOTICE_RETENTION_DAYS",
    "PROMO_SESSION_LOG_RETENTION_DAYS",
):
    # 0 would delete everything the moment it is written.
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Business thresholds (days) used by alerts and staleness filters.
PROMO_STALE_LEAD_DAYS = env_int("PROMO_STALE_LEAD_DAYS", 30)

# Traffic lights (红黄灯督办, promo/reports/services.py), evaluated daily; all in days.
# A milestone this late turns red (yellow from the first day late).
PROMO_ALERT_RED_LATE_DAYS = env_int("PROMO_ALERT_RED_LATE_DAYS", 90)
# Signed but not broken ground after this long: red.
PROMO_ALERT_NOT_STARTED_DAYS = env_int("PROMO_ALERT_NOT_STARTED_DAYS", 90)
# Completed but not producing after this long: yellow.
PROMO_ALERT_NOT_PRODUCING_DAYS = env_int("PROMO_ALERT_NOT_PRODUCING_DAYS", 180)
# A negotiating lead quiet this long: red (any open lead: PROMO_STALE_LEAD_DAYS, yellow).
PROMO_ALERT_QUIET_NEGOTIATION_DAYS = env_int("PROMO_ALERT_QUIET_NEGOTIATION_DAYS", 15)
# From this day of the month, a unit with no valid lead yet this month turns yellow.
PROMO_ALERT_VALID_LEAD_DAY = env_int("PROMO_ALERT_VALID_LEAD_DAY", 20)
# An investor's commitment due within this many days and not yet met: yellow (at risk);
# in breach (未履约 / 部分履约), and a bureau promise past its due date: red.
PROMO_ALERT_AGREEMENT_RISK_DAYS = env_int("PROMO_ALERT_AGREEMENT_RISK_DAYS", 30)
# 协议履约状态 (decision 0020): a read of the 协议履约 figures recomputes at most this many stale
# agreements and stores them; past it (the nightly refresh missed) it computes live and queues one.
PROMO_AGREEMENT_STATE_READ_LIMIT = env_int("PROMO_AGREEMENT_STATE_READ_LIMIT", 2000)
# Escalation ladder: the responsible officer at once, the unit head and the chief after these.
PROMO_ESCALATE_TO_HEAD_DAYS = env_int("PROMO_ESCALATE_TO_HEAD_DAYS", 3)
PROMO_ESCALATE_TO_CHIEF_DAYS = env_int("PROMO_ESCALATE_TO_CHIEF_DAYS", 7)

# The enquiry clock (办理时限, docs/domain.md "The enquiry clock"): days allowed for each step
# of a lead, counted from the day it was registered; the progress report is due again this
# many days after the last one while the lead is negotiating. Read through
# leads.selectors.clock_step_days(); an overdue step is a yellow light.
PROMO_CLOCK_RESPOND_DAYS = env_int("PROMO_CLOCK_RESPOND_DAYS", 1)
PROMO_CLOCK_ASSESS_DAYS = env_int("PROMO_CLOCK_ASSESS_DAYS", 3)
PROMO_CLOCK_REFERRER_FEEDBACK_DAYS = env_int("PROMO_CLOCK_REFERRER_FEEDBACK_DAYS", 7)
PROMO_CLOCK_PROGRESS_REPORT_DAYS = env_int("PROMO_CLOCK_PROGRESS_REPORT_DAYS", 14)
for _name in (
    "PROMO_CLOCK_RESPOND_DAYS",
    "PROMO_CLOCK_ASSESS_DAYS",
    "PROMO_CLOCK_REFERRER_FEEDBACK_DAYS",
    "PROMO_CLOCK_PROGRESS_REPORT_DAYS",
):
    # 0 days would make every lead late on the day it is registered.
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")

# The security log also goes to a file and/or syslog for the bureau's log collector (issue
# #16, 等保 2.0 安全审计): PROMO_SECURITY_LOG_FILE (rotated, 50 MB × 10) and PROMO_SECURITY_SYSLOG
# ("/dev/log" or "host:port", facility auth).
PROMO_SECURITY_LOG_FILE = env_str("PROMO_SECURITY_LOG_FILE", "")
PROMO_SECURITY_SYSLOG = env_str("PROMO_SECURITY_SYSLOG", "")
_security_handlers = ["console"]
_log_handlers: dict[str, dict] = {
    "console": {"class": "logging.StreamHandler", "formatter": "plain"}
}
if PROMO_SECURITY_LOG_FILE:
    _log_handlers["security_file"] = {
        "class": "logging.handlers.RotatingFileHandler",
        "filename": PROMO_SECURITY_LOG_FILE,
        "maxBytes": 50 * 1024 * 1024,
        "backupCount": 10,
        "encoding": "utf-8",
        "formatter": "plain",
    }
    _security_handlers.append("security_file")
if PROMO_SECURITY_SYSLOG:
    if PROMO_SECURITY_SYSLOG.startswith("/"):
        _syslog_address: str | tuple[str, int] = PROMO_SECURITY_SYSLOG
    else:
        _host, _sep, _port = PROMO_SECURITY_SYSLOG.rpartition(":")
        if not _sep or not _port.isdigit():
            raise ImproperlyConfigured(
                "PROMO_SECURITY_SYSLOG must be a socket path (/dev/log) or host:port."
            )
        _syslog_address = (_host, int(_port))
    _log_handlers["security_syslog"] = {
        "class": "logging.handlers.SysLogHandler",
        "address": _syslog_address,
        "facility": "auth",
        "formatter": "syslog",
    }
    _security_handlers.append("security_syslog")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "syslog": {"format": "promo[%(process)d]: %(levelname)s %(name)s %(message)s"},
    },
    "handlers": _log_handlers,
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "promo.security": {"handlers": _security_handlers, "level": "INFO", "propagate": False},
        # The operations log: what the sweep made up, deliveries retried and given up.
        "promo.operations": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
