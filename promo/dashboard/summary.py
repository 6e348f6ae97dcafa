"""The cockpit's unit × day summary of the additive figures (驾驶舱日汇总表).

Rules, decided here once (docs/decisions/0015-cockpit-summary-by-trigger.md):

* **What is summed.** A figure goes into the summary when its value over a period is the sum
  of its values over the period's days, and each day's value comes from one row of one table
  by one date column of that row: new valid leads (``Lead.qualified_on``), signings, their
  amount and their ≥ 10M / ≥ 100M classes (``Project.contract_date``, ``signed_investment``),
  new groundbreakings, completions and production, new 入统 and 入规 (the actual dates). The
  same rules as :func:`promo.reports.selectors.period_figures`, which stays their definition.
* **Stocks as changes.** The stocks at a period's end (leads in hand, in negotiation) are kept
  as each day's changes — a lead's +1 on the day it entered, -1 on the day it was signed or
  closed — and read as the sum of every day up to the end (decision 0029).
* **What is not.** The groundbreakings' total investment (the increases dated up to the
  period's *end* count, so a day's value depends on the period) is read from the raw tables
  by an indexed query. The distinct visiting investors (来区客商: an investor visiting twice counts once) and the
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

import calendar
import dataclasses
import functools
import logging
import operator
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, Sum

from officers.models import Unit
from projects.choices import HUNDRED_MILLION, TEN_MILLION
from projects.models import Project, total_investment_as_of
from promo.agreements import states as agreement_states
from promo.reports.choices import Figure, SystemNoticeKind
from promo.reports.selectors import (
    PeriodFigures,
)
from promo.reports.services import administrators_tell

from . import summary_funnel, summary_sets
from .buckets import Fold
from .models import UnitFdiMonth

log = logging.getLogger("promo.dashboard.summary")

ZERO = Decimal("0.00")

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
# The lead stocks at a day's end (在手有效线索, 在谈项目; reports' ``lead_stocks_at``): a lead
# counts from the day it entered (this column's date) until the day it was signed or closed,
# whichever came first, not included. Kept as changes: +1 on the day it entered and -1 on the
# day it left, so the stock at a day's end is the sum of every day up to it (decision 0029).
_STOCK_SOURCES: dict[str, str] = {
    Figure.LEADS_IN_HAND: "qualified_on",
    Figure.LEADS_NEGOTIATING: "negotiating_on",
}
_LEFT_ON = "LEAST(signed_on, closed_on)"
# The figures read from the summary as sums over a period (the amount rides on SIGNED_COUNT's
# row); the stocks are read as sums of every day up to a period's end.
SUMMED: frozenset[str] = frozenset({*_SOURCES, Figure.SIGNED_AMOUNT})
_AMOUNT_OF: dict[str, str] = {Figure.SIGNED_AMOUNT: Figure.SIGNED_COUNT}
TABLES = ("leads_lead", "projects_project")
SUMMARY_TABLE = "dashboard_dailyunitfigure"
MONTHLY_TABLE = "dashboard_monthlyunitfigure"

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
    if table == "leads_lead":
        parts += _stock_changes(source, sign, days)
    return "\nUNION ALL\n".join(parts)


def _stock_changes(source: str, sign: int, days: tuple[str, str] | None) -> list[str]:
    """The stocks' +1 on the day a lead entered and -1 on the day it left (if it left after
    it entered: a lead signed or closed the day it entered, or before, never counts)."""
    parts = []
    for figure, entered in _STOCK_SOURCES.items():
        counts = f"{entered} IS NOT NULL AND unit_id IS NOT NULL"
        stayed = f"({_LEFT_ON} IS NULL OR {_LEFT_ON} > {entered})"
        left = f"{_LEFT_ON} > {entered}"
        for day, n, condition in ((entered, sign, stayed), (_LEFT_ON, -sign, left)):
            where = f"{counts} AND {condition}"
            if days is not None:
                where += f" AND {day} BETWEEN {days[0]} AND {days[1]}"
            parts.append(
                f"SELECT unit_id, {day} AS day, '{Figure(figure).value}'::varchar AS figure, "
                f"{n} AS n, 0::numeric AS amount FROM {source} WHERE {where}"
            )
    return parts


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


# --- The month sums of the daily summary (decision 0023) --------------------------------------


def _month_apply(sources: Sequence[tuple[str, int]]) -> str:
    """Add (sign 1) or subtract (sign -1) the day rows of ``sources`` to their months."""
    deltas = "\nUNION ALL\n".join(
        f"SELECT unit_id, date_trunc('month', day)::date AS month, figure, "
        f"{sign} * count AS n, {sign} * amount AS amount FROM {source}"
        for source, sign in sources
    )
    return f"""
        INSERT INTO {MONTHLY_TABLE} AS s (unit_id, month, figure, count, amount)
        SELECT unit_id, month, figure, SUM(n), SUM(amount) FROM ({deltas}) AS d
        GROUP BY unit_id, month, figure
        HAVING SUM(n) <> 0 OR SUM(amount) <> 0
        ORDER BY month, unit_id, figure
        ON CONFLICT (month, unit_id, figure) DO UPDATE
        SET count = s.count + EXCLUDED.count, amount = s.amount + EXCLUDED.amount;
    """


def month_trigger_sql() -> tuple[str, str]:
    """(install, remove): the statement triggers on the daily summary keeping its month sums
    (dashboard migration 0007). A month's row at zero stays, as a day's does."""
    return summary_sets.statement_triggers(
        "dashboard_monthly_figures",
        SUMMARY_TABLE,
        {
            "INSERT": _month_apply([("new_rows", 1)]),
            "UPDATE": _month_apply([("old_rows", -1), ("new_rows", 1)]),
            "DELETE": _month_apply([("old_rows", -1)]),
        },
    )


def _month_of(day: date) -> date:
    return day.replace(day=1)


def _last_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_split(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """``[start, end]`` as its whole months — ``(first, last)``, each a month's first day, or
    None — and the days before and after them (at most two ranges): together every day of
    the period once. A period of no whole month is all days."""
    if start > end or start > date(9999, 11, 30):
        return None, [(start, end)]
    first = start if start.day == 1 else _last_of_month(start) + timedelta(days=1)
    ends_a_month = end == _last_of_month(end)
    last = _month_of(end) if ends_a_month else _month_of(_month_of(end) - timedelta(days=1))
    if first > last:
        return None, [(start, end)]
    edges = []
    if start < first:
        edges.append((start, first - timedelta(days=1)))
    if not ends_a_month:
        edges.append((_month_of(end), end))
    return (first, last), edges


def _months_expected_sql() -> str:
    """SELECT of ``(unit_id, month, figure, count, amount)``: the daily summary summed by
    month, the days ``%s``–``%s``."""
    return (
        f"SELECT unit_id, date_trunc('month', day)::date AS month, figure, "
        f"SUM(count)::int AS count, SUM(amount) AS amount FROM {SUMMARY_TABLE} "
        f"WHERE day BETWEEN %s AND %s GROUP BY unit_id, date_trunc('month', day), figure"
    )


def _month_bounds(start: date, end: date) -> tuple[date, date]:
    """The first day of ``start``'s month and the last of ``end``'s."""
    return _month_of(start), _last_of_month(end)


def rebuild_months(cursor: Any, start: date, end: date) -> int:
    """Recompute the month sums of the months touching ``[start, end]`` from the daily
    summary (after it is rebuilt, the caller holding the lock)."""
    first, last = _month_bounds(start, end)
    return summary_sets.replace_range(
        cursor,
        MONTHLY_TABLE,
        "unit_id, month, figure, count, amount",
        "month",
        [first, last],
        f"SELECT * FROM ({_months_expected_sql()}) AS e WHERE count <> 0 OR amount <> 0",
        [first, last],
    )


def _compare_months(cursor: Any, start: date, end: date) -> list[tuple]:
    """As :func:`compare`'s rows: the month sums of the months touching ``[start, end]``
    that differ from their days' (the figure named ``month:<figure>``, the day the month's
    first)."""
    first, last = _month_bounds(start, end)
    cursor.execute(
        f"""
        SELECT COALESCE(s.unit_id, e.unit_id), COALESCE(s.month, e.month),
               'month:' || COALESCE(s.figure, e.figure),
               COALESCE(s.count, 0), COALESCE(s.amount, 0),
               COALESCE(e.count, 0), COALESCE(e.amount, 0)
        FROM (SELECT * FROM {MONTHLY_TABLE} WHERE month BETWEEN %s AND %s) AS s
        FULL OUTER JOIN ({_months_expected_sql()}) AS e
          ON s.unit_id = e.unit_id AND s.month = e.month AND s.figure = e.figure
        WHERE COALESCE(s.count, 0) <> COALESCE(e.count, 0)
           OR COALESCE(s.amount, 0) <> COALESCE(e.amount, 0)
        ORDER BY 2, 1, 3
        """,
        [first, last, first, last],
    )
    return cursor.fetchall()


def _expected_sql(start: date | None, end: date | None) -> tuple[str, list[Any]]:
    """SELECT of ``(unit_id, day, figure, count, amount)`` recomputed from the raw rows."""
    days = ("%s", "%s") if start is not None and end is not None else None
    parts, params = [], []
    for table in TABLES:
        parts.append(_contributions(table, table, 1, days))
        if days is not None:
            params += [start, end] * sum(1 for s in _SOURCES.values() if s[0] == table)
            if table == "leads_lead":
                params += [start, end] * 2 * len(_STOCK_SOURCES)
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
        tables += [
            MONTHLY_TABLE,
            summary_sets.VISITOR_TABLE,
            summary_sets.VISITOR_YEAR_TABLE,
            summary_sets.FDI_TABLE,
            summary_sets.UNIT_FDI_TABLE,
            summary_sets.LATEST_REPORT_TABLE,
            summary_funnel.FUNNEL_TABLE,
            agreement_states.GRAIN,
        ]
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")


def rebuild(start: date | None = None, end: date | None = None, *, sets: bool = True) -> int:
    """Recompute the summary from the raw rows, all of it or the days ``[start, end]``;
    returns the number of rows written. Used by the migrations, ``rebuild_cockpit_summary``
    and the reconciliation's correction. ``sets=False`` leaves the month sums, the visiting
    investors', the arrived FDI's and the latest report months' tables alone: dashboard
    migration 0003 backfills the daily table before 0004 and 0006–0009 have made them."""
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
        # The month sums of the days just rebuilt (their months whole); the visiting
        # investors and the arrived FDI (.summary_sets), the same days; then the FDI's
        # unit-month sums from the project-month rows just rebuilt.
        whole = start is None or end is None
        start, end = start or _EVER[0], end or _EVER[1]
        written += rebuild_months(cursor, start, end)
        written += summary_sets.rebuild(cursor, start, end)
        written += summary_sets.rebuild_visitor_years(cursor, start, end)
        written += summary_sets.rebuild_unit_fdi(cursor, start, end)
        # The lead funnel's calendar periods that share a day with them (whole periods).
        written += summary_funnel.rebuild(cursor, None if whole else start, None if whole else end)
        # Each project's latest report month, whatever the days (it is not kept by day);
        # the agreements' grains, whole (they are not kept by day either).
        written += summary_sets.rebuild_latest_reports(cursor)
        return written + agreement_states.rebuild_grain(cursor)


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
    recomputation from the raw rows (a missing row is zero), and every project whose latest
    report month differs from its reports', whatever the days (it is not kept by day)."""
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
        rows += _compare_months(cursor, start, end)
        rows += summary_sets.compare(cursor, start, end)
        rows += summary_sets.compare_unit_fdi(cursor, start, end)
        rows += summary_sets.compare_visitor_years(cursor, start, end)
        rows += summary_sets.compare_latest_reports(cursor)
        # The lead funnel of every calendar period sharing a day with them (decision 0028).
        rows += summary_funnel.compare(cursor, start, end)
        # The agreements' states added up per unit and cohort (decision 0026), whole.
        rows += agreement_states.compare_grain(cursor)
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


