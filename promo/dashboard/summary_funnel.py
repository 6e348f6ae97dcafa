"""The lead funnel of each calendar month, quarter and year per unit (信息漏斗期间汇总).

The funnel (:mod:`.funnel`) counts a lead at a stage when, within the period, it entered that
stage or a later one — a lead entering three stages in one period counts once at each, so a
period's count is no sum of its days' counts and the daily summary cannot give it. Its
medians are no sums either. What *can* be kept is the funnel of fixed periods: the calendar
months, quarters and years, which are the cockpit's periods (本月, 本季度; 年初至今 is the
calendar year so far). Rules, decided here once
(docs/decisions/0028-funnel-by-calendar-period.md):

* **What is kept.** ``dashboard_funnelperiodfigure (kind, start, unit, figure, days, count)``:
  for each calendar period (``kind`` month, quarter or year, ``start`` its first day) and unit,
  how many leads the funnel counts at each stage and closed status (``figure`` the status,
  ``days`` 0), and for each step into 有效 / 在谈 / 签约 how many of the leads entering that
  stage in the period took each number of days from the stage before (``figure``
  ``days_<stage>``, ``days`` the number): the medians come from these histograms, exactly
  (``PERCENTILE_CONT(0.5)`` over n values is the mean of the two middle ones).
* **Kept by a trigger** on ``leads_lead`` (insert, update, delete; statement level with the
  transition tables): each old row's contribution to every period holding one of its dates is
  subtracted and each new row's added, in the writer's transaction; an update subtracts and
  adds only the rows whose unit, status or dates changed (a visit's activity stamp touches
  none). ``INSERT … ON CONFLICT DO UPDATE`` adds, so concurrent writers add up.
* **Read** by :func:`funnel_from_summary` when the period is exactly a calendar month, quarter
  or year, or a year to date no lead has a date after (one index probe, in the same statement:
  a lead dated in the year's remaining days would count in the year and not in the year to
  date); anything else (a custom range, a past year to date, a narrowed cockpit, a viewer who
  does not see every lead of the units) is computed from the leads as before.
* **Reconciled** with the cockpit's other summaries (:func:`promo.dashboard.summary.compare`
  and ``rebuild``): the periods that overlap the days checked are recomputed from the leads and
  compared; a difference is an alert to the administrators, then corrected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection

from leads.choices import LeadStatus
from leads.filters import CLOSED_STATUSES, FUNNEL_STAGES
from officers.models import Unit

from . import summary_sets
from .forms import PeriodKind, period_for
from .funnel import STEPS, TOTAL, empty_figures

FUNNEL_TABLE = "dashboard_funnelperiodfigure"
KINDS: tuple[str, ...] = ("month", "quarter", "year")
_LENGTH = {"month": "1 month", "quarter": "3 months", "year": "1 year"}

# A lead's dates as SQL over a row ``l`` (信息: the day it was registered, in the bureau's zone).
_REGISTERED = f"(l.created_at AT TIME ZONE '{settings.TIME_ZONE}')::date"
_ON: dict[str, str] = {
    LeadStatus.INFORMATION: _REGISTERED,
    LeadStatus.VALID: "l.qualified_on",
    LeadStatus.NEGOTIATING: "l.negotiating_on",
    LeadStatus.SIGNED: "l.signed_on",
}
# The columns an update must change for a lead's contribution to change.
_COUNTED_COLUMNS = (
    "unit_id",
    "status",
    "created_at",
    "qualified_on",
    "negotiating_on",
    "signed_on",
    "closed_on",
)
# The latest of a lead's dates (the index ``leads_lead_funnel_latest_day`` is on it): a year to
# date is read from its year when no lead has a date after the period's end.
LATEST_DAY = (
    "GREATEST(qualified_on, negotiating_on, signed_on, closed_on, "
    f"(created_at AT TIME ZONE '{settings.TIME_ZONE}')::date)"
)


def _in(day: str) -> str:
    return f"({day} BETWEEN p.first AND p.last)"


def _figures() -> str:
    """``VALUES (figure, days, hit)`` of one lead ``l`` in one period ``p``."""
    rows = []
    for i, stage in enumerate(FUNNEL_STAGES):
        reached = " OR ".join(_in(_ON[later]) for later in FUNNEL_STAGES[i:])
        rows.append(f"('{stage}', 0, {reached})")
    for status in CLOSED_STATUSES:
        rows.append(f"('{status}', 0, l.status = '{status}' AND {_in('l.closed_on')})")
    for earlier, later in STEPS:
        a, b = _ON[earlier], _ON[later]
        rows.append(f"('days_{later}', {b} - {a}, {_in(b)} AND {a} IS NOT NULL AND {b} >= {a})")
    return "VALUES " + ", ".join(rows)


def contributions(source: str, sign: int, where: str = "TRUE") -> str:
    """SELECT of ``(unit_id, kind, start, figure, days, n)``: what each lead of ``source`` (the
    table, a transition table or a subquery) counts in every calendar period holding one of
    its dates, times ``sign``; ``where`` on the period (``p.kind``, ``p.start``)."""
    dates = ", ".join(
        [
            *(_ON[stage] for stage in FUNNEL_STAGES),
            f"CASE WHEN l.status IN "
            f"({', '.join(repr(str(s)) for s in CLOSED_STATUSES)}) THEN l.closed_on END",
        ]
    )
    kinds = ", ".join(f"('{kind}', interval '{_LENGTH[kind]}')" for kind in KINDS)
    return f"""
        SELECT l.unit_id, p.kind, p.start, f.figure, f.days, {sign} AS n
        FROM {source} AS l
        CROSS JOIN LATERAL (
            SELECT k.kind, k.start, k.start AS first, (k.start + k.length - interval '1 day')::date AS last
            FROM (
                SELECT DISTINCT k.kind, k.length,
                       date_trunc(k.kind, d.day::timestamp)::date AS start
                FROM unnest(ARRAY[{dates}]) AS d(day)
                CROSS JOIN (VALUES {kinds}) AS k(kind, length)
                WHERE d.day IS NOT NULL
            ) AS k
        ) AS p
        CROSS JOIN LATERAL ({_figures()}) AS f(figure, days, hit)
        WHERE f.hit AND l.unit_id IS NOT NULL AND ({where})
    """


def _apply(deltas: str) -> str:
    return f"""
        INSERT INTO {FUNNEL_TABLE} AS s (unit_id, kind, start, figure, days, count)
        SELECT unit_id, kind, start, figure, days, SUM(n) FROM ({deltas}) AS d
        GROUP BY unit_id, kind, start, figure, days
        HAVING SUM(n) <> 0
        ORDER BY kind, start, unit_id, figure, days
        ON CONFLICT (kind, start, unit_id, figure, days) DO UPDATE
        SET count = s.count + EXCLUDED.count;
    """


def _changed(rows: str, others: str) -> str:
    """The rows of ``rows`` with no row of ``others`` equal in every counted column."""
    same = " AND ".join(f"o.{c} IS NOT DISTINCT FROM r.{c}" for c in _COUNTED_COLUMNS)
    return f"(SELECT r.* FROM {rows} AS r WHERE NOT EXISTS (SELECT 1 FROM {others} AS o WHERE o.id = r.id AND {same}))"


def trigger_sql() -> tuple[str, str]:
    """(install, remove): the statement triggers on ``leads_lead`` keeping the table."""
    return summary_sets.statement_triggers(
        "dashboard_funnel_leads_lead",
        "leads_lead",
        {
            "INSERT": _apply(contributions("new_rows", 1)),
            "UPDATE": _apply(
                contributions(_changed("old_rows", "new_rows"), -1)
                + " UNION ALL "
                + contributions(_changed("new_rows", "old_rows"), 1)
            ),
            "DELETE": _apply(contributions("old_rows", -1)),
        },
    )


# --- Periods ----------------------------------------------------------------------------


def calendar_period(start: date, end: date) -> tuple[str, date, bool] | None:
    """``(kind, start, to_date)`` when ``[start, end]`` is a calendar month, quarter or year —
    or, ``to_date`` True, the first part of a year (a year to date), which is its year when no
    lead has a date after ``end``; None for any other range. The month and the quarter are the
    cockpit's own (:func:`.forms.period_for`)."""
    if start.day != 1 or end < start:
        return None
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        period = period_for(kind, start)
        if (period.start, period.end) == (start, end):
            return (kind, start, False)
    if start.month == 1 and end.year == start.year:
        return ("year", start, end != date(start.year, 12, 31))
    return None


