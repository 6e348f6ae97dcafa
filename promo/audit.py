"""Attribution of every write: who did it and why, recorded by django-pghistory.

The history triggers live in PostgreSQL, so even a raw ``UPDATE`` is recorded; this
context only adds *who* and *why* to the rows the triggers write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pghistory


@contextlib.contextmanager
def audited(actor: Any, why: str = "", **extra: Any) -> Iterator[None]:
    """Group the writes inside under one history context naming the actor and the reason."""
    metadata: dict[str, Any] = {"user": getattr(actor, "pk", None)}
    if why:
        metadata["why"] = why
    metadata.update({key: value for key, value in extra.items() if value is not None})
    with pghistory.context(**metadata):
        yield
