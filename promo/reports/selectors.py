"""Reads of the reports app: the figures of a period per unit, aggregated in the database.

Counting rules, decided once here:

* **Units count their sub-tree.** A line for the Shanghai office counts the Shanghai office
  and its groups (``Unit.path`` prefix). The units asked for must therefore be disjoint
  sub-trees (no unit inside another), or a record would be counted twice; the bulletin asks
  for the bureau's first-level units and, separately, for the whole bureau (``units=None``).
* **A unit's own records (本级)** are asked for with ``own_units``: the records of exactly
  that unit, none of its sub-units'. A table of sub-tree rows under a unit adds the parent's
  own row (the bureau's is 局本级), so that the rows add up to the parent's total: the root
  unit's own records, or an office's beside its groups, count in no sub-tree row. An own
  unit must lie outside every sub-tree asked for in the same call (its id is its key).
* **Status at period end comes from the lead's status dates**, not from its current status,
  so a bulletin re-run later still describes the month as it was: a lead is *in hand*
  (在手信息) at ``end`` if it was qualified (有效) on or before ``end`` and neither signed nor
  closed (dropped/rejected) by ``end``; *in negotiation* (在谈) likewise from ``negotiating_on``.
* **Investors visiting** (来区客商) are distinct investors received (接待来访) or on a site
  inspection (实地考察) in the period, counted for the unit that logged the visit.
* **Signings** count projects by ``contract_date`` and sum ``signed_investment`` (the amount
  signed, not later capital increases); the ≥ 10M / ≥ 100M classes use the same amount, so a
  later increase never changes an old month's count.
* **Groundbreakings** (新开工) count projects by ``groundbreaking_actual`` and sum their total
  investment *as it stood at the period's end*: the amount signed plus the capital increases
  (增资, ProjectIncrement) dated on or before ``end`` (projects.models.total_investment_as_of,
  which the project list's 总投资截至 reads too). An increase counts from its own date: it
  never changes a closed period.
* **New 入统 / 入规** (新入统 / 新入规企业) count projects by the actual date of that milestone
  after signing (``in_statistics_actual``, ``above_size_actual``), as the stages are counted
  by theirs; a corrected or withdrawn date (projects.services.project_milestone_correct)
  moves the project to its new period, or out, with the trail saying who and why.
* **Arrived FDI** (到账外资) is the growth of the cumulative figure reported in monthly
  progress (InvestmentProgress.arrived_fdi): for each project, the latest cumulative reported
  for a month on or before ``end`` minus the latest reported for a month before ``start``.
  Progress is monthly, so a month's FDI lands in the period that contains the 1st of it.
  The project's own ``arrived_fdi`` is only the latest running total and cannot be dated.
* **Narrowing filters** (the cockpit's industry, region and source channel; empty = all):
  a lead by its own ``industry`` and ``source_channel`` and its investor's ``region``; a
  project by its own ``industry``, its investor's ``region`` and the ``source_channel`` of
  the lead it came from (a project without a lead has no channel, so a channel filter drops
  it); arrived FDI by the same project filters. A visit has no industry or channel of its
  own: with an industry or channel filter only visits pushing a lead (``Visit.lead``) of that
  industry / channel count, so a courtesy call on no lead drops out; the region is that of
  the visited investor (``Visit.investor``). The visiting investors stay distinct investors.

Each figure family is one grouped query (five families, five queries) whatever the number of
units. The rules are written once (``_families``): ``period_figures`` aggregates them and
``figure_records`` lists the very records they count, which a published bulletin keeps so
that an amendment can name the records that moved a figure (promo.reports.attribution).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import operator
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch
from django.utils.translation import gettext_lazy as _

from leads.choices import VISITING_KINDS
from leads.models import Lead, Visit
from officers import permissions
from officers.choices import TargetMetric
from officers.models import DISPLAY_NAME_FIELDS, Officer, Unit, tree_order
from officers.selectors import scope_for
from projects.choices import HUNDRED_MILLION, TEN_MILLION
from projects.models import (
    InvestmentProgress,
    Project,
    progress_reported_between,
    total_investment_as_of,
)
from promo.agreements.selectors import (
    KEEPING_FIELDS,
    KeepingRow,
    agreements_visible_to,
    cohort_year,
    fresh_grains,
    grain_keeping_row,
    keeping_rows,
    sees_every_agreement,
    stored_keeping_rows,
)
from promo.core.expressions import AnyOfSubquery, CountsOf, named_by
from promo.core.services import today
from promo.core.urls import path_of

from .choices import AMOUNT_FIGURES, BULLETIN_COLUMNS, AlertLevel, Figure
from .models import (
    AgreementTable,
    Alert,
    AlertNotice,
    Bulletin,
    BulletinAmendment,
    BulletinAmendmentCause,
    SystemNotice,
    own_line_name,
)

ZERO = Decimal("0.00")
_MONEY: DecimalField = DecimalField(max_digits=16, decimal_places=2)


@dataclasses.dataclass
class PeriodFigures:
    """The figures of one unit (or the whole bureau) for one period; field names = Figure values."""

    leads_in_hand: int = 0
    leads_negotiating: int = 0
    investors_visiting: int = 0
    signed_count: int = 0
    signed_amount: Decimal = ZERO
    ten_million_count: int = 0
    hundred_million_count: int = 0
    groundbreaking_count: int = 0
    groundbreaking_amount: Decimal = ZERO
    completed_count: int = 0
    producing_count: int = 0
    arrived_fdi: Decimal = ZERO
    valid_leads: int = 0
    in_statistics_count: int = 0
    above_size_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def get(self, figure: str) -> Any:
        return getattr(self, figure)


assert {f.name for f in dataclasses.fields(PeriodFigures)} == set(Figure.values)


def _check_disjoint(units: Sequence[Unit], own_units: Sequence[Unit] = ()) -> None:
    # Sorted, a path that contains another sits right before one that starts with it.
    paths = sorted(u.path for u in units)
    for shorter, longer in itertools.pairwise(paths):
        if not shorter or longer.startswith(shorter):
            raise ValueError(f"Units must be disjoint sub-trees: {shorter!r} contains {longer!r}.")
    for own in own_units:
        if any(own.path.startswith(u.path) for u in units):
            raise ValueError(f"Own unit {own.path!r} lies inside a sub-tree asked for.")
    if len({u.pk for u in own_units}) != len(own_units):
        raise ValueError("An own unit is asked for twice.")


def _bucket(unit_field: str, units: Sequence[Unit], own_units: Sequence[Unit] = ()) -> Case:
    """The id of the asked-for unit that holds the row: an own unit if the row is exactly
    its, else the unit whose sub-tree holds the row's unit; NULL if none."""
    return Case(
        *(When(**{f"{unit_field}_id": u.pk}, then=Value(u.pk)) for u in own_units),
        *(When(**{f"{unit_field}__path__startswith": u.path}, then=Value(u.pk)) for u in units),
        default=Value(None),
        output_field=IntegerField(),
    )