def may_read(start: date, end: date, today: date) -> bool:
    """Whether the funnel of ``[start, end]`` may come from the summary: a calendar period,
    or a year to date ending today or later. A year to date that ended before today has, but
    in an empty bureau, some lead dated in the rest of its year, so it is computed from the
    leads without asking (the cockpit also starts it first among its reads)."""
    period = calendar_period(start, end)
    return period is not None and not (period[2] and end < today)


def _periods_over(start: date, end: date) -> list[tuple[str, date]]:
    """Every calendar period (kind, start) that shares a day with ``[start, end]``."""
    found: list[tuple[str, date]] = []
    for kind in KINDS:
        months = {"month": 1, "quarter": 3, "year": 12}[kind]
        first_month = (start.month - 1) // months * months + 1
        at = date(start.year, first_month, 1)
        while at <= end:
            found.append((kind, at))
            month = at.month - 1 + months
            at = date(at.year + month // 12, month % 12 + 1, 1)
    return found


def _periods_where(periods: Sequence[tuple[str, date]]) -> tuple[str, list[Any]]:
    if not periods:
        return "FALSE", []
    return (
        "(p.kind, p.start) IN (" + ", ".join("(%s, %s)" for _ in periods) + ")",
        [v for period in periods for v in period],
    )


# --- Reading ----------------------------------------------------------------------------


def funnel_from_summary(
    start: date,
    end: date,
    units: Sequence[Unit],
    own: Sequence[Unit],
    total_unit: Unit | None,
) -> dict[int | None, dict[str, Any]] | None:
    """What :func:`.funnel.funnel_counts` gives for every lead of ``total_unit``'s sub-tree (or
    of the bureau), read from the summary in one statement; None when ``[start, end]`` is no
    period it keeps (the caller computes from the leads)."""
    period = calendar_period(start, end)
    if period is None:
        return None
    kind, first, to_date = period
    buckets, params = summary_sets.unit_buckets(units, own, total_unit)
    # A year to date: a sentinel row when some lead is dated after its end.
    late = (
        f"UNION ALL SELECT NULL, '!late', 0, 0 WHERE EXISTS "
        f"(SELECT 1 FROM leads_lead WHERE {LATEST_DAY} > %s)"
        if to_date
        else ""
    )
    sql = f"""
        WITH b AS ({buckets})
        SELECT COALESCE(b.bucket, 0), f.figure, f.days, SUM(f.count)::int
        FROM {FUNNEL_TABLE} AS f JOIN b ON b.id = f.unit_id
        WHERE f.kind = %s AND f.start = %s
        GROUP BY 1, 2, 3
        {late}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, kind, first, *([end] if to_date else [])])
        rows = cursor.fetchall()
    if any(figure == "!late" for _b, figure, _d, _n in rows):
        return None
    counts: dict[int, dict[str, int]] = {}
    histograms: dict[int, dict[str, dict[int, int]]] = {}
    for bucket, figure, days, n in rows:
        if not n:
            continue
        if figure.startswith("days_"):
            histogram = histograms.setdefault(bucket, {}).setdefault(figure, {})
            histogram[days] = histogram.get(days, 0) + n
        else:
            counts.setdefault(bucket, {})[figure] = n
    result: dict[int | None, dict[str, Any]] = {}
    whole_counts: dict[str, int] = {}
    whole_histograms: dict[str, dict[int, int]] = {}
    for bucket in sorted(counts.keys() | histograms.keys()):
        of_counts = counts.get(bucket, {})
        of_histograms = histograms.get(bucket, {})
        for figure, n in of_counts.items():
            whole_counts[figure] = whole_counts.get(figure, 0) + n
        for figure, histogram in of_histograms.items():
            into = whole_histograms.setdefault(figure, {})
            for days, n in histogram.items():
                into[days] = into.get(days, 0) + n
        if any(of_counts.values()):  # the raw query's buckets are those where a lead moved
            result[bucket] = _figures_of(of_counts, of_histograms, empty_figures())
    result[TOTAL] = _figures_of(whole_counts, whole_histograms, empty_figures())
    return result


def _figures_of(
    counts: dict[str, int], histograms: dict[str, dict[int, int]], figures: dict[str, Any]
) -> dict[str, Any]:
    for figure, n in counts.items():
        figures[figure] = n
    for _earlier, later in STEPS:
        histogram = histograms.get(f"days_{later}", {})
        n = sum(histogram.values())
        figures[f"days_{later}"] = median(histogram) if n else None
        figures[f"days_{later}_n"] = n
    return figures


def median(histogram: dict[int, int]) -> float:
    """The median of the values ``{value: how many}`` as ``PERCENTILE_CONT(0.5)`` computes it
    (the mean of the two middle values of an even count)."""
    n = sum(histogram.values())
    low, high = (n - 1) // 2, n // 2
    seen, found = 0, {}
    for value in sorted(histogram):
        count = histogram[value]
        for position in (low, high):
            if seen <= position < seen + count:
                found[position] = value
        seen += count
        if high in found:
            break
    return (found[low] + found[high]) / 2


# --- Rebuilding and comparing -----------------------------------------------------------


def _expected(periods: Sequence[tuple[str, date]] | None) -> tuple[str, list[Any]]:
    """SELECT of ``(unit_id, kind, start, figure, days, count)`` from the leads, for
    ``periods`` (None: every period)."""
    where, params = ("TRUE", []) if periods is None else _periods_where(periods)
    sql = (
        f"SELECT unit_id, kind, start, figure, days, SUM(n)::int AS count "
        f"FROM ({contributions('leads_lead', 1, where)}) AS d "
        f"GROUP BY unit_id, kind, start, figure, days"
    )
    return sql, params


def _scope(start: date | None, end: date | None) -> list[tuple[str, date]] | None:
    return None if start is None or end is None else _periods_over(start, end)


def rebuild(cursor: Any, start: date | None = None, end: date | None = None) -> int:
    """Recompute the periods sharing a day with ``[start, end]`` (all of them: None) from the
    leads; returns the rows written. The caller holds the summaries' lock."""
    periods = _scope(start, end)
    if periods is None:
        cursor.execute(f"DELETE FROM {FUNNEL_TABLE}")
    else:
        where, params = _periods_where(periods)
        cursor.execute(f"DELETE FROM {FUNNEL_TABLE} AS p WHERE {where}", params)
    expected, params = _expected(periods)
    cursor.execute(
        f"INSERT INTO {FUNNEL_TABLE} (unit_id, kind, start, figure, days, count) "
        f"SELECT unit_id, kind, start, figure, days, count FROM ({expected}) AS e "
        f"WHERE count <> 0",
        params,
    )
    return cursor.rowcount


def compare(cursor: Any, start: date, end: date) -> list[tuple]:
    """``(unit_id, period start, 'funnel <kind> <figure> <days>', stored, 0, raw, 0)`` for every
    key of the periods sharing a day with ``[start, end]`` where the summary differs from the
    leads (a missing row is zero)."""
    periods = _periods_over(start, end)
    where, params = _periods_where(periods)
    expected, expected_params = _expected(periods)
    cursor.execute(
        f"""
        SELECT COALESCE(s.unit_id, e.unit_id), COALESCE(s.start, e.start),
               'funnel ' || COALESCE(s.kind, e.kind) || ' ' || COALESCE(s.figure, e.figure)
                   || ' ' || COALESCE(s.days, e.days),
               COALESCE(s.count, 0), 0, COALESCE(e.count, 0), 0
        FROM (SELECT * FROM {FUNNEL_TABLE} AS p WHERE {where}) AS s
        FULL OUTER JOIN ({expected}) AS e
          ON s.unit_id = e.unit_id AND s.kind = e.kind AND s.start = e.start
         AND s.figure = e.figure AND s.days = e.days
        WHERE COALESCE(s.count, 0) <> COALESCE(e.count, 0)
        ORDER BY 2, 1, 3
        """,
        [*params, *expected_params],
    )
    return cursor.fetchall()
