"""Independent reads of one page side by side, each thread on its own database connection.

A page such as the cockpit asks PostgreSQL a handful of questions that do not depend on each
other (the figures, the funnel, the project snapshot…). Asked one after the other, a cold
computation waits for their sum while one core of the database works; asked side by side it
waits for the longest chain, the database's cores sharing the rest.

``side_by_side(reads)`` runs the callables in ``PROMO_PARALLEL_READS`` threads (the caller's
own among them) and returns their results in order. It promises no more consistency than
reading one after the other in autocommit already gives — each statement sees what was
committed when it began — and runs them one after the other instead when:

- ``PROMO_PARALLEL_READS`` is 1 or there is one read;
- the caller holds a transaction open on any connection: another connection would not see its
  uncommitted rows (a form that wrote and then reads, a test inside its transaction);
- it is already inside a read run side by side (no threads of threads).

Each extra thread opens its own connections (to whichever alias the router names: the replica
choice and read-your-writes pin are context variables and travel with the read), reads with the
caller's language, time zone and script prefix, and closes its connections before it ends, so nothing idles
open after the page. Every thread is joined before the function returns or raises; the first
failing read's exception (in the order given) is raised, the others' results dropped.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.urls import get_script_prefix, get_urlconf, set_script_prefix, set_urlconf
from django.utils import timezone, translation

T = TypeVar("T")

_inside: ContextVar[bool] = ContextVar("promo_reads_side_by_side", default=False)


def threads_for(count: int) -> int:
    """How many threads ``count`` reads would run in now (1: one after the other)."""
    wanted = settings.PROMO_PARALLEL_READS
    if wanted <= 1 or count <= 1 or _inside.get():
        return 1
    if any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        return 1
    return min(wanted, count)


def side_by_side(reads: Sequence[Callable[[], Any]]) -> list[Any]:
    """The results of ``reads``, in their order; see the module's text. Put the longest first:
    threads take the reads in order as they come free."""
    threads = threads_for(len(reads))
    if threads == 1:
        return [read() for read in reads]

    results: list[Any] = [None] * len(reads)
    errors: dict[int, BaseException] = {}
    queue = iter(enumerate(reads))
    lock = threading.Lock()
    language = translation.get_language()
    zone = timezone.get_current_timezone()
    prefix, urlconf = get_script_prefix(), get_urlconf()

    def take() -> tuple[int, Callable[[], Any]] | None:
        with lock:
            if errors:
                return None  # one failed: start nothing more
            return next(queue, None)

    def work() -> None:
        token = _inside.set(True)
        try:
            while (item := take()) is not None:
                index, read = item
                try:
                    results[index] = read()
                except BaseException as error:  # handed to the caller below
                    with lock:
                        errors[index] = error
        finally:
            _inside.reset(token)

    def in_context() -> None:
        # Inside the copied context: Django's thread-locals (asgiref) read there ignore what
        # the caller's thread set, so the language, zone and script prefix are set anew.
        set_script_prefix(prefix)  # links reversed in a read as in the request
        set_urlconf(urlconf)
        with translation.override(language), timezone.override(zone):
            work()

    def thread_main(context: contextvars.Context) -> None:
        try:
            context.run(in_context)
        finally:
            connections.close_all()

    helpers = [
        threading.Thread(
            target=thread_main,
            args=(contextvars.copy_context(),),
            name=f"promo-reads-{n}",
            daemon=True,
        )
        for n in range(threads - 1)
    ]
    for helper in helpers:
        helper.start()
    try:
        work()  # the caller reads too, on its own connection
    finally:
        for helper in helpers:
            helper.join()
    if errors:
        raise errors[min(errors)]
    return results
