"""The cockpit's unit × day summary of the additive figures (驾驶舱日汇总表).

Rules, decided here once (docs/decisions/0015-cockpit-summary-by-trigger.md):

* **What is summed.** A figure goes into the summary when its value over a period is the sum
  of its values over the period's days, and each day's value comes from one row of one table
  by one date column of that row: new valid leads (``Lead.qualified_on``), signings, their
  amount and their ≥ 10M / ≥ 100M classes (``Project.contract_date``, ``signed_investment``),
  new groundbreakings, completions and production, new 入统 and 入规 (the actual dates). The
  same rules as :func:`promo.reports.selectors.period_figures`, which stays their definition.
* **What is not.** Stocks at the period's end (leads in hand, in negotiation) and the
  groundbreakings' total investment (the increases dated up to the period's *end* count, so
  a day's value depends on the period) are read from the raw tables by indexed queries. The
  distinct visiting investors (来区客商: an investor visiting twice counts once) and the
  arrived FDI (differences of reported cumulative figures) have summaries of their own,
  kept and reconciled with this one (:mod:`.summary_sets`).
* **Kept by triggers.** Statement-level PostgreSQL triggers on ``leads_lead`` and
  ``projects_project`` (insert, update, delete, with their transition tables) subtract what
  the old rows counted and add what the new rows count, in the writer's transaction: every
  write is caught — services, imports, the admin, the API, ``QuerySet.update()``, the
  benchmark's COPY — and leads and projects import nothing of the dashboard. A moved lead,
  a corrected date or amount, a deleted project all net out.
* **Narrowed cockpits** (industry, region or source channel) are not summarised: the
  summary has no such dimensions (an investor's region changes without touching the lead),
  so they are computed from the raw rows as before.
* **Reconciled nightly** (:func:`reconcile`): the summary of the last days (the whole year
  on the 1st of the month) is recomputed from the raw rows and compared; a difference is
  logged and told to the administrators (系统通知) with what differed, then corrected.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, DecimalField, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from officers.models import Unit
from projects.choices import HUNDRED_MILLION, TEN_MILLION
from projects.models import Project, total_investment_as_of
from promo.reports.choices import Figure, SystemNoticeKind
from promo.reports.selectors import PeriodFigures, grouped_by_subtree, period_figures
from promo.reports.services import administrators_tell

from . import summary_sets
from .models import DailyUnitFigure

log = logging.getLogger("promo.dashboard.summary")

ZERO = Decimal("0.00")
_MONEY: DecimalField = DecimalField(max_digits=18, decimal_places=2)

# {summary figure: (table, date column, extra condition, summed column)}; the summary figure
# is named after the Figure it counts. SIGNED_COUNT's row also carries SIGNED_AMOUNT.
_SOURCES: dict[str, tuple[str, str, str, str | None]] = {
    Figure.VALID_LEADS: ("leads_lead", "qualified_on", "", None),
    Figure.SIGNED_COUNT: ("projects_project", "contract_date", "", "signed_investment"),
    Figure.TEN_MILLION_COUNT: (
        "projects_project",
        "contract_date",
        f"signed_investment >= {TEN_MILLION}",
        None,
    ),
    Figure.HUNDRED_MILLION_COUNT: (
        "projects_project",
        "contract_date",
        f"signed_investment >= {HUNDRED_MILLION}",
        None,
    ),
    Figure.GROUNDBREAKING_COUNT: ("projects_project", "groundbreaking_actual", "", None),
    Figure.COMPLETED_COUNT: ("projects_project", "completed_actual", "", None),
    Figure.PRODUCING_COUNT: ("projects_project", "producing_actual", "", None),
    Figure.IN_STATISTICS_COUNT: ("projects_project", "in_statistics_actual", "", None),
    Figure.ABOVE_SIZE_COUNT: ("projects_project", "above_size_actual", "", None),
}
# The figures read from the summary (the amount rides on SIGNED_COUNT's row).
SUMMED: frozenset[str] = frozenset({*_SOURCES, Figure.SIGNED_AMOUNT})
_AMOUNT_OF: dict[str, str] = {Figure.SIGNED_AMOUNT: Figure.SIGNED_COUNT}
# The figures the cockpit still reads from the raw rows (stocks, distinct counts, and sums
# whose days depend on the period's end).
RAW_FIGURES: frozenset[str] = frozenset(Figure.values) - SUMMED
TABLES = ("leads_lead", "projects_project")
SUMMARY_TABLE = "dashboard_dailyunitfigure"

RECONCILE_DAYS = 14
# "All of it" for the summaries keyed by day or month.
_EVER = (date(1, 1, 1), date(9999, 12, 31))


def _contributions(table: str, source: str, sign: int, days: tuple[str, str] | None = None) -> str:
    """SELECT of ``(unit_id, day, figure, n, amount)``: what the rows of ``source`` (the
    table itself, or a trigger's transition table) count, times ``sign``; with ``days``
    (two SQL expressions) only the days between them."""
    parts = []
    for figure, (from_table, column, condition, amount) in _SOURCES.items():
        if from_table != table:
            continue
        where = [f"{column} IS NOT NULL", "unit_id IS NOT NULL"]
        if condition:
            where.append(condition)
        if days is not None:
            where.append(f"{column} BETWEEN {days[0]} AND {days[1]}")
        summed = f"{sign} * {amount}" if amount else "0"
        parts.append(
            f"SELECT unit_id, {column} AS day, '{Figure(figure).value}'::varchar AS figure, "
            f"{sign} AS n, ({summed})::numeric AS amount FROM {source} "
            f"WHERE {' AND '.join(where)}"
        )
    return "\nUNION ALL\n".join(parts)


def _apply_sql(table: str, sources: Sequence[tuple[str, int]]) -> str:
    """Add what ``sources`` (transition tables, with their signs) count to the summary."""
    deltas = "\nUNION ALL\n".join(_contributions(table, src, sign) for src, sign in sources)
    return f"""
        INSERT INTO {SUMMARY_TABLE} AS s (unit_id, day, figure, count, amount)
        SELECT unit_id, day, figure, SUM(n), SUM(amount) FROM ({deltas}) AS d
        GROUP BY unit_id, day, figure
        HAVING SUM(n) <> 0 OR SUM(amount) <> 0
        ORDER BY unit_id, day, figure
        ON CONFLICT (unit_id, day, figure) DO UPDATE
        SET count = s.count + EXCLUDED.count, amount = s.amount + EXCLUDED.amount;
    """


def trigger_sql() -> tuple[str, str]:
    """(install, remove): the trigger functions and statement triggers on the two tables."""
    install, remove = [], []
    for table in TABLES:
        function = f"dashboard_summary_{table}"
        install.append(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
            LANGUAGE plpgsql AS $body$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {_apply_sql(table, [("new_rows", 1)])}
                ELSIF TG_OP = 'UPDATE' THEN
                    {_apply_sql(table, [("old_rows", -1), ("new_rows", 1)])}
                ELSE
                    {_apply_sql(table, [("old_rows", -1)])}
                END IF;
                RETURN NULL;
            END;
            $body$;
            CREATE TRIGGER {function}_ins AFTER INSERT ON {table}
                REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION {function}();
            CREATE TRIGGER {function}_upd AFTER UPDATE ON {table}
                REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION {function}();
            CREATE TRIGGER {function}_del AFTER DELETE ON {table}
                REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION {function}();
            """
        )
        remove.append(
            f"""
            DROP TRIGGER IF EXISTS {function}_ins ON {table};
            DROP TRIGGER IF EXISTS {function}_upd ON {table};
            DROP TRIGGER IF EXISTS {function}_del ON {table};
            DROP FUNCTION IF EXISTS {function}();
            """
        )
    return "\n".join(install), "\n".join(remove)


