"""Query expressions of the kernel, for any app's reads."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import BooleanField, CharField, Func, Value


def array_literal(ids: Collection[int]) -> str:
    """PostgreSQL's text of an integer array, ``{1,2,…}``: one parameter, parsed as one
    constant."""
    return "{" + ",".join(str(int(pk)) for pk in ids) + "}"


class InArray(Func):
    """``expression = ANY(ids)``, the ids passed as one array literal: a constant PostgreSQL
    hashes (14+) and counts when it plans, where ``IN (SELECT unnest(...))`` is a join it
    guesses. Written ``'{1,2,…}'::bigint[]`` it is parsed as one constant; psycopg2's
    ``ARRAY[1,2,…]`` is an expression of as many constants, which for 19,025 ids took
    PostgreSQL ~30 ms to parse and fold for every query. For a page's 50 or 250 ids it also
    spares Django's ``__in`` preparing each id (1.5 ms of a nested API list's read)."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s::bigint[]))"
    output_field = BooleanField()

    def __init__(self, expression: Any, ids: Collection[int]) -> None:
        super().__init__(expression, Value(array_literal(ids), output_field=CharField()))
