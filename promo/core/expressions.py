"""Query expressions of the kernel, for any app's reads."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    Func,
    Model,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

_M = TypeVar("_M", bound=Model)


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


class AnyOfSubquery(Func):
    """``expression = ANY(ARRAY(subquery) || …)``: each sub-query (uncorrelated: a UNION of a
    few indexed reads, an ordered and sliced list of keys) runs once, first, as an init-plan,
    and their ids are then looked up by the index on ``expression`` — one index condition,
    however many sub-queries. Written ``expression IN (subquery)`` the same read is a join
    whose side PostgreSQL guesses, and where it guesses a thousand rows it hashes the
    sub-query against the whole table."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()

    def __init__(self, expression: Any, *subqueries: QuerySet[Any, Any]) -> None:
        arrays = [ArraySubquery(ids, output_field=BigIntegerField()) for ids in subqueries]
        super().__init__(expression, Func(*arrays, arg_joiner=" || ", template="%(expressions)s"))


def named_by(queryset: QuerySet[_M], *keys: QuerySet[Any, Any]) -> QuerySet[_M]:
    """``queryset``'s rows whose primary key one of ``keys`` names: for a page's several short
    lists of one kind of record, each with its own condition, order and length, read in one
    statement. Each of ``keys`` (an uncorrelated, usually ordered and sliced sub-query of
    primary keys) runs first, once, as an init-plan, by its own index; the rows are then read
    by primary key. The caller tells the lists apart by the rows' own fields.

    A list that is ``none()`` (a caller who sees no such records: an administrator, 三员分立)
    names nothing and is left out — compiled, it would be ``ANY(NULL)``, which PostgreSQL
    refuses; with every list empty, so is the answer."""
    keys = tuple(key for key in keys if not key.query.is_empty())
    if not keys:
        return queryset.none()
    return queryset.filter(AnyOfSubquery("pk", *keys))


class CountsOf(Subquery):
    """``(SELECT ARRAY[COUNT(*), COUNT(*) FILTER (WHERE condition), …] FROM (queryset))``: how
    many rows ``queryset`` holds, and how many of them meet each of ``conditions``, as one
    value of another statement — the set read once for all its counts. Uncorrelated, it runs
    once, as an init-plan: a page that lists the first rows of a set reads the set's size in
    the statement that reads those rows, not in one of its own."""

    output_field = ArrayField(BigIntegerField())

    def __init__(self, queryset: QuerySet[Any, Any], *conditions: Q) -> None:
        names = [f"meets_{i}" for i in range(len(conditions))]
        filtered = "".join(f', COUNT(*) FILTER (WHERE counted."{name}")' for name in names)
        self.template = f"(SELECT ARRAY[COUNT(*){filtered}] FROM (%(subquery)s) AS counted)"
        rows = queryset.order_by().values("pk")
        if conditions:
            rows = rows.annotate(
                **{
                    # A condition that can hold for no row (``unit_id IN ()``) is compiled
                    # by ``Case`` as its default, not as Django's placeholder ``0``; one that
                    # holds for every row (``Q()``, a chief's units) is true.
                    name: Case(When(condition, then=Value(True)), default=Value(False))
                    if condition
                    else Value(True)
                    for name, condition in zip(names, conditions, strict=True)
                }
            )
        super().__init__(rows)