def grouped_by_subtree(
    qs: QuerySet,
    unit_field: str,
    units: Sequence[Unit] | None,
    aggregates: dict[str, Any],
    own_units: Sequence[Unit] = (),
) -> dict[int | None, dict[str, Any]]:
    """One grouped query: ``{unit id: {name: value}}``, each unit counting its sub-tree (the
    units must be disjoint) and each of ``own_units`` its own records alone, or
    ``{None: {...}}`` for the bureau with ``units=None``."""
    if units is None:
        return {None: qs.aggregate(**aggregates)}
    if not units and not own_units:
        return {}
    # Keep only rows of the asked-for units before bucketing: a semi-join on the unit ids
    # (a subquery, no extra round trip) lets the (unit, date) indexes work, instead of
    # bucketing every row of the database by path and dropping the NULL bucket afterwards.
    wanted = functools.reduce(
        operator.or_,
        [*(Q(path__startswith=u.path) for u in units), *(Q(pk=u.pk) for u in own_units)],
    )
    in_subtrees = Unit.objects.filter(wanted).values("pk")
    rows = (
        qs.filter(**{f"{unit_field}_id__in": in_subtrees})
        .annotate(report_unit=_bucket(unit_field, units, own_units))
        .filter(report_unit__isnull=False)
        .values("report_unit")
        .order_by()
        .annotate(**aggregates)
    )
    return {row.pop("report_unit"): row for row in rows}


def _narrowed(
    qs: QuerySet, *, industry: str, region: str, channel: str, paths: dict[str, str]
) -> QuerySet:
    """``qs`` with the narrowing filters that are set; ``paths`` names each one's lookup."""
    wanted = {"industry": industry, "region": region, "channel": channel}
    conditions = {paths[name]: value for name, value in wanted.items() if value}
    return qs.filter(**conditions) if conditions else qs


def period_figures(
    *,
    start: date,
    end: date,
    units: Sequence[Unit] | None = None,
    own_units: Sequence[Unit] = (),
    industry: str = "",
    region: str = "",
    source_channel: str = "",
    figures: Collection[str] | None = None,
) -> dict[int | None, PeriodFigures]:
    """Figures for ``[start, end]`` keyed by unit id (each counting its sub-tree).

    With ``units=None`` the result is ``{None: figures}`` for the whole bureau. Each of
    ``own_units`` (with ``units`` given) is keyed by its id and counts its own records alone
    (本级), none of its sub-units'. Every unit asked for appears in the result, with zeros where
    nothing happened. ``industry``, ``region`` and ``source_channel`` narrow every family (see
    the module's counting rules); left empty, the queries are exactly the unfiltered ones.
    With ``figures``, only those are computed (the others stay zero) and a family none of
    whose figures is asked for is not queried (the cockpit reads the additive figures from
    its daily summary, promo/dashboard/summary.py).
    """
    if end < start:
        raise ValueError("end is before start")
    own_units = list(own_units)
    if units is not None:
        units = list(units)
        _check_disjoint(units, own_units)
    elif own_units:
        raise ValueError("own_units go with units, not with the whole bureau (units=None)")
    keys: list[int | None] = [u.pk for u in (*units, *own_units)] if units is not None else [None]
    result: dict[int | None, PeriodFigures] = {key: PeriodFigures() for key in keys}

    def merge(grouped: dict[int | None, dict[str, Any]]) -> None:
        for key, values in grouped.items():
            if key not in result:
                continue
            for name, value in values.items():
                setattr(result[key], name, value if value is not None else 0)

    for family in _families(start, end, industry, region, source_channel):
        rules = {f: rule for f, rule in family.rules.items() if figures is None or f in figures}
        if not rules:
            continue
        rows = family.rows
        if figures is not None and all(rule.where is not None for rule in rules.values()):
            # Only the rows some asked-for figure counts: the date indexes can serve them.
            rows = rows.filter(functools.reduce(operator.or_, [r.where for r in rules.values()]))
        aggregates = {figure: rule.aggregate() for figure, rule in rules.items()}
        merge(grouped_by_subtree(rows, family.unit_field, units, aggregates, own_units=own_units))
    return result


@dataclasses.dataclass(frozen=True)
class _Rule:
    """How one figure is counted from its family's rows (the module's counting rules)."""

    where: Q | None = None  # the rows it counts (None: every row of the family)
    amount: str | None = None  # the column it sums; None: it counts rows
    distinct: str | None = None  # it counts each value of this column once (来区客商)

    def aggregate(self) -> Any:
        if self.amount is not None:
            return Coalesce(Sum(self.amount, filter=self.where), ZERO, output_field=_MONEY)
        if self.distinct is not None:
            return Count(self.distinct, distinct=True, filter=self.where)
        return Count("pk", filter=self.where)


