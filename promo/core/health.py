"""Health endpoints for load balancers and compose, and the page shown while the database is away.

* ``/healthz``: the process answers (liveness). Touches neither the database nor Redis.
* ``/readyz``: the process can serve (readiness): the database answers, the cache answers (the
  Celery broker is the same Redis, ``REDIS_URL``), and no migration is waiting. 200 with the
  result of each check, 503 as soon as one fails; the body names the check, never the error
  (the endpoint is public), which goes to the ``promo.health`` log.

Both are plain Django views outside the sign-in, the API and its schema; the sign-in middlewares
leave them alone (``HEALTH_PATHS``) so a probe never loads a session.

``server_error`` is the project's ``handler500``: a lost database connection
(``OperationalError``/``InterfaceError``) becomes a friendly 503 with ``Retry-After`` (an HTML
page, or the API's error format under /api/) instead of a bare "Server Error (500)".
"""

from __future__ import annotations

import logging
import sys

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger("promo.health")

HEALTH_PATHS = ("/healthz", "/readyz")

# How long a client should wait before trying again while the database is away (seconds).
RETRY_AFTER_SECONDS = 30

# Migrations do not un-apply themselves: once a process has seen them all applied, it stops
# loading the migration graph on every probe (a deploy with new migrations restarts processes).
_migrations_applied = False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process is up and answering."""
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


def _database_ok() -> bool:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    return bool(row == (1,))


def _cache_ok() -> bool:
    # A GET of a missing key: answers None when Redis is there, raises when it is not.
    caches["default"].get("readyz-probe")
    return True


def _migrations_ok() -> bool:
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        _migrations_applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrations_applied


_CHECKS = (("database", _database_ok), ("cache", _cache_ok), ("migrations", _migrations_ok))


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache/broker and migrations; 503 naming what failed."""
    checks: dict[str, str] = {}
    for name, check in _CHECKS:
        if name == "migrations" and checks.get("database") != "ok":
            checks[name] = "unknown"  # cannot be read without the database
            continue
        try:
            checks[name] = "ok" if check() else "failed"
        except Exception as exc:  # any failure of a dependency makes the process not ready
            log.warning("readiness check %s failed: %s", name, exc)
            checks[name] = "failed"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


DATABASE_AWAY = (OperationalError, InterfaceError)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer while the database is away: the API's error format, else the page."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "code": "service_unavailable",
                "message": _("数据库暂时无法访问，请稍后重试。"),
                "retry_after": RETRY_AFTER_SECONDS,
            },
            status=503,
        )
    else:
        # No request context: its processors would read the session and the database.
        html = loader.get_template("503.html").render({"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 while the database is away, otherwise the plain 500 page."""
    exc = sys.exc_info()[1]  # called inside Django's ``except`` for the uncaught exception
    # The middleware that activates the language may not have run (the fault can come from
    # loading the session): choose it from the request here.
    with translation.override(translation.get_language_from_request(request)):
        if isinstance(exc, DATABASE_AWAY):
            return database_unavailable(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"code": "server_error", "message": _("服务器内部错误")}, status=500
            )
        return HttpResponse(loader.get_template("500.html").render({}), status=500)