_INTEGER = frozenset(f.name for f in dataclasses.fields(PeriodFigures) if f.type in (int, "int"))

PeriodRows = dict[int | None, PeriodFigures]


def _summed_sql(
    periods: Sequence[tuple[date, date]], summed: Sequence[str], fold: Fold
) -> tuple[str, list[Any]]:
    """The statement of :func:`cockpit_figures_over`'s summed figures: per unit and summary
    figure, ``n<i>`` and ``a<i>`` (count and amount) of each period ``i``, from the month
    sums of its whole months and the days of the rest (:func:`month_split`)."""
    splits = [month_split(start, end) for start, end in periods]
    read = sorted({Figure(_AMOUNT_OF.get(figure, figure)).value for figure in summed})
    scope, scope_params = fold.scope_sql("unit_id")
    in_read = ", ".join(["%s"] * len(read))
    day_ranges = [edge for _months, edges in splits for edge in edges]
    month_ranges = [months for months, _edges in splits if months is not None]
    parts: list[str] = []
    from_params: list[Any] = []
    for table, column, ranges in (
        (SUMMARY_TABLE, "day", day_ranges),
        (MONTHLY_TABLE, "month", month_ranges),
    ):
        if not ranges:
            continue
        day, month = ("day", "NULL::date") if column == "day" else ("NULL::date", "month")
        between = " OR ".join([f"{column} BETWEEN %s AND %s"] * len(ranges))
        parts.append(
            f"SELECT unit_id, figure, {day} AS day, {month} AS month, count, amount "
            f"FROM {table} WHERE figure IN ({in_read}) AND ({between}) AND {scope}"
        )
        from_params += [*read, *(bound for r in ranges for bound in r), *scope_params]
    sums: list[str] = []
    sum_params: list[Any] = []
    for i, (months, edges) in enumerate(splits):
        conditions = ["day BETWEEN %s AND %s"] * len(edges)
        bounds = [bound for edge in edges for bound in edge]
        if months is not None:
            conditions.append("month BETWEEN %s AND %s")
            bounds += list(months)
        where = " OR ".join(conditions)
        sums.append(f"SUM(count) FILTER (WHERE {where}) AS n{i}")
        sums.append(f"SUM(amount) FILTER (WHERE {where}) AS a{i}")
        sum_params += bounds * 2
    sql = (
        f"SELECT unit_id, figure, {', '.join(sums)} "
        f"FROM ({' UNION ALL '.join(parts)}) AS d GROUP BY unit_id, figure"
    )
    return sql, sum_params + from_params