def lead_stocks_at(end: date) -> dict[str, Q]:
    """The leads each stock figure counts at the end of ``end`` (在手有效线索, 在谈项目): the
    one rule, read by ``period_figures`` and by the cockpit's batched reading
    (promo/dashboard/summary.py)."""
    open_at_end = (Q(signed_on__isnull=True) | Q(signed_on__gt=end)) & (
        Q(closed_on__isnull=True) | Q(closed_on__gt=end)
    )
    return {
        Figure.LEADS_IN_HAND: Q(qualified_on__lte=end) & open_at_end,
        Figure.LEADS_NEGOTIATING: Q(negotiating_on__lte=end) & open_at_end,
    }


@dataclasses.dataclass(frozen=True)
class _Family:
    """One figure family: the rows it reads (one grouped query) and each figure's rule."""

    name: str
    rows: QuerySet
    unit_field: str
    rules: dict[str, _Rule]


def _families(
    start: date, end: date, industry: str = "", region: str = "", source_channel: str = ""
) -> list[_Family]:
    """The figure families of ``[start, end]``: the one definition of what each figure counts.

    period_figures aggregates them; figure_records lists the very rows they count.
    """
    in_period = {"__gte": start, "__lte": end}
    narrow = {"industry": industry, "region": region, "channel": source_channel}
    leads = _narrowed(
        Lead.objects.all(),
        **narrow,
        paths={"industry": "industry", "region": "investor__region", "channel": "source_channel"},
    )
    visits = _narrowed(
        Visit.objects.all(),
        **narrow,
        paths={
            "industry": "lead__industry",
            "region": "investor__region",
            "channel": "lead__source_channel",
        },
    )
    project_paths = {
        "industry": "industry",
        "region": "investor__region",
        "channel": "lead__source_channel",
    }
    projects = _narrowed(Project.objects.all(), **narrow, paths=project_paths)

    def dated(field: str) -> Q:
        return Q(**{f"{field}{op}": value for op, value in in_period.items()})

    # Leads: in hand and in negotiation at period end; valid leads supplied in the period.
    lead_family = _Family(
        "leads",
        leads,
        "unit",
        {
            **{figure: _Rule(where) for figure, where in lead_stocks_at(end).items()},
            Figure.VALID_LEADS: _Rule(dated("qualified_on")),
        },
    )

    # Investors visiting (来区客商): distinct investors received or inspecting in the period.
    visit_family = _Family(
        "visits",
        visits.filter(dated("visited_on"), kind__in=VISITING_KINDS),
        "unit",
        {Figure.INVESTORS_VISITING: _Rule(distinct="investor")},
    )

    # Projects: signings, size classes, groundbreakings, completions, production.
    signed = dated("contract_date")
    # 新开工项目总投资: the total as it stood at the period's end, i.e. the amount signed plus
    # the capital increases (增资) dated on or before ``end``. The stored total_investment
    # carries every increase, so a December increase would rewrite a closed November.
    project_family = _Family(
        "projects",
        projects.annotate(total_at_end=total_investment_as_of(end)),
        "unit",
        {
            Figure.SIGNED_COUNT: _Rule(signed),
            Figure.SIGNED_AMOUNT: _Rule(signed, amount="signed_investment"),
            Figure.TEN_MILLION_COUNT: _Rule(signed & Q(signed_investment__gte=TEN_MILLION)),
            Figure.HUNDRED_MILLION_COUNT: _Rule(signed & Q(signed_investment__gte=HUNDRED_MILLION)),
            Figure.GROUNDBREAKING_COUNT: _Rule(dated("groundbreaking_actual")),
            Figure.GROUNDBREAKING_AMOUNT: _Rule(
                dated("groundbreaking_actual"), amount="total_at_end"
            ),
            Figure.COMPLETED_COUNT: _Rule(dated("completed_actual")),
            Figure.PRODUCING_COUNT: _Rule(dated("producing_actual")),
            # 新入统 / 新入规: the milestones' actual dates, beside the stages.
            Figure.IN_STATISTICS_COUNT: _Rule(dated("in_statistics_actual")),
            Figure.ABOVE_SIZE_COUNT: _Rule(dated("above_size_actual")),
        },
    )

    # Arrived FDI: growth of each project's reported cumulative figure over the period.
    def cumulative(month_filter: Q) -> Coalesce:
        latest = (
            InvestmentProgress.objects.filter(month_filter, project_id=OuterRef("pk"))
            .order_by("-month")
            .values("arrived_fdi")[:1]
        )
        return Coalesce(Subquery(latest, output_field=_MONEY), ZERO, output_field=_MONEY)

    fdi_family = _Family(
        "fdi",
        projects.filter(progress_reported_between(start, end)).annotate(
            fdi_growth=ExpressionWrapper(
                cumulative(Q(month__lte=end)) - cumulative(Q(month__lt=start)),
                output_field=_MONEY,
            )
        ),
        "unit",
        {Figure.ARRIVED_FDI: _Rule(amount="fdi_growth")},
    )
    return [lead_family, visit_family, project_family, fdi_family]


@functools.cache
def figure_family() -> dict[str, str]:
    """``{figure: name of its family}`` ("leads", "visits", "projects" or "fdi")."""
    some_day = date(2000, 1, 1)
    return {
        figure: family.name for family in _families(some_day, some_day) for figure in family.rules
    }


@dataclasses.dataclass
class Composition:
    """The records one figure of one line counts: ``{record id: its part}``, the part being 1
    for a count and the amount for a sum. A figure that counts each investor once (来区客商)
    also keeps, in ``via``, the visits that count each investor.

    Kept as JSON at publication and with each amendment (``to_json``/``from_json``): a count
    as a list of ids, a sum as ``{id: amount}``, 来区客商 as ``{investor id: [visit ids]}``.
    """

    parts: dict[int, Decimal] = dataclasses.field(default_factory=dict)
    via: dict[int, list[int]] = dataclasses.field(default_factory=dict)

    def value(self) -> Decimal:
        return sum(self.parts.values(), ZERO)

    def to_json(self, figure: str) -> Any:
        if figure in AMOUNT_FIGURES:
            return {str(pk): str(part) for pk, part in sorted(self.parts.items())}
        if self.via:
            return {str(pk): sorted(self.via[pk]) for pk in sorted(self.parts)}
        return sorted(self.parts)

    @classmethod
    def from_json(cls, data: Any) -> Composition:
        if isinstance(data, list):
            return cls(parts={int(pk): _ONE for pk in data})
        parts: dict[int, Decimal] = {}
        via: dict[int, list[int]] = {}
        for key, value in data.items():
            if isinstance(value, list):
                parts[int(key)], via[int(key)] = _ONE, [int(v) for v in value]
            else:
                parts[int(key)] = Decimal(value)
        return cls(parts=parts, via=via)


