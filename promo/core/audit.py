"""Attribution of every write: who did it and why, recorded by django-pghistory.

The history triggers live in PostgreSQL, so even a raw ``UPDATE`` is recorded; this
context only adds *who* and *why* to the rows the triggers write.

pghistory groups everything inside the outermost context under one context row, so a
nested ``audited`` cannot start a context of its own: it joins the outer one, keeps the
outer reason (signing a lead stays "project_sign_lead" when it moves the lead's status),
and refuses another actor, because then every row in the group would name the wrong one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pghistory
from pghistory.runtime import _tracker


@contextlib.contextmanager
def audited(actor: Any, why: str = "", **extra: Any) -> Iterator[None]:
    """Group the writes inside under one history context naming the actor and the reason."""
    actor_id = getattr(actor, "pk", None)
    outer = getattr(_tracker, "value", None)
    if outer is None:
        metadata: dict[str, Any] = {"user": actor_id, **{k: v for k, v in extra.items() if v}}
        if why:
            metadata["why"] = why
        with pghistory.context(**metadata):
            yield
        return
    current = outer.metadata
    if current.get("user") not in (None, actor_id):
        raise RuntimeError(
            "audited(): a second actor inside one history context would misattribute its rows"
        )
    additions: dict[str, Any] = {"user": actor_id}
    if why and not current.get("why"):
        additions["why"] = why
    additions.update({k: v for k, v in extra.items() if v and k not in current})
    pghistory.context(**additions)
    yield
