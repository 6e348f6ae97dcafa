"""Scope proofs within one request: a row found through a visibility selector says so.

An API field looks a foreign key up in the caller's scope (``investors_visible_to(officer)``);
the service it hands the row to checks the same scope again, as every service does. The field
notes on the row which selector found it for whom, and the service, given the same selector
and officer, need not ask the database a second time. A row loaded any other way carries no
note and is checked as before; a note for another officer or selector vouches for nothing.
"""

from __future__ import annotations

from typing import Any


def found_through(instance: object, selector: object, officer: Any) -> None:
    """Note on ``instance`` that ``selector(officer)`` returned it (an API field looked it up
    in the caller's scope), so a service checking the same scope in the same request need not
    ask the database again (:func:`was_found_through`)."""
    if officer is not None and getattr(officer, "pk", None) is not None:
        instance._promo_found_through = (selector, officer.pk)  # type: ignore[attr-defined]


def was_found_through(instance: object, selector: object, officer: Any) -> bool:
    """Whether ``instance`` came out of ``selector(officer)`` in this request (only
    :func:`found_through` notes it; a row loaded any other way is checked again)."""
    noted = getattr(instance, "_promo_found_through", None)
    return noted is not None and officer is not None and noted == (selector, officer.pk)