_ONE = Decimal(1)


def figure_records(
    *,
    start: date,
    end: date,
    units: Sequence[Unit],
    figures: Collection[str] | None = None,
    own_units: Sequence[Unit] = (),
) -> dict[int | None, dict[str, Composition]]:
    """The records each of ``figures`` (all by default) counts for ``[start, end]``.

    Keyed like the bulletin's lines: each of ``units`` (disjoint sub-trees) and ``None`` for
    the whole bureau. Read from the same families as :func:`period_figures`, so each line's
    records give exactly its figures. One query per family asked for, whatever the number of
    units (each row tagged with the unit whose sub-tree holds it).
    """
    if end < start:
        raise ValueError("end is before start")
    units, own_units = list(units), list(own_units)
    _check_disjoint(units, own_units)
    wanted = set(Figure.values if figures is None else figures)
    keys: list[int | None] = [*(u.pk for u in units), *(u.pk for u in own_units), None]
    result: dict[int | None, dict[str, Composition]] = {
        key: {figure: Composition() for figure in Figure.values if figure in wanted} for key in keys
    }
    for family in _families(start, end):
        rules = {figure: rule for figure, rule in family.rules.items() if figure in wanted}
        if not rules:
            continue
        rows = family.rows
        conditions = [rule.where for rule in rules.values()]
        if all(where is not None for where in conditions):
            rows = rows.filter(functools.reduce(operator.or_, conditions))
        # One row per unit (and one for the records outside every unit), the ids of each
        # figure's records in an array: a province's in-hand leads are a hundred thousand.
        aggregates = {}
        for index, rule in enumerate(rules.values()):
            aggregates[f"_ids{index}"] = ArrayAgg("pk", filter=rule.where, order_by="pk")
            column = rule.amount or rule.distinct
            if column is not None:
                aggregates[f"_col{index}"] = ArrayAgg(column, filter=rule.where, order_by="pk")
        bucket = (
            _bucket(family.unit_field, units, own_units)
            if units or own_units
            else Value(None, IntegerField())
        )
        grouped = (
            rows.annotate(_report_unit=bucket)
            .values("_report_unit")
            .order_by()
            .annotate(**aggregates)
        )
        for row in grouped:
            unit = row["_report_unit"]
            targets = (result[None],) if unit is None else (result[unit], result[None])
            for index, (figure, rule) in enumerate(rules.items()):
                ids = row[f"_ids{index}"] or []
                values = row.get(f"_col{index}") or []
                for by_figure in targets:
                    composition = by_figure[figure]
                    if rule.distinct is not None:
                        for pk, counted_id in zip(ids, values, strict=True):
                            composition.parts[counted_id] = _ONE
                            composition.via.setdefault(counted_id, []).append(pk)
                    elif rule.amount is not None:
                        # A record that adds nothing to a sum is left out.
                        parts = zip(ids, values, strict=True)
                        composition.parts.update((pk, part) for pk, part in parts if part)
                    else:
                        composition.parts.update(dict.fromkeys(ids, _ONE))
    return result


def bulletin_units() -> list[Unit]:
    """The units a bulletin ranks: the active first-level units under the bureau, in tree order."""
    return list(
        Unit.objects.filter(
            parent__isnull=False, parent__parent__isnull=True, is_active=True
        ).order_by(tree_order())
    )


def bureau_own_units() -> list[Unit]:
    """The units whose own records make the 局本级 line: the bureau's root unit (every root,
    in tree order, should the tree have several: their own records are in no ranked line)."""
    return list(Unit.objects.filter(parent__isnull=True).order_by(tree_order()))


def alerts_visible_to(officer: Officer) -> QuerySet[Alert]:
    """Open alerts (lit lights) of the officer's units, plus those the officer answers for."""
    scope = scope_for(officer)
    qs = Alert.objects.filter(resolved_on__isnull=True).select_related("unit", "responsible")
    if scope.is_everything:
        return qs
    if scope.officer_id is None:
        return qs.none()
    mine = Q(responsible_id=officer.pk) | Q(notices__recipient_id=officer.pk)
    if scope.own_records_only:
        return qs.filter(mine).distinct()
    return qs.filter(Q(unit_id__in=scope.unit_ids) | mine).distinct()


def notices_for(officer: Officer) -> QuerySet[AlertNotice]:
    """The officer's notices, newest first (the bell's list)."""
    return AlertNotice.objects.filter(recipient=officer).select_related("alert", "alert__unit")


def system_notices_for(officer: Officer) -> QuerySet[SystemNotice]:
    """The officer's system notices (系统通知): unread ones, then the last read ones."""
    return SystemNotice.objects.filter(recipient=officer).select_related("channel")


def unread_notice_count(officer: Officer) -> int:
    """The bell's number: unread notices of alerts still lit and unread system notices.

    One query (a UNION ALL counted), as before system notices existed: every page pays it.
    """
    alerts = AlertNotice.objects.filter(
        recipient=officer, read_at__isnull=True, alert__resolved_on__isnull=True
    ).values("pk")
    system = SystemNotice.objects.filter(recipient=officer, read_at__isnull=True).values("pk")
    return alerts.union(system, all=True).count()