def cockpit_figures_over(
    periods: Sequence[tuple[date, date]],
    *,
    units: Sequence[Unit],
    own_units: Sequence[Unit],
    total: Sequence[Unit] | None,
    figures: Collection[str] | None = None,
) -> list[tuple[PeriodRows, PeriodRows]]:
    """The cockpit's figures (not narrowed) of each ``(start, end)`` of ``periods``: per row
    (``units`` and ``own_units``, keyed by id) and the total (``total``: one unit's sub-tree
    keyed by its id, or None, the whole bureau keyed None) — for each period what
    ``period_figures`` gives for the rows and for the total (tests/dashboard/test_summary.py).
    With ``figures``, only those are read (the others stay zero).

    Every period in one statement per source, its rows and total together, grouped by unit
    and folded in Python (:mod:`.buckets`): the additive figures from the daily summary, the
    groundbreakings' total at each period's end from the projects, the stocks at each end
    from the leads, the arrived FDI from its summary; the visiting investors (distinct, not
    foldable) from theirs, one query per period (:mod:`.summary_sets`). Four queries and one
    per period, where one period took six.
    """
    total_unit = total[0] if total else None
    if total is not None and len(total) != 1:
        raise ValueError("the total is one unit's sub-tree or the whole bureau (None)")
    wanted = frozenset(Figure.values if figures is None else figures)
    fold = Fold(units, own_units, total_unit)
    keys = [u.pk for u in (*units, *own_units)]
    total_key = total_unit.pk if total_unit is not None else None
    results: list[tuple[PeriodRows, PeriodRows]] = [
        ({key: PeriodFigures() for key in keys}, {total_key: PeriodFigures()}) for _ in periods
    ]

    def spread(
        grouped: list[tuple[int, str, dict[str, Any]]],
        names: dict[str, tuple[tuple[int, ...], str]],
    ) -> None:
        """Set the folded values on the periods' figures; ``names``: the aggregate's name ->
        (the periods it is of, the figure)."""
        per_bucket, whole = fold.fold(grouped)
        for name, (indexes, figure) in names.items():
            for index in indexes:
                rows, totals = results[index]
                for key, row in rows.items():
                    of_row = per_bucket.get(key, {}) if key is not None else {}
                    setattr(row, figure, _value(figure, of_row.get(name)))
                setattr(totals[total_key], figure, _value(figure, whole.get(name)))

    aggregates: dict[str, Any]
    names: dict[str, tuple[tuple[int, ...], str]]

    def day_range(field: str, start: date, end: date) -> Q:
        return Q(**{f"{field}__gte": start, f"{field}__lte": end})

    # The additive figures: each period's whole months from the month sums and its other
    # days from the daily summary (decision 0023), in one statement grouped by unit and
    # summary figure (two sums a period, not two a period and figure).
    summed = [figure for figure in SUMMED if figure in wanted]
    if summed:
        grouped = fold.grouped_sql(*_summed_sql(periods, summed, fold))
        # The cockpit figures each summary figure's row gives, and from which of its sums
        # (SIGNED_COUNT's row carries SIGNED_AMOUNT).
        gives: dict[str, list[tuple[str, str]]] = {}
        for figure in summed:
            column = "a" if figure in _AMOUNT_OF else "n"
            gives.setdefault(_AMOUNT_OF.get(figure, figure), []).append((figure, column))
        spread(
            [
                (
                    unit_id,
                    path,
                    {
                        f"p{i}_{figure}": values[f"{column}{i}"]
                        for figure, column in gives[values["figure"]]
                        for i in range(len(periods))
                    },
                )
                for unit_id, path, values in grouped
            ],
            {f"p{i}_{figure}": ((i,), figure) for i in range(len(periods)) for figure in summed},
        )

    # The stocks at each period's end: every day's changes up to it, from the month sums and
    # the days of its last month (decision 0029), one sum per distinct end.
    stocks = [figure for figure in _STOCK_SOURCES if figure in wanted]
    if stocks:
        ends = sorted({end for _start, end in periods})
        grouped = fold.grouped_sql(*_summed_sql([(_EVER[0], end) for end in ends], stocks, fold))
        names = {
            f"e{j}_{figure}": (tuple(i for i, (_s, e) in enumerate(periods) if e == end), figure)
            for j, end in enumerate(ends)
            for figure in stocks
        }
        spread(
            [
                (
                    unit_id,
                    path,
                    {f"e{j}_{values['figure']}": values[f"n{j}"] for j in range(len(ends))},
                )
                for unit_id, path, values in grouped
            ],
            names,
        )

    # 新开工项目总投资: the total as it stood at the period's end (reports' counting rules).
    if Figure.GROUNDBREAKING_AMOUNT in wanted:
        aggregates, names = {}, {}
        for i, (start, end) in enumerate(periods):
            aggregates[f"p{i}"] = Sum(
                total_investment_as_of(end), filter=day_range("groundbreaking_actual", start, end)
            )
            names[f"p{i}"] = ((i,), Figure.GROUNDBREAKING_AMOUNT)
        started = Project.objects.filter(
            _any(day_range("groundbreaking_actual", s, e) for s, e in periods)
        )
        spread(fold.grouped(started, aggregates), names)

    # 到账外资: the growth of the months of each period (.summary_sets).
    if Figure.ARRIVED_FDI in wanted:
        aggregates, names = {}, {}
        for i, (start, end) in enumerate(periods):
            aggregates[f"p{i}"] = Sum("growth", filter=day_range("month", start, end))
            names[f"p{i}"] = ((i,), Figure.ARRIVED_FDI)
        months = UnitFdiMonth.objects.filter(_any(day_range("month", s, e) for s, e in periods))
        spread(fold.grouped(months, aggregates), names)

    # 来区客商: distinct investors, from their summary, one query per period.
    if Figure.INVESTORS_VISITING in wanted:
        for (start, end), (rows, totals) in zip(periods, results, strict=True):
            visiting, visiting_total = summary_sets.visiting_investors(
                start=start, end=end, units=units, own_units=own_units, total_unit=total_unit
            )
            for key, row in rows.items():
                row.investors_visiting = visiting.get(key, 0) if key is not None else 0
            totals[total_key].investors_visiting = visiting_total
    return results


def _any(conditions: Iterable[Q]) -> Q:
    return functools.reduce(operator.or_, conditions)


def _value(figure: str, value: Any) -> Any:
    if figure in _INTEGER:
        return int(value or 0)
    return Decimal(value if value is not None else 0).quantize(ZERO)


def cockpit_figures(
    *,
    start: date,
    end: date,
    units: Sequence[Unit],
    own_units: Sequence[Unit],
    total: Sequence[Unit] | None,
) -> tuple[PeriodRows, PeriodRows]:
    """:func:`cockpit_figures_over` of one period."""
    return cockpit_figures_over([(start, end)], units=units, own_units=own_units, total=total)[0]