def _expected_sql(start: date | None, end: date | None) -> tuple[str, list[Any]]:
    """SELECT of ``(unit_id, day, figure, count, amount)`` recomputed from the raw rows."""
    days = ("%s", "%s") if start is not None and end is not None else None
    parts, params = [], []
    for table in TABLES:
        parts.append(_contributions(table, table, 1, days))
        if days is not None:
            params += [start, end] * sum(1 for s in _SOURCES.values() if s[0] == table)
    union = "\nUNION ALL\n".join(parts)
    sql = (
        f"SELECT unit_id, day, figure, SUM(n)::int AS count, SUM(amount) AS amount "
        f"FROM ({union}) AS d GROUP BY unit_id, day, figure"
    )
    return sql, params


def _lock(*, sets: bool = True) -> None:
    """Hold off the triggers' writes while the summaries are compared or rebuilt (writers
    wait; a writer already past its trigger is waited for, so both sides see the same rows)."""
    tables = [SUMMARY_TABLE]
    if sets:
        tables += [summary_sets.VISITOR_TABLE, summary_sets.FDI_TABLE]
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")


def rebuild(start: date | None = None, end: date | None = None, *, sets: bool = True) -> int:
    """Recompute the summary from the raw rows, all of it or the days ``[start, end]``;
    returns the number of rows written. Used by the migrations, ``rebuild_cockpit_summary``
    and the reconciliation's correction. ``sets=False`` leaves the visiting investors' and the
    arrived FDI's tables alone: dashboard migration 0003 backfills the daily table before
    0004 has made them."""
    expected, params = _expected_sql(start, end)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(sets=sets)
        if start is None or end is None:
            cursor.execute(f"DELETE FROM {SUMMARY_TABLE}")
        else:
            cursor.execute(f"DELETE FROM {SUMMARY_TABLE} WHERE day BETWEEN %s AND %s", [start, end])
        cursor.execute(
            f"INSERT INTO {SUMMARY_TABLE} (unit_id, day, figure, count, amount) "
            f"SELECT unit_id, day, figure, count, amount FROM ({expected}) AS e "
            f"WHERE count <> 0 OR amount <> 0",
            params,
        )
        written = cursor.rowcount
        if not sets:
            return written
        # The visiting investors and the arrived FDI (.summary_sets), the same days.
        return written + summary_sets.rebuild(cursor, start or _EVER[0], end or _EVER[1])


