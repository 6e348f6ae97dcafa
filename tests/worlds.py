"""A world built once per module: the tests that read one large, unchanging set of records.

The world is written inside a transaction opened before the module's first test and rolled
back after its last one. Each test's own transaction (pytest-django's ``db``) nests in it as a
savepoint, so whatever a test writes is undone before the next: every test reads the same
world, and nothing of it stays in the database.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import transaction

T = TypeVar("T")


@contextlib.contextmanager
def rolled_back_world(django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """Build with ``build()`` inside an outer transaction, yield it, then roll it all back."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build()
        except BaseException:
            outer.__exit__(*sys.exc_info())
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
