"""What a page's SQL reads: rows taken from a table, from PostgreSQL's own EXPLAIN ANALYZE.

The performance findings of issue #19 were queries that read a whole table to show a few rows
(a row number over every project for a 120-row board; every due visit of the bureau to keep
an officer's 20). A test database is far too small for timings to tell; the rows a plan reads
do. Sequential scans are priced out (``enable_seqscan = off``) so the planner takes an index
wherever one can answer: what is still read then is what the query itself needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def captured_sql(action: Callable[[], Any]) -> list[str]:
    """The SQL statements ``action`` sent, as executed."""
    with CaptureQueriesContext(connection) as captured:
        action()
    return [query["sql"] for query in captured.captured_queries]


def rows_read(
    sql: str, table: str, *, ordered: bool = False, within: str = "", counts: bool = True
) -> int:
    """Rows of ``table`` that the plan of ``sql`` reads (kept or filtered out), all loops;
    with ``within``, only in the parts of the plan whose sub-plan name starts with it (say
    ``"InitPlan"``: what the statement read before its main part).

    ``ordered``: also without bitmap scans and sorts, so a top-N query (ORDER BY … LIMIT n)
    is planned as it is on a large table — reading an index in the query's order — rather
    than as a tiny test table makes cheapest (read everything, sort, keep n), which the
    planner picks or not from one run to the next.

    ``counts=False``: without the sub-plans that count (an aggregate at their top), the
    figures a statement reads beside its rows (``promo.core.expressions.CountsOf``)."""
    switches = ["enable_seqscan"]
    if ordered:
        switches += ["enable_bitmapscan", "enable_sort", "enable_incremental_sort"]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the statistics a deployment has (autovacuum keeps them)
        for switch in switches:
            cursor.execute(f"SET {switch} = off")
        try:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
        finally:
            for switch in switches:
                cursor.execute(f"RESET {switch}")

    def walk(node: dict[str, Any], counted: bool) -> int:
        if not counts and "Subplan Name" in node and node.get("Node Type") == "Aggregate":
            return 0
        counted = counted or node.get("Subplan Name", "").startswith(within)
        loops = node.get("Actual Loops", 1)
        own = 0
        if counted and node.get("Relation Name") == table:
            read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
            own = round((read + node.get("Rows Removed by Index Recheck", 0)) * loops)
        return own + sum(walk(child, counted) for child in node.get("Plans", []))

    return walk(plan[0]["Plan"], not within)
