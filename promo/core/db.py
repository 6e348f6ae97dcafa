"""Reads that may go to a read replica, and read-your-writes for whoever just wrote.

With ``DATABASE_REPLICA_URL`` set, Django has a second alias, ``replica``. Only code that says
so reads from it: a view wrapped in ``reads_from_replica`` (the cockpit, the bulletins, the
exports) or a block in ``replica_reads()``. Everything else — every write, every form, every
list an officer works from — stays on the primary, so nobody edits what a replica showed
seconds late.

Read-your-writes: a request that writes (any method but GET/HEAD/OPTIONS that does not fail)
sets a cookie; while it is younger than ``PROMO_REPLICA_PIN_SECONDS`` that browser's reads stay
on the primary even in those views, so a chief who corrects a figure and opens the cockpit sees
the correction, not the replica's view of a moment ago. An API client's writes pin by the same
cookie when it keeps cookies; sync clients read lists (primary) anyway.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
PIN_COOKIE = "promo_primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_replica_wanted: ContextVar[bool] = ContextVar("promo_replica_wanted", default=False)
_pinned: ContextVar[bool] = ContextVar("promo_pinned_to_primary", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def read_alias() -> str:
    """Where a read made now goes."""
    if _replica_wanted.get() and not _pinned.get() and replica_configured():
        return REPLICA
    return DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside go to the replica (when there is one and the caller is not pinned)."""
    token = _replica_wanted.set(True)
    try:
        yield
    finally:
        _replica_wanted.reset(token)


@contextmanager
def pinned_to_primary() -> Iterator[None]:
    token = _pinned.set(True)
    try:
        yield
    finally:
        _pinned.reset(token)


def reads_from_replica(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A read-only view whose queries may be served by the replica."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Reads to ``read_alias()``; writes and migrations to the primary only."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two doors

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaPinMiddleware:
    """Pin a browser that just wrote to the primary for ``PROMO_REPLICA_PIN_SECONDS``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            until = float(request.COOKIES.get(PIN_COOKIE, "0"))
        except ValueError:
            until = 0.0
        token = _pinned.set(until > time.time())
        try:
            response = self.get_response(request)
        finally:
            _pinned.reset(token)
        if request.method not in SAFE_METHODS and response.status_code < 400:
            seconds = settings.PROMO_REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + seconds:.3f}",
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