def bulletin_table(bulletin: Bulletin) -> dict[str, Any]:
    """The bulletin as the printed table: grouped headers, unit rows then 合计, amendments.

    Each amended cell carries its latest corrected value beside the published one. Three
    queries whatever the number of lines (lines with their units, amendments with people,
    their causes with people).
    """
    groups: list[list[Any]] = []
    for _figure, group, _sub in BULLETIN_COLUMNS:
        if groups and groups[-1][0] == group:
            groups[-1][1] += 1
        else:
            groups.append([group, 1])
    lines = list(bulletin.lines.select_related("unit"))
    amendments = list(
        BulletinAmendment.objects.filter(line__bulletin=bulletin)
        .select_related("line__unit", "changed_by")
        .prefetch_related(
            Prefetch("causes", BulletinAmendmentCause.objects.select_related("changed_by"))
        )
        .order_by("pk")
    )
    latest = {(a.line_id, a.figure): a.new_value for a in amendments}
    rows = []
    # Unit lines, then the own-records lines (局本级), then 合计; each in its position.
    for line in sorted(
        lines, key=lambda line: (line.is_total, line.own_records_only, line.position)
    ):
        rows.append(
            {
                "is_total": line.is_total,
                "is_own": line.own_records_only,
                "number": line.number,
                "name": line.label,
                "cells": [
                    {
                        "value": line.figure(figure),
                        "is_amount": figure in AMOUNT_FIGURES,
                        "amended": latest.get((line.pk, figure)),
                    }
                    for figure, _group, _sub in BULLETIN_COLUMNS
                ],
                "percent": line.target_percent(TargetMetric.SIGNED_AMOUNT),
                "last_year": line.last_year_figure(Figure.SIGNED_AMOUNT),
                "rank": line.rank,
                "score": line.score,
                # Placed among equal scores by a tie rule: a marker, explained below the table.
                "tie": line.get_rank_tie_display() if line.rank_tie else "",
            }
        )
    return {
        "header_groups": [tuple(group) for group in groups],
        "sub_headers": [sub for _figure, _group, sub in BULLETIN_COLUMNS],
        "figure_count": len(BULLETIN_COLUMNS),
        "rows": rows,
        "amendments": amendments,
        "ranking": bulletin.ranking_note,
        "tie_groups": tie_groups(rows),
    }