@dataclass(frozen=True)
class Mismatch:
    unit_id: int
    day: date
    figure: str
    stored: tuple[int, Decimal]
    expected: tuple[int, Decimal]

    def __str__(self) -> str:
        return (
            f"unit {self.unit_id} {self.day} {self.figure}: "
            f"summary {self.stored[0]}/{self.stored[1]}, raw {self.expected[0]}/{self.expected[1]}"
        )


def compare(start: date, end: date) -> list[Mismatch]:
    """The (unit, day, figure) rows of ``[start, end]`` where the summary differs from a
    recomputation from the raw rows (a missing row is zero)."""
    expected, params = _expected_sql(start, end)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COALESCE(s.unit_id, e.unit_id), COALESCE(s.day, e.day),
                   COALESCE(s.figure, e.figure),
                   COALESCE(s.count, 0), COALESCE(s.amount, 0),
                   COALESCE(e.count, 0), COALESCE(e.amount, 0)
            FROM (SELECT * FROM {SUMMARY_TABLE} WHERE day BETWEEN %s AND %s) AS s
            FULL OUTER JOIN ({expected}) AS e
              ON s.unit_id = e.unit_id AND s.day = e.day AND s.figure = e.figure
            WHERE COALESCE(s.count, 0) <> COALESCE(e.count, 0)
               OR COALESCE(s.amount, 0) <> COALESCE(e.amount, 0)
            ORDER BY 2, 1, 3
            """,
            [start, end, *params],
        )
        rows = cursor.fetchall()
        # The visiting investors and the arrived FDI, keyed by investor / project.
        rows += summary_sets.compare(cursor, start, end)
        return [
            Mismatch(unit, day, figure, (sc, Decimal(sa)), (ec, Decimal(ea)))
            for unit, day, figure, sc, sa, ec, ea in rows
        ]


def reconcile_window(on: date) -> tuple[date, date]:
    """The days the nightly reconciliation of ``on`` checks: the last RECONCILE_DAYS days,
    and on the 1st of a month the whole year so far (and the last year's December)."""
    if on.day == 1:
        return date(on.year - 1, 12, 1) if on.month == 1 else date(on.year, 1, 1), on
    return on - timedelta(days=RECONCILE_DAYS), on


@dataclass
class Reconciliation:
    start: date
    end: date
    mismatches: list[Mismatch]
    corrected: int = 0


def reconcile(on: date) -> Reconciliation:
    """Compare the summary of :func:`reconcile_window` with the raw rows; a difference is
    logged, told to the administrators and then corrected (the notice says so)."""
    start, end = reconcile_window(on)
    with transaction.atomic():
        _lock()
        found = compare(start, end)
        result = Reconciliation(start, end, found)
        if found:
            for mismatch in found[:50]:
                log.error("cockpit summary mismatch: %s", mismatch)
            log.error(
                "cockpit summary: %d mismatched rows in %s..%s; recomputed from the raw rows",
                len(found),
                start,
                end,
            )
            result.corrected = rebuild(start, end)
    if found:
        administrators_tell(kind=SystemNoticeKind.SUMMARY_MISMATCH, error=_describe(result))
    return result


def _describe(result: Reconciliation) -> str:
    """The notice's detail: the days checked, how many rows differed, the first few."""
    first = "; ".join(str(m) for m in result.mismatches[:3])
    return f"{result.start}..{result.end}: {len(result.mismatches)} rows; {first}"


def summed_figures(
    *,
    start: date,
    end: date,
    units: Sequence[Unit] | None,
    own_units: Sequence[Unit] = (),
) -> dict[int | None, dict[str, Any]]:
    """The summed figures of ``[start, end]`` keyed like ``period_figures`` (one query)."""
    aggregates: dict[str, Any] = {}
    for figure in SUMMED:
        if figure in _AMOUNT_OF:
            aggregates[figure] = Coalesce(
                Sum("amount", filter=Q(figure=_AMOUNT_OF[figure])), ZERO, output_field=_MONEY
            )
        else:
            aggregates[figure] = Coalesce(Sum("count", filter=Q(figure=figure)), 0)
    qs = DailyUnitFigure.objects.filter(day__gte=start, day__lte=end)
    return grouped_by_subtree(qs, "unit", units, aggregates, own_units=list(own_units))


def merge_into(
    figures: dict[int | None, PeriodFigures], summed: dict[int | None, dict[str, Any]]
) -> None:
    """Set the summed figures on ``figures`` (a unit with no summary rows keeps its zeros)."""
    for key, row in figures.items():
        values = summed.get(key, {})
        for figure in SUMMED:
            value = values.get(figure)
            if figure in _AMOUNT_OF:
                setattr(row, figure, Decimal(value if value is not None else 0).quantize(ZERO))
            else:
                setattr(row, figure, int(value or 0))


def cockpit_period_figures(
    *,
    start: date,
    end: date,
    units: Sequence[Unit] | None = None,
    own_units: Sequence[Unit] = (),
    industry: str = "",
    region: str = "",
    source_channel: str = "",
) -> dict[int | None, PeriodFigures]:
    """:func:`promo.reports.selectors.period_figures` for the cockpit, the same figures: the
    additive ones summed from the daily summary, the others from the raw rows. A narrowed
    cockpit (industry, region or channel) is computed from the raw rows alone."""
    if industry or region or source_channel:
        return period_figures(
            start=start,
            end=end,
            units=units,
            own_units=own_units,
            industry=industry,
            region=region,
            source_channel=source_channel,
        )
    result = period_figures(
        start=start, end=end, units=units, own_units=own_units, figures=RAW_FIGURES
    )
    merge_into(result, summed_figures(start=start, end=end, units=units, own_units=own_units))
    return result


def _by_bucket_and_total(
    qs: QuerySet,
    units: Sequence[Unit],
    own_units: Sequence[Unit],
    total_unit: Unit | None,
    aggregates: dict[str, Any],
) -> tuple[dict[int | None, dict[str, Any]], dict[str, Any]]:
    """One grouped query of additive ``aggregates``: per row unit (each of ``own_units`` its
    own records, each of ``units`` its sub-tree; the rest in bucket 0) over the total's
    scope (``total_unit``'s sub-tree, or everything), and the total as the sum of all buckets."""
    if total_unit is not None:
        qs = qs.filter(unit__path__startswith=total_unit.path)
    bucket = Case(
        *(When(unit_id=u.pk, then=Value(u.pk)) for u in own_units),
        *(When(unit__path__startswith=u.path, then=Value(u.pk)) for u in units),
        default=Value(0),
        output_field=IntegerField(),
    )
    rows = qs.annotate(_bucket=bucket).values("_bucket").order_by().annotate(**aggregates)
    per_unit: dict[int | None, dict[str, Any]] = {}
    total: dict[str, Any] = {}
    for row in rows:
        key = row.pop("_bucket")
        per_unit[key] = row
        for name, value in row.items():
            total[name] = total.get(name, 0) + (value or 0)
    return per_unit, total


def _summed_aggregates() -> dict[str, Any]:
    aggregates: dict[str, Any] = {}
    for figure in SUMMED:
        if figure in _AMOUNT_OF:
            aggregates[figure] = Coalesce(
                Sum("amount", filter=Q(figure=_AMOUNT_OF[figure])), ZERO, output_field=_MONEY
            )
        else:
            aggregates[figure] = Coalesce(Sum("count", filter=Q(figure=figure)), 0)
    return aggregates


def cockpit_figures(
    *,
    start: date,
    end: date,
    units: Sequence[Unit],
    own_units: Sequence[Unit],
    total: Sequence[Unit] | None,
) -> tuple[dict[int | None, PeriodFigures], dict[int | None, PeriodFigures]]:
    """The cockpit's figures of ``[start, end]`` (not narrowed): per row (``units`` and
    ``own_units``, keyed by id) and the total (``total``: one unit's sub-tree keyed by its id,
    or None, the whole bureau keyed None), the same as the two calls of ``period_figures``
    they replace, in 6 queries (the two calls took 8).

    The additive figures come from the daily summary, and the groundbreakings' total at the
    period's end from the projects, each in one query for the rows and the total together;
    the visiting investors and the arrived FDI from their summaries (:mod:`.summary_sets`),
    likewise one query each; the stocks from ``period_figures``.
    """
    total_unit = total[0] if total else None
    if total is not None and len(total) != 1:
        raise ValueError("the total is one unit's sub-tree or the whole bureau (None)")
    raw = RAW_FIGURES - {
        Figure.GROUNDBREAKING_AMOUNT,
        Figure.INVESTORS_VISITING,
        Figure.ARRIVED_FDI,
    }
    per_unit = period_figures(start=start, end=end, units=units, own_units=own_units, figures=raw)
    totals = period_figures(start=start, end=end, units=total, figures=raw)
    whole = totals[total_unit.pk if total_unit is not None else None]

    summed, summed_total = _by_bucket_and_total(
        DailyUnitFigure.objects.filter(day__gte=start, day__lte=end),
        units,
        own_units,
        total_unit,
        _summed_aggregates(),
    )
    merge_into(per_unit, summed)
    merge_into({None: whole}, {None: summed_total})

    # 新开工项目总投资: the total as it stood at the period's end (reports' counting rules).
    started, started_total = _by_bucket_and_total(
        Project.objects.filter(groundbreaking_actual__gte=start, groundbreaking_actual__lte=end),
        units,
        own_units,
        total_unit,
        {
            Figure.GROUNDBREAKING_AMOUNT: Coalesce(
                Sum(total_investment_as_of(end)), ZERO, output_field=_MONEY
            ),
        },
    )
    for key, row in per_unit.items():
        value = started.get(key, {}).get(Figure.GROUNDBREAKING_AMOUNT)
        row.groundbreaking_amount = Decimal(value or 0).quantize(ZERO)
    whole.groundbreaking_amount = Decimal(
        started_total.get(Figure.GROUNDBREAKING_AMOUNT) or 0
    ).quantize(ZERO)

    # 来区客商 and 到账外资 from their summaries (.summary_sets), rows and total in one query each.
    visiting, visiting_total = summary_sets.visiting_investors(
        start=start, end=end, units=units, own_units=own_units, total_unit=total_unit
    )
    fdi, fdi_total = summary_sets.arrived_fdi(
        start=start, end=end, units=units, own_units=own_units, total_unit=total_unit
    )
    for key, row in per_unit.items():
        row.investors_visiting = visiting.get(key, 0) if key is not None else 0
        row.arrived_fdi = fdi.get(key, ZERO).quantize(ZERO) if key is not None else ZERO
    whole.investors_visiting = visiting_total
    whole.arrived_fdi = fdi_total.quantize(ZERO)
    return per_unit, totals
