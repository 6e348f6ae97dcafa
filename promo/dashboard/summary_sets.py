"""The cockpit's summaries of its two non-additive figures (issue 17, the cold cockpit):
the distinct visiting investors (来区客商) and the arrived FDI (到账外资).

Rules, decided here once (docs/decisions/0018-visitor-and-fdi-summaries.md), the same
counting as :func:`promo.reports.selectors.period_figures`, which stays their definition:

* **Visiting investors.** ``dashboard_visitorday (day, unit, investor, visits)``: how many
  receptions and inspections a unit logged of an investor on a day. A distinct count cannot
  be summed across days, so the summary keeps the investors: a period's figure is the number
  of distinct investors of its days' rows in the row's sub-tree. Kept like the daily
  summary by a statement trigger on ``leads_visit`` adding +1 per new row and −1 per old row
  (``INSERT … ON CONFLICT DO UPDATE``: two writers of the same key add up, never overwrite),
  rows dropping to zero deleted. A visit moved between units, days or investors, or changed
  to another kind, moves its count. A period of more than 31 days reads, instead of the
  days, ``dashboard_visitoryear (year, unit, investor, days)``: each year's days of those
  rows as a ``bit(366)`` set, kept by statement triggers on the day rows (a new day row sets
  its bit, a deleted one clears it: a day row is unique, so its bit is its own) and tested
  against the period's days as a mask (decision 0024).
* **Arrived FDI.** ``dashboard_projectfdimonth (project, month, unit, growth)``: each
  monthly progress report's cumulative arrived FDI minus the one reported before it (none:
  0). The growth over ``[start, end]`` — the latest cumulative reported on or before ``end``
  minus the latest before ``start`` — is the sum of the rows of the months from ``start``
  to ``end`` (they telescope). A report changes its month's growth and the next report's,
  so the trigger on ``projects_investmentprogress`` recomputes the touched projects' rows
  from their reports, after locking those projects (``FOR NO KEY UPDATE``, in id order): a
  second writer of the same project waits and then reads the first one's reports. A
  trigger on ``projects_project`` moves the rows with a project moved to another unit.
  What the cockpit reads is their sum per unit and month, ``dashboard_unitfdimonth`` (a
  province's 240,000 project-month rows are 660 unit-month rows), kept by a statement trigger
  on ``dashboard_projectfdimonth`` that adds the new rows' growth and subtracts the old
  rows', like the visitors' counts (decision 0023).
* **Reading.** The distinct visitors in one query for the rows and the total together
  (GROUPING SETS): each unit of the scope is put in its row's bucket once, in a small CTE
  over the units, instead of testing every visit's unit path against every row. The arrived
  FDI is additive: the cockpit reads it with the daily summary's figures, grouped by unit
  and folded into rows (:func:`promo.dashboard.summary.cockpit_figures_over`, decision 0021).
* **Reconciled** with the daily summary (``promo.dashboard.summary.compare``/``rebuild``),
  by the same nightly task and ``rebuild_cockpit_summary``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection

from leads.choices import VISITING_KINDS
from officers.models import Unit

from .models import YEAR_BITS

VISITOR_TABLE = "dashboard_visitorday"
VISITOR_YEAR_TABLE = "dashboard_visitoryear"
FDI_TABLE = "dashboard_projectfdimonth"
UNIT_FDI_TABLE = "dashboard_unitfdimonth"
LATEST_REPORT_TABLE = "dashboard_projectlatestreport"
_KINDS = ", ".join(f"'{kind}'" for kind in VISITING_KINDS)

# --- Triggers ---------------------------------------------------------------------------


def _visit_deltas(sources: Sequence[tuple[str, int]]) -> str:
    parts = [
        f"SELECT unit_id, investor_id, visited_on AS day, {sign} AS n FROM {source} "
        f"WHERE kind IN ({_KINDS})"
        for source, sign in sources
    ]
    return "\nUNION ALL\n".join(parts)


def _visit_apply(sources: Sequence[tuple[str, int]]) -> str:
    deltas = _visit_deltas(sources)
    sql = f"""
        INSERT INTO {VISITOR_TABLE} AS s (unit_id, investor_id, day, visits)
        SELECT unit_id, investor_id, day, SUM(n) FROM ({deltas}) AS d
        GROUP BY unit_id, investor_id, day
        HAVING SUM(n) <> 0
        ORDER BY day, unit_id, investor_id
        ON CONFLICT (day, unit_id, investor_id) DO UPDATE SET visits = s.visits + EXCLUDED.visits;
    """
    if any(sign < 0 for _, sign in sources):
        sql += f"""
        DELETE FROM {VISITOR_TABLE} AS s USING (
            SELECT DISTINCT unit_id, investor_id, visited_on FROM old_rows
        ) AS o
        WHERE s.visits = 0 AND s.day = o.visited_on AND s.unit_id = o.unit_id
          AND s.investor_id = o.investor_id;
        """
    return sql


def _fdi_growth_sql(where: str) -> str:
    """SELECT of ``(project_id, unit_id, month, growth)`` from the progress reports ``where``
    (a condition on a report's ``project_id``) selects: each project's all or none."""
    return f"""
        SELECT g.project_id, p.unit_id, g.month, g.growth FROM (
            SELECT project_id, month,
                   arrived_fdi - COALESCE(
                       LAG(arrived_fdi) OVER (PARTITION BY project_id ORDER BY month), 0
                   ) AS growth
            FROM projects_investmentprogress WHERE {where}
        ) AS g JOIN projects_project AS p ON p.id = g.project_id
    """


def _fdi_recompute(sources: Sequence[str]) -> str:
    touched = " UNION ".join(f"SELECT project_id FROM {source}" for source in sources)
    return f"""
        PERFORM 1 FROM projects_project WHERE id IN ({touched}) ORDER BY id FOR NO KEY UPDATE;
        DELETE FROM {FDI_TABLE} WHERE project_id IN ({touched});
        INSERT INTO {FDI_TABLE} (project_id, unit_id, month, growth)
        {_fdi_growth_sql(f"project_id IN ({touched})")};
    """


def statement_triggers(function: str, table: str, bodies: dict[str, str]) -> tuple[str, str]:
    """(install, remove) of one function with a statement trigger per operation in ``bodies``."""
    branches = []
    for i, (op, body) in enumerate(bodies.items()):
        branches.append(f"{'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN {body}")
    referencing = {
        "INSERT": "REFERENCING NEW TABLE AS new_rows",
        "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "REFERENCING OLD TABLE AS old_rows",
    }
    triggers = "\n".join(
        f"CREATE TRIGGER {function}_{op[:3].lower()} AFTER {op} ON {table} "
        f"{referencing[op]} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        for op in bodies
    )
    install = f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            {" ".join(branches)}
            END IF;
            RETURN NULL;
        END;
        $body$;
        {triggers}
    """
    drops = "\n".join(
        f"DROP TRIGGER IF EXISTS {function}_{op[:3].lower()} ON {table};" for op in bodies
    )
    remove = f"{drops}\nDROP FUNCTION IF EXISTS {function}();"
    return install, remove


def trigger_sql() -> tuple[str, str]:
    """(install, remove): the triggers keeping the visitor and FDI summaries."""
    parts = [
        statement_triggers(
            "dashboard_visitors_leads_visit",
            "leads_visit",
            {
                "INSERT": _visit_apply([("new_rows", 1)]),
                "UPDATE": _visit_apply([("old_rows", -1), ("new_rows", 1)]),
                "DELETE": _visit_apply([("old_rows", -1)]),
            },
        ),
        statement_triggers(
            "dashboard_fdi_progress",
            "projects_investmentprogress",
            {
                "INSERT": _fdi_recompute(["new_rows"]),
                "UPDATE": _fdi_recompute(["old_rows", "new_rows"]),
                "DELETE": _fdi_recompute(["old_rows"]),
            },
        ),
        statement_triggers(
            "dashboard_fdi_project_unit",
            "projects_project",
            {
                "UPDATE": f"""
                    UPDATE {FDI_TABLE} AS f SET unit_id = n.unit_id
                    FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
                    WHERE f.project_id = n.id AND n.unit_id IS DISTINCT FROM o.unit_id;
                """
            },
        ),
    ]
    return "\n".join(p[0] for p in parts), "\n".join(p[1] for p in parts)


def _unit_fdi_apply(sources: Sequence[tuple[str, int]]) -> str:
    """Add (sign 1) or subtract (sign -1) the growth of the project-month rows of ``sources``
    to their unit's month; a unit-month left with no project rows is deleted."""
    deltas = "\nUNION ALL\n".join(
        f"SELECT unit_id, month, {sign} * growth AS growth, {sign} AS n FROM {source}"
        for source, sign in sources
    )
    sql = f"""
        INSERT INTO {UNIT_FDI_TABLE} AS s (unit_id, month, growth, projects)
        SELECT unit_id, month, SUM(growth), SUM(n) FROM ({deltas}) AS d
        GROUP BY unit_id, month
        HAVING SUM(n) <> 0 OR SUM(growth) <> 0
        ORDER BY month, unit_id
        ON CONFLICT (month, unit_id) DO UPDATE
        SET growth = s.growth + EXCLUDED.growth, projects = s.projects + EXCLUDED.projects;
    """
    if any(sign < 0 for _, sign in sources):
        sql += f"""
        DELETE FROM {UNIT_FDI_TABLE} AS s USING (
            SELECT DISTINCT unit_id, month FROM old_rows
        ) AS o
        WHERE s.projects = 0 AND s.month = o.month AND s.unit_id = o.unit_id;
        """
    return sql


_NO_DAYS = f"B'0'::bit({YEAR_BITS})"


def _year_days_sql(source: str, where: str = "TRUE") -> str:
    """SELECT of ``(unit_id, investor_id, year, days)``: the day rows of ``source`` (those
    ``where`` keeps) as their years' sets of days, one bit per day."""
    return f"""
        SELECT unit_id, investor_id, extract(year FROM day)::int AS year,
               bit_or(set_bit({_NO_DAYS}, extract(doy FROM day)::int - 1, 1)) AS days
        FROM {source} WHERE {where}
        GROUP BY unit_id, investor_id, extract(year FROM day)
    """


def _year_days_set(source: str, where: str = "TRUE") -> str:
    return f"""
        INSERT INTO {VISITOR_YEAR_TABLE} AS y (unit_id, investor_id, year, days)
        SELECT * FROM ({_year_days_sql(source, where)}) AS d
        ORDER BY year, unit_id, investor_id
        ON CONFLICT (year, unit_id, investor_id) DO UPDATE SET days = y.days | EXCLUDED.days;
    """


def _year_days_clear(source: str, where: str = "TRUE") -> str:
    """Clear the days of ``source``'s rows (each day row is unique, so its bit is its own);
    a year left with no day is deleted. The rows are locked in key order first, as the
    inserts take them."""
    bits = _year_days_sql(source, where)
    keys = "y.year = d.year AND y.unit_id = d.unit_id AND y.investor_id = d.investor_id"
    return f"""
        PERFORM 1 FROM {VISITOR_YEAR_TABLE} AS y JOIN ({bits}) AS d ON {keys}
        ORDER BY y.year, y.unit_id, y.investor_id FOR NO KEY UPDATE OF y;
        UPDATE {VISITOR_YEAR_TABLE} AS y SET days = y.days & ~d.days FROM ({bits}) AS d
        WHERE {keys};
        DELETE FROM {VISITOR_YEAR_TABLE} AS y USING ({bits}) AS d
        WHERE {keys} AND y.days = {_NO_DAYS};
    """


def visitor_year_trigger_sql() -> tuple[str, str]:
    """(install, remove): the triggers on the visitor day rows keeping their years' sets of
    days (dashboard migration 0008). A day row's count changing moves no day; a day row
    whose unit, investor or day is changed (only by hand) moves its bit."""
    moved = (
        "id IN (SELECT o.id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id "
        "WHERE (o.unit_id, o.investor_id, o.day) IS DISTINCT FROM "
        "(n.unit_id, n.investor_id, n.day))"
    )
    return statement_triggers(
        "dashboard_visitor_years",
        VISITOR_TABLE,
        {
            "INSERT": _year_days_set("new_rows"),
            "UPDATE": _year_days_clear("old_rows", moved) + _year_days_set("new_rows", moved),
            "DELETE": _year_days_clear("old_rows"),
        },
    )


def unit_fdi_trigger_sql() -> tuple[str, str]:
    """(install, remove): the trigger keeping the unit-month FDI sums (dashboard migration
    0006; the project-month table's own triggers are :func:`trigger_sql`'s, of 0004)."""
    return statement_triggers(
        "dashboard_unit_fdi",
        FDI_TABLE,
        {
            "INSERT": _unit_fdi_apply([("new_rows", 1)]),
            "UPDATE": _unit_fdi_apply([("old_rows", -1), ("new_rows", 1)]),
            "DELETE": _unit_fdi_apply([("old_rows", -1)]),
        },
    )


def _latest_report_recompute(sources: Sequence[str]) -> str:
    """The touched projects' latest report months recomputed from their reports, after
    locking the projects as the FDI trigger does (a second writer of the same project waits,
    then reads the first one's reports); a project left with no report loses its row."""
    touched = " UNION ".join(f"SELECT project_id FROM {source}" for source in sources)
    return f"""
        PERFORM 1 FROM projects_project WHERE id IN ({touched}) ORDER BY id FOR NO KEY UPDATE;
        DELETE FROM {LATEST_REPORT_TABLE} WHERE project_id IN ({touched})
          AND NOT EXISTS (SELECT 1 FROM projects_investmentprogress AS r
                          WHERE r.project_id = {LATEST_REPORT_TABLE}.project_id);
        INSERT INTO {LATEST_REPORT_TABLE} AS l (project_id, month, first_month)
        {_latest_report_sql(f"project_id IN ({touched})")}
        ON CONFLICT (project_id) DO UPDATE
        SET month = EXCLUDED.month, first_month = EXCLUDED.first_month
        WHERE (l.month, l.first_month) IS DISTINCT FROM (EXCLUDED.month, EXCLUDED.first_month);
    """


def _latest_report_sql(where: str = "TRUE") -> str:
    """SELECT of ``(project_id, month, first_month)``: each project's latest and earliest
    report months, of the reports ``where`` keeps."""
    return (
        f"SELECT project_id, MAX(month) AS month, MIN(month) AS first_month "
        f"FROM projects_investmentprogress "
        f"WHERE {where} GROUP BY project_id ORDER BY project_id"
    )


def latest_report_trigger_sql() -> tuple[str, str]:
    """(install, remove): the trigger keeping each project's latest report month
    (dashboard migration 0009)."""
    return statement_triggers(
        "dashboard_latest_report",
        "projects_investmentprogress",
        {
            "INSERT": _latest_report_recompute(["new_rows"]),
            "UPDATE": _latest_report_recompute(["old_rows", "new_rows"]),
            "DELETE": _latest_report_recompute(["old_rows"]),
        },
    )


# --- Recomputation from the raw rows (rebuild, compare) ---------------------------------


def visitors_expected_sql() -> str:
    """SELECT of ``(unit_id, investor_id, day, visits)`` from the visits, days ``%s``–``%s``."""
    return (
        f"SELECT unit_id, investor_id, visited_on AS day, COUNT(*)::int AS visits "
        f"FROM leads_visit WHERE kind IN ({_KINDS}) AND visited_on BETWEEN %s AND %s "
        f"GROUP BY unit_id, investor_id, visited_on"
    )


def fdi_expected_sql() -> str:
    """SELECT of ``(project_id, unit_id, month, growth)`` from the reports, months ``%s``–``%s``."""
    return f"SELECT * FROM ({_fdi_growth_sql('TRUE')}) AS e WHERE month BETWEEN %s AND %s"


def replace_range(
    cursor: Any,
    table: str,
    columns: str,
    key: str,
    bounds: Sequence[Any],
    select: str,
    params: Sequence[Any],
) -> int:
    """Delete ``table``'s rows whose ``key`` lies within ``bounds`` and insert into
    ``columns`` what ``select`` recomputes for them; the rows written. Every summary's
    rebuild is this (the caller holding the lock)."""
    cursor.execute(f"DELETE FROM {table} WHERE {key} BETWEEN %s AND %s", list(bounds))
    cursor.execute(f"INSERT INTO {table} ({columns}) {select}", list(params))
    return cursor.rowcount


def rebuild(cursor: Any, start: date, end: date) -> int:
    """Recompute both summaries for ``[start, end]`` (the caller holds the lock)."""
    written = replace_range(
        cursor,
        VISITOR_TABLE,
        "unit_id, investor_id, day, visits",
        "day",
        [start, end],
        visitors_expected_sql(),
        [start, end],
    )
    return written + replace_range(
        cursor,
        FDI_TABLE,
        "project_id, unit_id, month, growth",
        "month",
        [start, end],
        fdi_expected_sql(),
        [start, end],
    )


def _years(start: date, end: date) -> tuple[date, date]:
    """The first day of ``start``'s year and the last of ``end``'s."""
    return date(start.year, 1, 1), date(end.year, 12, 31)


def rebuild_visitor_years(cursor: Any, start: date, end: date) -> int:
    """Recompute the visitors' sets of days of the years touching ``[start, end]`` from the
    day rows (after :func:`rebuild`, the caller holding the lock)."""
    first, last = _years(start, end)
    return replace_range(
        cursor,
        VISITOR_YEAR_TABLE,
        "unit_id, investor_id, year, days",
        "year",
        [first.year, last.year],
        _year_days_sql(VISITOR_TABLE, "day BETWEEN %s AND %s"),
        [first, last],
    )


def compare_visitor_years(cursor: Any, start: date, end: date) -> list[tuple]:
    """As :func:`compare`, the visitors' sets of days, within ``[start, end]``, against the
    day rows of ``[start, end]``, the figure naming the investor (``visitor_year:<investor>``,
    the day the year's 1 January, the counts the days of the period in each)."""
    if start > end:
        return []
    days, params = _period_days("y.year", start, end)
    none = _NO_DAYS
    cursor.execute(
        f"""
        SELECT COALESCE(s.unit_id, e.unit_id), make_date(COALESCE(s.year, e.year), 1, 1),
               'visitor_year:' || COALESCE(s.investor_id, e.investor_id),
               bit_count(COALESCE(s.days, {none}))::int, 0,
               bit_count(COALESCE(e.days, {none}))::int, 0
        FROM (
            SELECT y.unit_id, y.investor_id, y.year, y.days & {days} AS days
            FROM {VISITOR_YEAR_TABLE} AS y WHERE y.year BETWEEN %s AND %s
        ) AS s
        FULL OUTER JOIN ({_year_days_sql(VISITOR_TABLE, "day BETWEEN %s AND %s")}) AS e
          ON s.unit_id = e.unit_id AND s.investor_id = e.investor_id AND s.year = e.year
        WHERE COALESCE(s.days, {none}) <> COALESCE(e.days, {none})
        ORDER BY 2, 1, 3
        """,
        [*params, start.year, end.year, start, end],
    )
    return cursor.fetchall()


def _unit_fdi_expected_sql() -> str:
    """SELECT of ``(unit_id, month, growth, projects)`` from the project-month rows, months
    ``%s``–``%s``."""
    return (
        f"SELECT unit_id, month, SUM(growth) AS growth, COUNT(*)::int AS projects "
        f"FROM {FDI_TABLE} WHERE month BETWEEN %s AND %s GROUP BY unit_id, month"
    )


def rebuild_unit_fdi(cursor: Any, start: date, end: date) -> int:
    """Recompute the unit-month FDI sums of ``[start, end]`` from the project-month rows
    (after :func:`rebuild`, the caller holding the lock)."""
    return replace_range(
        cursor,
        UNIT_FDI_TABLE,
        "unit_id, month, growth, projects",
        "month",
        [start, end],
        _unit_fdi_expected_sql(),
        [start, end],
    )


def compare_unit_fdi(cursor: Any, start: date, end: date) -> list[tuple]:
    """As :func:`compare`, the unit-month FDI sums of ``[start, end]`` against the sums of
    the project-month rows, the figure naming the key (``arrived_fdi_unit:<unit>``)."""
    cursor.execute(
        f"""
        SELECT COALESCE(s.unit_id, e.unit_id), COALESCE(s.month, e.month),
               'arrived_fdi_unit:' || COALESCE(s.unit_id, e.unit_id),
               COALESCE(s.projects, 0), COALESCE(s.growth, 0),
               COALESCE(e.projects, 0), COALESCE(e.growth, 0)
        FROM (SELECT * FROM {UNIT_FDI_TABLE} WHERE month BETWEEN %s AND %s) AS s
        FULL OUTER JOIN ({_unit_fdi_expected_sql()}) AS e
          ON s.unit_id = e.unit_id AND s.month = e.month
        WHERE COALESCE(s.projects, 0) <> COALESCE(e.projects, 0)
           OR COALESCE(s.growth, 0) <> COALESCE(e.growth, 0)
        """,
        [start, end, start, end],
    )
    return cursor.fetchall()


def rebuild_latest_reports(cursor: Any) -> int:
    """Recompute every project's latest report month from the reports (the caller holding
    the lock). Not by period: a project's latest month moves whenever any of its reports
    does, so the whole table is rewritten (at province 42,000 rows from 240,000 reports)."""
    cursor.execute(f"DELETE FROM {LATEST_REPORT_TABLE}")
    cursor.execute(
        f"INSERT INTO {LATEST_REPORT_TABLE} (project_id, month, first_month) {_latest_report_sql()}"
    )
    return cursor.rowcount


def compare_latest_reports(cursor: Any) -> list[tuple]:
    """As :func:`compare`, every project's stored earliest and latest report months against
    its reports', whatever the period: the figure names the project and both sides
    (``latest_report:<project>:<first>..<latest>/<reports' first>..<reports' latest>``, ``-``
    for none), the day is the stored latest month (else the reports'), the counts 1 for a
    month and 0 for none."""
    cursor.execute(
        f"""
        SELECT p.unit_id, COALESCE(s.month, e.month),
               'latest_report:' || COALESCE(s.project_id, e.project_id)
                   || ':' || COALESCE(s.first_month || '..' || s.month, '-')
                   || '/' || COALESCE(e.first_month || '..' || e.month, '-'),
               (s.month IS NOT NULL)::int, 0, (e.month IS NOT NULL)::int, 0
        FROM {LATEST_REPORT_TABLE} AS s
        FULL OUTER JOIN ({_latest_report_sql()}) AS e ON s.project_id = e.project_id
        JOIN projects_project AS p ON p.id = COALESCE(s.project_id, e.project_id)
        WHERE (s.month, s.first_month) IS DISTINCT FROM (e.month, e.first_month)
        ORDER BY 3
        """
    )
    return cursor.fetchall()


def compare(cursor: Any, start: date, end: date) -> list[tuple]:
    """``(unit_id, day, figure, stored count, stored amount, raw count, raw amount)`` for
    every key of ``[start, end]`` where a summary differs from its raw recomputation; the
    figure names the key (``investors_visiting:<investor>``, ``arrived_fdi:<project>``)."""
    cursor.execute(
        f"""
        SELECT COALESCE(s.unit_id, e.unit_id), COALESCE(s.day, e.day),
               'investors_visiting:' || COALESCE(s.investor_id, e.investor_id),
               COALESCE(s.visits, 0), 0, COALESCE(e.visits, 0), 0
        FROM (SELECT * FROM {VISITOR_TABLE} WHERE day BETWEEN %s AND %s) AS s
        FULL OUTER JOIN ({visitors_expected_sql()}) AS e
          ON s.unit_id = e.unit_id AND s.day = e.day AND s.investor_id = e.investor_id
        WHERE COALESCE(s.visits, 0) <> COALESCE(e.visits, 0)
        UNION ALL
        SELECT COALESCE(s.unit_id, e.unit_id), COALESCE(s.month, e.month),
               'arrived_fdi:' || COALESCE(s.project_id, e.project_id)
                   || CASE WHEN s.unit_id IS DISTINCT FROM e.unit_id
                           AND s.unit_id IS NOT NULL AND e.unit_id IS NOT NULL
                      THEN ':unit ' || s.unit_id || '/' || e.unit_id ELSE '' END,
               0, COALESCE(s.growth, 0), 0, COALESCE(e.growth, 0)
        FROM (SELECT * FROM {FDI_TABLE} WHERE month BETWEEN %s AND %s) AS s
        FULL OUTER JOIN ({fdi_expected_sql()}) AS e
          ON s.project_id = e.project_id AND s.month = e.month
        WHERE s.project_id IS NULL OR e.project_id IS NULL
           OR s.growth <> e.growth OR s.unit_id <> e.unit_id
        """,
        [start, end, start, end, start, end, start, end],
    )
    return cursor.fetchall()


# --- The cockpit's reads ----------------------------------------------------------------


def unit_buckets(
    units: Sequence[Unit], own_units: Sequence[Unit], total_unit: Unit | None = None
) -> tuple[str, list[Any]]:
    """A CTE ``b (id, bucket)``: every unit of the total's scope (``total_unit``'s sub-tree,
    or every unit) with the row it counts in — its own id for an own unit, the sub-tree's
    unit for the others, NULL for none — decided once per unit, not once per record."""
    whens: list[str] = []
    params: list[Any] = []
    for u in own_units:
        whens.append("WHEN id = %s THEN %s")
        params += [u.pk, u.pk]
    for u in units:
        whens.append("WHEN path LIKE %s THEN %s")
        params += [f"{u.path}%", u.pk]
    bucket = f"CASE {' '.join(whens)} END" if whens else "NULL::bigint"
    sql = f"SELECT id, ({bucket})::bigint AS bucket FROM officers_unit"
    if total_unit is not None:
        sql += " WHERE path LIKE %s"
        params.append(f"{total_unit.path}%")
    return sql, params


def _grouped(sql: str, params: list[Any]) -> tuple[dict[int, Any], Any]:
    rows: dict[int, Any] = {}
    total: Any = None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for bucket, is_total, value in cursor.fetchall():
            if is_total:
                total = value
            elif bucket is not None:
                rows[bucket] = value
    return rows, total


def _period_days(year: str, start: date, end: date) -> tuple[str, list[Any]]:
    """SQL of the days of ``[start, end]`` in the year ``year`` (a column, of one of the
    period's years) as bits, as :class:`~promo.dashboard.models.VisitorYear` keeps them.
    Only the period's first and last years can be partial: their masks are computed here,
    a year between them is every day. A period within one year (a month, a quarter, a year
    to date: nearly every read) is one constant, which PostgreSQL tests without a
    per-row CASE (a year to date at province 85 → 60 ms)."""
    masks: dict[int, str] = {}
    for day in (start, end):
        first = (max(start, date(day.year, 1, 1)).timetuple().tm_yday) - 1
        last = min(end, date(day.year, 12, 31)).timetuple().tm_yday
        masks[day.year] = "0" * first + "1" * (last - first) + "0" * (YEAR_BITS - last)
    bits = f"%s::bit({YEAR_BITS})"
    if len(masks) == 1:
        return bits, [masks[start.year]]
    whens = " ".join(f"WHEN %s THEN {bits}" for _ in masks)
    return f"CASE {year} {whens} ELSE ~{_NO_DAYS} END", [v for item in masks.items() for v in item]


# A period of at most this many days reads the visitors' day rows, a longer one their years'
# sets of days: at province a month's day rows are a third of a year's sets (a month of the
# bureau 25 ms by day, 37 by year; its year to date 240 by day, 75 by year).
DAYS_READ_BY_DAY = 31


def visiting_investors(
    *,
    start: date,
    end: date,
    units: Sequence[Unit],
    own_units: Sequence[Unit],
    total_unit: Unit | None,
) -> tuple[dict[int, int], int]:
    """来区客商 of ``[start, end]``: distinct investors per row (bucket) and for the total's
    scope, in one query: a short period from the day rows, a longer one from the years' sets
    of days (a row counts when one of its days is one of the period's)."""
    if start > end:
        return {}, 0
    cte, params = unit_buckets(units, own_units, total_unit)
    if (end - start).days < DAYS_READ_BY_DAY:
        where_params: list[Any] = [start, end]
        source, where = VISITOR_TABLE, "v.day BETWEEN %s AND %s"
    else:
        days, days_params = _period_days("v.year", start, end)
        # Below the bureau, the scope's units as an array read once, so that one unit's
        # sub-tree is read through the (unit, year) index (joined to ``b`` alone PostgreSQL
        # scans every unit's year: one unit's year to date at province 31 → 9 ms); the
        # bureau reads its year.
        scope, scope_params = "TRUE", []
        if total_unit is not None and total_unit.parent_id is not None:
            scope = "v.unit_id = ANY(ARRAY(SELECT id FROM officers_unit WHERE path LIKE %s))"
            scope_params = [f"{total_unit.path}%"]
        source = VISITOR_YEAR_TABLE
        where = f"{scope} AND v.year BETWEEN %s AND %s AND v.days & {days} <> {_NO_DAYS}"
        where_params = [*scope_params, start.year, end.year, *days_params]
    rows, total = _grouped(
        f"""
        WITH b AS ({cte})
        SELECT b.bucket, GROUPING(b.bucket), COUNT(DISTINCT v.investor_id)
        FROM {source} AS v JOIN b ON b.id = v.unit_id
        WHERE {where}
        GROUP BY GROUPING SETS ((b.bucket), ())
        """,
        [*params, *where_params],
    )
    return {k: int(v) for k, v in rows.items()}, int(total or 0)
