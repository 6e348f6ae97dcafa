"""The cockpit's rows and total folded from figures grouped by unit (decision 0021).

The cockpit shows one row per listed unit (its sub-tree), one per own unit (本级: its own
records alone) and the total of its scope. An additive figure (a count, a sum) of a row is the
sum of that figure over the units the row holds, so the database groups by unit — a hash of
a few hundred groups — and Python folds the groups into rows: no ``CASE … path LIKE …`` is
evaluated once per record (at province scale that was half of each grouped query's time),
and one statement gives the rows and the total together. Distinct counts and medians are not
additive and are not folded here (:mod:`.summary_sets`, :mod:`.funnel`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import QuerySet

from officers.models import Unit

# The bucket of a unit no row shows (a deactivated one, say): counted in the total alone.
NO_ROW = 0


@dataclass(frozen=True)
class Fold:
    """How rows of figures grouped by unit become the cockpit's rows and total.

    ``units`` are disjoint sub-trees and ``own_units`` lie outside them (as
    ``promo.reports.selectors.period_figures`` requires); ``total_unit`` is the total's
    sub-tree, or None for the whole bureau.
    """

    units: Sequence[Unit]
    own_units: Sequence[Unit]
    total_unit: Unit | None = None
    _own: frozenset[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_own", frozenset(u.pk for u in self.own_units))

    def scope(self, qs: QuerySet, unit_field: str = "unit") -> QuerySet:
        """``qs`` kept to the total's scope (a semi-join on the scope's unit ids)."""
        if self.total_unit is None:
            return qs
        in_scope = Unit.objects.filter(path__startswith=self.total_unit.path).values("pk")
        return qs.filter(**{f"{unit_field}_id__in": in_scope})

    def grouped(
        self,
        qs: QuerySet,
        aggregates: dict[str, Any],
        *,
        unit_field: str = "unit",
        by: Sequence[str] = (),
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """``aggregates`` of ``qs`` (kept to the scope) per unit, and per each of ``by``'s
        columns (their values among the row's values): ``(unit id, path, values)``.

        Grouped by the unit's id alone (a hash of a few hundred groups; grouping by its path
        as well made PostgreSQL sort every row), the paths joined to the groups afterwards.
        """
        unit_id = f"{unit_field}_id"
        inner = self.scope(qs, unit_field).values(unit_id, *by).order_by().annotate(**aggregates)
        sql, params = inner.query.sql_with_params()
        return self.grouped_sql(sql, list(params), unit_column=unit_id, using=inner.db)

    def scope_sql(self, column: str = "unit_id") -> tuple[str, list[Any]]:
        """:meth:`scope` for raw SQL: a condition on ``column`` to AND in (TRUE for the whole
        bureau), and its parameters."""
        if self.total_unit is None:
            return "TRUE", []
        return (
            f"{column} IN (SELECT id FROM {Unit._meta.db_table} WHERE path LIKE %s)",
            [f"{self.total_unit.path}%"],
        )

    def grouped_sql(
        self, sql: str, params: list[Any], *, unit_column: str = "unit_id", using: str = "default"
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """:meth:`grouped` of a statement already grouped by ``unit_column`` (and kept to the
        scope, :meth:`scope_sql`): its rows as ``(unit id, path, values)``."""
        db = connections[using]
        with db.cursor() as cursor:
            cursor.execute(
                f"SELECT u.path, g.* FROM ({sql}) AS g JOIN {Unit._meta.db_table} AS u "
                f"ON u.id = g.{db.ops.quote_name(unit_column)}",
                params,
            )
            names = [column.name for column in cursor.description]
            rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        return [(row.pop(unit_column), row.pop("path"), row) for row in rows]

    def bucket(self, unit_id: int, path: str) -> int:
        """The row a unit's records count in: its own row, the listed sub-tree that holds
        it, or ``NO_ROW``."""
        if unit_id in self._own:
            return unit_id
        for unit in self.units:
            if path.startswith(unit.path):
                return unit.pk
        return NO_ROW

    def fold(
        self, rows: Iterable[tuple[int, str, dict[str, Any]]]
    ) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        """``({bucket: values}, total)``, each value the sum of the units' (None counts as
        nothing; a bucket no unit falls in is absent). The rows must lie in the scope."""
        per_bucket: dict[int, dict[str, Any]] = {}
        total: dict[str, Any] = {}
        for unit_id, path, values in rows:
            into = per_bucket.setdefault(self.bucket(unit_id, path), {})
            for name, value in values.items():
                if value is None:
                    continue
                into[name] = into.get(name, 0) + value
                total[name] = total.get(name, 0) + value
        return per_bucket, total
