"""The cockpit's lead funnel (信息漏斗) in one query: per unit and for the whole scope.

Definition (docs/domain.md, "The lead funnel"):

* A lead counts at a stage (信息 → 有效 → 在谈 → 签约) when, within the period, it entered
  that stage *or a later one* (``leads.filters.entered_q``): the stages' leads are nested, so
  the funnel never widens. A lead that skipped a stage (imported as signed, say) has passed it.
  The dates are the status dates ``lead_transition`` writes (信息: the day it was registered,
  Asia/Shanghai) — the dates the other cockpit figures and the lead list filter read.
* The conversion into a stage is its count over the previous stage's (None when that is 0).
* The median days from one stage to the next are over the leads that entered the next stage
  within the period and have the earlier stage's date on or before it (PERCENTILE_CONT(0.5)).
* 放弃 / 否决 are side counts: leads closed that way within the period.

The rows come from one statement: the leads that moved in the period, each with its unit's
bucket (its own unit among ``own``, else the listed unit whose sub-tree holds it, else 0),
aggregated ``GROUP BY GROUPING SETS ((bucket), ())`` so the scope's total medians come with
the units' (a median of the whole is no sum of the units' medians).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise
from typing import Any

from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate

from leads.choices import LeadStatus
from leads.filters import CLOSED_STATUSES, FUNNEL_STAGES, entered_q
from leads.models import Lead
from officers.models import Unit

from . import summary_sets

# The stage dates as columns of the inner query (信息's is the registration day).
_ENTERED_ON: dict[str, str] = {
    LeadStatus.INFORMATION: "entered_information_on",
    LeadStatus.VALID: "qualified_on",
    LeadStatus.NEGOTIATING: "negotiating_on",
    LeadStatus.SIGNED: "signed_on",
}
STEPS: tuple[tuple[str, str], ...] = tuple(pairwise(FUNNEL_STAGES))
COUNTED: tuple[str, ...] = (*FUNNEL_STAGES, *CLOSED_STATUSES)
TOTAL = None


class _DaysBetween(Func):
    """``later - earlier`` in days (PostgreSQL: date minus date is an integer)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


class _NotNegative(Func):
    """``value`` where it is 0 or more, else NULL (NULL stays NULL): ``value`` computed once
    (GREATEST ignores a NULL, so NULL gives -1, then NULL)."""

    template = "NULLIF(GREATEST(%(expressions)s, -1), -1)"
    output_field = IntegerField()


def _days(earlier: str, later: str, start: date, end: date) -> Case:
    """Days from ``earlier``'s date to ``later``'s, for a lead entering ``later`` in the
    period with ``earlier``'s date known and not after it; NULL otherwise.

    The later date's period is tested first and the difference computed once, so the
    registration day (a time zone conversion of each lead's timestamp) is computed once per
    lead that entered the later stage in the period, not three times per lead."""
    a, b = _ENTERED_ON[earlier], _ENTERED_ON[later]
    return Case(
        When(Q(**{f"{b}__gte": start, f"{b}__lte": end}), then=_NotNegative(_DaysBetween(b, a))),
        default=Value(None),
        output_field=IntegerField(),
    )


def _empty() -> dict[str, Any]:
    row: dict[str, Any] = {status: 0 for status in COUNTED}
    for _earlier, later in STEPS:
        row[f"days_{later}"] = None
        row[f"days_{later}_n"] = 0
    return row


def funnel_counts(
    leads: QuerySet[Lead],
    start: date,
    end: date,
    units: Sequence[Unit] = (),
    own: Sequence[Unit] = (),
) -> dict[int | None, dict[str, Any]]:
    """``{bucket: figures}`` and ``{None: figures}`` for all of ``leads``, in one query.

    Figures: the count of each stage and closed status (keyed by status) and, per step into
    a stage, ``days_<stage>`` (median days from the previous stage) and ``days_<stage>_n``
    (the leads it is taken over). Buckets with no lead moving in the period are absent.
    """
    moved = entered_q(LeadStatus.INFORMATION, start, end)
    for status in CLOSED_STATUSES:
        moved |= entered_q(status, start, end)
    inner = (
        leads.filter(moved)
        .annotate(entered_information_on=TruncDate("created_at"))
        .annotate(
            **{
                f"r_{status}": ExpressionWrapper(
                    entered_q(status, start, end), output_field=BooleanField()
                )
                for status in COUNTED
            },
            **{f"d_{later}": _days(earlier, later, start, end) for earlier, later in STEPS},
        )
        .order_by()
        .values("unit_id", *(f"r_{s}" for s in COUNTED), *(f"d_{later}" for _e, later in STEPS))
    )
    sql, params = inner.query.sql_with_params()
    # Each unit's bucket decided once per unit (a CTE over the units), joined to the leads,
    # not tested against every lead's unit path; a unit no row lists counts in bucket 0.
    buckets, bucket_params = summary_sets.unit_buckets(units, own)
    counts = ", ".join(f"COUNT(*) FILTER (WHERE r_{s}) AS {s}" for s in COUNTED)
    medians = ", ".join(
        f"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY d_{later}) AS days_{later}, "
        f"COUNT(d_{later}) AS days_{later}_n"
        for _earlier, later in STEPS
    )
    outer = (
        f"WITH b AS ({buckets}) "
        f"SELECT GROUPING(bucket) = 1 AS is_total, bucket, {counts}, {medians} "
        f"FROM (SELECT COALESCE(b.bucket, 0) AS bucket, moved.* FROM ({sql}) AS moved "
        f"JOIN b ON b.id = moved.unit_id) AS moved GROUP BY GROUPING SETS ((bucket), ())"
    )
    with connections[inner.db].cursor() as cursor:
        cursor.execute(outer, [*bucket_params, *params])
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    result: dict[int | None, dict[str, Any]] = {TOTAL: _empty()}
    for row in rows:
        key = TOTAL if row.pop("is_total") else row["bucket"]
        row.pop("bucket")
        result[key] = row
    return result


def empty_figures() -> dict[str, Any]:
    """The figures of a bucket no lead moved in."""
    return _empty()


def conversion(count: int, previous: int) -> float | None:
    """``count`` as a percentage of ``previous``; None (shown "—") when ``previous`` is 0."""
    return count * 100 / previous if previous else None