def tie_groups(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranks placed by a tie rule, one group per rule (its text and the lines it placed,
    in rank order): the ranking note names each rule once, not once per unit."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in sorted((row for row in rows if row["tie"]), key=lambda row: row["rank"]):
        groups.setdefault(str(row["tie"]), []).append(row)
    return [{"tie": tie, "rows": placed} for tie, placed in groups.items()]


# --- Officers' site: bulletins, lights on records, the home page ----------------------------

HOME_ALERT_ROWS = 20


def bulletins_visible_to(officer: Officer) -> QuerySet[Bulletin]:
    """Bulletins an officer may open: chiefs all of them, unit heads the published ones."""
    from .choices import BulletinStatus

    if not permissions.may_read_bulletins(officer):
        return Bulletin.objects.none()
    if permissions.may_read_draft_bulletin(officer):
        return Bulletin.objects.all()
    return Bulletin.objects.filter(status=BulletinStatus.PUBLISHED)


LIGHT_GREEN = "green"  # no open alert: the light is not an alert level


def _level_rank(level: str) -> int:
    return 2 if level == "red" else 1


def worst_level(levels: Sequence[str]) -> str:
    """The light of a record: red beats yellow; no open alert is green."""
    return max(levels, key=_level_rank) if levels else LIGHT_GREEN


def _project_alert_levels(*, project_ids: Sequence[int] | None = None, levels: Sequence[str] = ()):
    """``(project id, level)`` of the open alerts of projects, their own and their problems'
    (a problem's alert has no project of its own): the one reading of a project's light.

    A UNION ALL of two indexed reads, not an OR over every open alert (issue #19); with
    ``project_ids`` only those projects, with ``levels`` only alerts of those levels.
    """
    open_alerts = Alert.objects.filter(resolved_on__isnull=True).order_by()
    if levels:
        open_alerts = open_alerts.filter(level__in=levels)
    own = open_alerts.filter(project_id__isnull=False)
    of_problems = open_alerts.filter(project_id__isnull=True, problem__isnull=False)
    if project_ids is not None:
        own = own.filter(project_id__in=project_ids)
        of_problems = of_problems.filter(problem__project_id__in=project_ids)
    return own.values_list("project_id", "level"), of_problems.values_list(
        "problem__project_id", "level"
    )


def project_lights(project_ids: Sequence[int]) -> dict[int, str]:
    """The light of each project (its own alerts and its problems'), in one query."""
    own, of_problems = _project_alert_levels(project_ids=project_ids)
    found: dict[int, list[str]] = {}
    for project_id, level in own.union(of_problems, all=True):
        found.setdefault(project_id, []).append(level)
    return {pk: worst_level(found.get(pk, [])) for pk in project_ids}


def _lit(levels: Sequence[str]) -> Q:
    """The projects with an open alert of one of ``levels`` (own or a problem's): an EXISTS
    of each kind per project, read from the open-alert indexes. (Was ``id IN`` the union of
    every lit project: PostgreSQL de-duplicated the 48,000 red projects at province scale,
    then looked each up, to count one unit's 4,445 — 146 -> 57 ms.)"""
    own, of_problems = _project_alert_levels(levels=levels)
    return Q(Exists(own.filter(project_id=OuterRef("pk")))) | Q(
        Exists(of_problems.filter(problem__project_id=OuterRef("pk")))
    )


def project_light_q(level: str) -> Q:
    """The projects whose light (``project_lights``: the worst open alert, own or of a
    problem; none is green) is ``level``, as a condition on projects, for the project
    list's 灯色 filter (projects.filters) and the cockpit's red-project count."""
    if level == AlertLevel.RED:
        return _lit([AlertLevel.RED])
    if level == AlertLevel.YELLOW:
        return _lit([AlertLevel.YELLOW]) & ~_lit([AlertLevel.RED])
    if level == LIGHT_GREEN:
        return ~_lit([AlertLevel.RED, AlertLevel.YELLOW])
    raise ValueError(f"no such light: {level!r}")


def record_alerts(*, project_id: int | None = None, lead_id: int | None = None) -> list[Alert]:
    """The open alerts of one project (with its problems') or one lead, with who was notified."""
    if project_id is not None:
        own = Alert.objects.filter(project_id=project_id).order_by().values("pk")
        of_problems = Alert.objects.filter(problem__project_id=project_id).order_by().values("pk")
        subject = Q(pk__in=own.union(of_problems))  # two indexed reads, not an OR
    elif lead_id is not None:
        subject = Q(lead_id=lead_id)
    else:
        return []
    return list(_with_notices(Alert.objects.filter(subject, resolved_on__isnull=True)))


def _notices() -> Prefetch:
    return Prefetch(
        "notices",
        queryset=AlertNotice.objects.select_related("recipient")
        .only("alert_id", "step", "recipient_id", *_names("recipient"))
        .order_by("step", "pk"),
    )


def _red_first() -> list[Any]:
    return [Case(When(level="red", then=Value(0)), default=Value(1)), "opened_on", "pk"]


def _names(relation: str) -> list[str]:
    return [f"{relation}__{name}" for name in DISPLAY_NAME_FIELDS]


# What an alert row shows (templates/reports/_alert_rows.html, the tags of reports_lights) and
# no more: its five related records whole are 143 columns a row, mostly the project's and
# the lead's, of which a row prints a name.
_ROW_FIELDS = (
    "rule", "level", "subject_key", "detail", "params", "opened_on", "last_seen_on",
    "resolved_on", "acknowledged_at", "acknowledged_by_id", "unit_id", "responsible_id",
    "project_id", "lead_id", "problem_id",
    "unit__name", "project__name", "lead__name", "problem__title", *_names("responsible"),
)  # fmt: skip


def _alert_rows(qs: QuerySet[Alert]) -> QuerySet[Alert]:
    return (
        qs.select_related("unit", "responsible", "project", "lead", "problem")
        .only(*_ROW_FIELDS)
        .order_by(*_red_first())
    )


def _with_notices(qs: QuerySet[Alert]) -> QuerySet[Alert]:
    return _alert_rows(qs).prefetch_related(_notices())


def home_alerts(officer: Officer) -> dict[str, Any]:
    """首页红黄灯: my open alerts; for a unit head or chief also their units' red items.

    Each list shows its first ``HOME_ALERT_ROWS``; the summary line counts all of them
    (``my_alert_count``, ``my_red_count``, ``unit_red_count``): a province unit head has
    882 alerts, 481 of them red, and a chief's bureau 157,205 red ones — the line read "20"
    for each when it counted the rows shown.

    Two queries whatever the number of alerts: both lists in one statement (each list's keys
    read first by its own index: ``named_by``), with the counts as its init-plans, and the
    notices of both (who has been notified). ``red_alerts_are_bureau_wide`` names the red
    list's reach for its heading.
    """
    scope = scope_for(officer)
    open_alerts = Alert.objects.filter(resolved_on__isnull=True).values("pk")
    # Responsible for, or notified of: a UNION of two indexed reads, not an OR (issue #19).
    responsible = Alert.objects.filter(responsible_id=officer.pk).order_by().values("pk")
    notified = AlertNotice.objects.filter(recipient_id=officer.pk).order_by().values("alert_id")
    # Their keys first (an init-plan), then the open ones by primary key: as an IN sub-query a
    # small table is joined the other way round, every open alert against mine.
    mine = open_alerts.filter(AnyOfSubquery("pk", responsible.union(notified)))
    units_red = Q(scope.unit_q(), level="red")
    lists = [mine.order_by(*_red_first())[:HOME_ALERT_ROWS]]
    watches = permissions.may_watch_unit_alerts(officer)
    if watches:
        # All red but mine: oldest first, in the order of the open-red index (a chief's are
        # the bureau's, tens of thousands at province scale; issue #19). "Not mine" is asked
        # of each row the index walks (its responsible column, a notice probe by alert), not
        # as the UNION again: the statement built mine's keys twice (a province unit head
        # with 882 alerts: 2.4 ms more of 11).
        not_mine = ~Q(responsible_id=officer.pk) & ~Exists(
            AlertNotice.objects.filter(alert_id=OuterRef("pk"), recipient_id=officer.pk)
        )
        lists.append(
            open_alerts.filter(units_red & not_mine).order_by("opened_on", "pk")[:HOME_ALERT_ROWS]
        )
    # The summary line's counts, in the lists' statement: mine, my red ones and (for the red
    # list) my red ones in my units, in one pass over mine; the units' red ones from their
    # index alone. The red list's count is the units' red less mine among them: counted row
    # by row, "not mine" was a probe per red alert (a chief at province: 56 ms for 157,205).
    counts = {"mine_counts": CountsOf(mine, Q(level="red"), units_red)}
    if watches:
        counts["units_red_count"] = CountsOf(open_alerts.filter(units_red))
    # With who has been notified (one query for both lists), which tells mine from the others;
    # red first, then the oldest: the red list (all red) comes oldest first.
    rows = list(_with_notices(named_by(Alert.objects.all(), *lists).annotate(**counts)))
    my_alerts: list[Alert] = []
    red: list[Alert] = []
    for alert in rows:
        notified_me = any(n.recipient_id == officer.pk for n in alert.notices.all())
        (my_alerts if alert.responsible_id == officer.pk or notified_me else red).append(alert)
    # No row listed: both sets are empty, and so are their counts.
    first: Any = rows[0] if rows else None
    mine_count, my_red, my_red_here = first.mine_counts if first else (0, 0, 0)
    unit_red = first.units_red_count[0] - my_red_here if first and watches else 0
    return {
        "my_alerts": my_alerts,
        "my_alert_count": mine_count,
        "my_red_count": my_red,
        # The summary line's light: red when any red item is counted, else yellow.
        "alerts_summary_level": "red" if my_red or unit_red else "yellow",
        "unit_red_alerts": red,
        "unit_red_count": unit_red,
        "red_alerts_are_bureau_wide": permissions.is_bureau_wide(officer),
    }


# --- The bulletin's 协议履约 section (issue #20) -----------------------------------------------


def _agreement_columns() -> list[dict[str, Any]]:
    """The section's columns: each a figure of ``KeepingRow`` and the lists that count it
    (list name, query for the numerator, for the denominator). A rate is printed "—" over a
    zero denominator; every count links to the list showing exactly that many rows."""
    return [
        {"key": "keeping", "label": _("履约率"), "kind": "rate", "num": "agreements_keeping",
         "den": "agreements_judged", "prop": "keeping_rate",
         "num_url": ("agreements:list", "status=keeping"),
         "den_url": ("agreements:list", "status=judged")},
        {"key": "start", "label": _("开工率"), "kind": "rate", "num": "start_met",
         "den": "start_judged", "prop": "start_rate",
         "num_url": ("agreements:terms", "metric=start_by&status=met"),
         "den_url": ("agreements:terms", "metric=start_by&status=judged")},
        {"key": "capital", "label": _("资金到位率"), "kind": "rate", "num": "capital_in",
         "den": "capital_target", "prop": "capital_rate", "count": "capital_judged",
         "num_url": None,
         "den_url": ("agreements:terms", "metric=total_investment&status=judged")},
        {"key": "produce", "label": _("投产率"), "kind": "rate", "num": "produce_met",
         "den": "produce_judged", "prop": "produce_rate",
         "num_url": ("agreements:terms", "metric=produce_by&status=met"),
         "den_url": ("agreements:terms", "metric=produce_by&status=judged")},
        {"key": "output", "label": _("达产率"), "kind": "rate", "num": "output_met",
         "den": "output_judged", "prop": "output_rate",
         "num_url": ("agreements:terms", "metric=full_output&status=met"),
         "den_url": ("agreements:terms", "metric=full_output&status=judged")},
        {"key": "promises", "label": _("政府承诺按期兑现率"), "kind": "rate",
         "num": "promises_kept", "den": "promises_due", "prop": "promise_rate",
         "num_url": ("agreements:promises", "status=kept"),
         "den_url": ("agreements:promises", "status=fallen_due")},
        {"key": "paid", "label": _("已兑现奖补(万元)"), "kind": "amount", "num": "paid",
         "num_url": ("agreements:promises", "payment=ever_paid")},
        {"key": "withheld", "label": _("暂缓兑现(万元)"), "kind": "amount", "num": "withheld",
         "num_url": ("agreements:promises", "payment=withheld")},
        {"key": "clawed_back", "label": _("已追回(万元)"), "kind": "amount", "num": "clawed_back",
         "num_url": ("agreements:promises", "payment=clawed_back")},
        {"key": "intensity", "label": _("亩均投资强度(万元/亩)"), "kind": "per_mu",
         "prop": "intensity", "count": "intensity_agreements",
         "den_url": ("agreements:list", "measured=intensity")},
        {"key": "tax_per_mu", "label": _("亩均税收(万元/亩)"), "kind": "per_mu",
         "prop": "tax_per_mu", "count": "tax_per_mu_agreements",
         "den_url": ("agreements:list", "measured=tax_per_mu")},
    ]  # fmt: skip


def _amount_text(value: Any) -> str:
    return f"{Decimal(value):,.2f}"


def _agreement_cell(query: str, row: Any, column: dict[str, Any]) -> dict:
    """One printed cell of ``row`` (a ``KeepingRow``); ``query`` selects the row's records in
    the lists its counts link to (``&on=…&unit=…``)."""

    def url(spec: tuple[str, str] | None) -> str:
        if not spec:
            return ""
        try:
            path = path_of(spec[0])  # once per list, not per cell (promo.core.urls)
        except NoReverseMatch:  # served where the officers' pages are not (the admin alone)
            return ""
        return f"{path}?{spec[1]}{query}"

    kind = column["kind"]
    if kind == "amount":
        value = getattr(row, column["num"])
        return {"text": _amount_text(value), "num_url": url(column["num_url"]), "parts": []}
    value = getattr(row, column["prop"])
    if kind == "rate":
        text = "—" if value is None else f"{value}%"
    else:
        text = "—" if value is None else _amount_text(value)
    parts = []
    if kind == "rate" and "count" not in column:
        parts = [
            (str(getattr(row, column["num"])), url(column["num_url"])),
            (str(getattr(row, column["den"])), url(column["den_url"])),
        ]
    elif kind == "rate":
        parts = [
            (_amount_text(getattr(row, column["num"])), ""),
            (_amount_text(getattr(row, column["den"])), ""),
            (str(getattr(row, column["count"])), url(column["den_url"])),
        ]
    else:
        parts = [(str(getattr(row, column["count"])), url(column["den_url"]))]
    return {"text": text, "num_url": "", "parts": parts}


def agreement_cell_plain(cell: dict[str, Any]) -> str:
    """A section cell as plain text (the XLSX and Word tables): "72.5% (29/40)"."""
    parts = [text for text, _url in cell["parts"]]
    if len(parts) == 3:  # 资金到位率: in / due, over n commitments
        return f"{cell['text']} ({parts[0]}/{parts[1]}, {parts[2]})"
    if parts:
        return f"{cell['text']} ({'/'.join(parts)})"
    return cell["text"]


def _printed_agreement_row(
    name: str, row: Any, query: str, columns: list[dict[str, Any]], **marks: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "is_total": marks.get("is_total", False),
        "is_own": marks.get("is_own", False),
        "number": marks.get("number"),
        "cells": [_agreement_cell(query, row, column) for column in columns],
    }


def _agreement_tables(
    columns: list[dict[str, Any]],
    units: list[dict[str, Any]],
    cohorts: list[dict[str, Any]],
    total: dict[str, Any] | None,
) -> dict[str, Any]:
    if not cohorts:
        # No agreement signed by the day: no section (every row would be "—").
        units, total = [], None
    return {
        "agreement_headers": [column["label"] for column in columns],
        "agreement_tables": [
            {
                "key": "unit",
                "title": _("协议履约（按单位）"),
                "key_header": _("单位"),
                "rows": [*units, total] if total else units,
            },
            {
                "key": "cohort",
                "title": _("协议履约（按签约年度）"),
                "key_header": _("签约年度"),
                "rows": [*cohorts, total] if total and cohorts else cohorts,
            },
        ],
    }


def bulletin_agreement_section(bulletin: Bulletin) -> dict[str, Any]:
    """The 协议履约 section as printed: the unit table (units, 本级, 合计) and the signing-year
    table (cohorts, then the same 合计), from the frozen rows; one query."""
    columns = _agreement_columns()
    lines = list(bulletin.agreement_lines.select_related("unit").order_by("table", "position"))
    units, cohorts, total = [], [], None
    for line in lines:
        line.bulletin = bulletin  # the rows' links read its last day; no query per row
        printed = _printed_agreement_row(
            line.label,
            line.figures,
            line.list_query,
            columns,
            is_total=line.is_total,
            is_own=line.own_records_only,
            number=line.position if line.unit_id and not line.own_records_only else None,
        )
        if line.table == AgreementTable.COHORT:
            cohorts.append(printed)
        elif line.is_total:
            total = printed
        else:
            units.append(printed)
    return _agreement_tables(columns, units, cohorts, total)


# The grain ``agreement_analysis`` reads at: a project's unit and its cohort, in one integer.
_COHORT_SPAN = 10000  # a year is below it (1–9999)


def _add_rows(rows: Iterable[KeepingRow]) -> KeepingRow:
    """The sum of rows (every figure of ``KeepingRow`` is a count or an amount: they add)."""
    total: dict[str, Any] = dict.fromkeys(KEEPING_FIELDS, 0)
    for row in rows:
        for name in KEEPING_FIELDS:
            total[name] += getattr(row, name)
    return KeepingRow(**total)


def agreement_analysis(officer: Officer, *, unit: Unit | None, on: date) -> dict[str, Any]:
    """协议履约分析 (issue #20): the bulletin's 协议履约 section computed now (or on a past day)
    for the agreements the officer sees that were signed by ``on``, their statuses on ``on`` —
    by unit (each active sub-unit of ``unit``, or of the bureau, then ``unit``'s own records,
    then the total) and by signing-year cohort. The figures are read once per (project unit,
    cohort) pair — ``keeping_rows``' four grouped queries — and added up here into the rows
    (every figure adds), so the page costs what one grouping costs, whatever its rows.
    Each count links to the list showing exactly that many rows."""
    columns = _agreement_columns()
    agreements = agreements_visible_to(officer).filter(signed_on__lte=on)
    if unit is None:
        units, own_units = bulletin_units(), bureau_own_units()
    else:
        agreements = agreements.filter(project__unit__path__startswith=unit.path)
        units = list(Unit.objects.filter(parent=unit, is_active=True).order_by(tree_order()))
        own_units = [unit]

    def filed(unit_id: Any, year: Any) -> ExpressionWrapper:
        return ExpressionWrapper(unit_id * _COHORT_SPAN + year, output_field=BigIntegerField())

    def group(path: str) -> ExpressionWrapper:
        return filed(F(f"{path}__unit_id"), cohort_year(path))

    # Today's analysis adds up the agreements' stored states (decision 0020), keyed by where
    # each state is filed; a past day, or states left stale, computes every commitment's status.
    grains = None
    if on == today() and sees_every_agreement(officer):
        # A bureau-wide reader adds up the grains (decision 0026); None: computed live.
        summed = fresh_grains(unit)
        if summed is not None:
            grains = {
                grain["project_unit"] * _COHORT_SPAN + grain["cohort"]: grain_keeping_row(grain)
                for grain in summed
            }
    elif on == today():
        grains = stored_keeping_rows(
            group=group,
            agreements=agreements,
            key=filed(F("state__project_unit"), F("state__cohort")),
        )
    if grains is None:
        grains = keeping_rows(group=group, agreements=agreements, on=on)
    paths = dict(
        Unit.objects.filter(pk__in={key // _COHORT_SPAN for key in grains}).values_list(
            "pk", "path"
        )
    )
    by_unit: dict[int, list[KeepingRow]] = {}
    by_cohort: dict[int, list[KeepingRow]] = {}
    for key, row in grains.items():
        unit_id, year = divmod(key, _COHORT_SPAN)
        by_cohort.setdefault(year, []).append(row)
        own = next((u for u in own_units if u.pk == unit_id), None)
        holder = own or next((u for u in units if paths[unit_id].startswith(u.path)), None)
        if holder is not None:
            by_unit.setdefault(holder.pk, []).append(row)
    day = f"&on={on.isoformat()}"
    scope = f"&unit={unit.pk}" if unit is not None else ""
    printed_units = [
        _printed_agreement_row(
            u.short_name or u.name,
            _add_rows(by_unit.get(u.pk, ())),
            f"{day}&unit={u.pk}",
            columns,
            number=position,
        )
        for position, u in enumerate(units, start=1)
    ]
    printed_units += [
        _printed_agreement_row(
            own_line_name(u),
            _add_rows(by_unit.get(u.pk, ())),
            f"{day}&unit={u.pk}&own=1",
            columns,
            is_own=True,
        )
        for u in own_units
    ]
    cohorts = [
        _printed_agreement_row(
            str(_("%(year)s年签约") % {"year": year}),
            _add_rows(by_cohort[year]),
            f"{day}&cohort={year}{scope}",
            columns,
        )
        for year in sorted(by_cohort)
    ]
    total = _printed_agreement_row(
        str(_("合计")), _add_rows(grains.values()), f"{day}{scope}", columns, is_total=True
    )
    return _agreement_tables(columns, printed_units, cohorts, total)
