"""Reads of the cockpit (领导驾驶舱): every figure family is one grouped query.

The five counts and their amounts come from :func:`promo.reports.selectors.period_figures`,
which owns their rules (status at period end, distinct visiting investors, signings by
contract date…); this module only arranges them per unit, beside last year and the targets,
and adds the families the bulletin has no use for: the lead funnel, the project snapshot
(foreign capital, projects under construction, key projects, overdue milestones), the time
to signing and the monthly trend. The additive figures (signings, new valid leads,
groundbreakings…) are summed from the daily summary kept by triggers (:mod:`.summary`), the
stocks and the distinct visiting investors read from the raw rows, under the same rules.

Every figure honours every cockpit filter: unit (sub-tree), period, industry, region (the
investor's) and source channel (the lead's; a project's through the lead it came from).

The tables have a row per sub-unit of the chosen unit (each counting its sub-tree), then the
chosen unit's own records (本级: 局本级 for the bureau; ``own_rows``), then 合计: the bureau's
chief writing through the API, or an office's officers beside its groups, put records on the
unit itself, which no sub-unit row counts. The rows and the own row add up to 合计 (but for
the distinct visiting investors); the own row is not scored or ranked and has no targets (the
chosen unit's targets are the total's), and its numbers link to the lists of exactly that
unit's records (``without_subunits``).

Each number carries the URL of the list behind it when that list's own filters can express
the same set, so that the list's count equals the number (tests/dashboard pin this for any
filter combination). An amount links to the list of the records it sums, and its link carries
that list's count; the list's amount column totals the figure (新开工项目总投资 through the list's
总投资截至, the period's end). The visiting investors (来区客商) link to the visiting-investor list
(distinct investors of the period's reception and inspection visits). The arrived FDI links to
the projects that reported monthly progress in the period (the projects it sums, project list
filter 填报投资进度的月份), the ≥ 100M signings target to the signings with 签约总投资 of at
least 1亿. Only the scores have no list behind them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from leads.choices import LeadStatus
from leads.filters import CLOSED_STATUSES, FUNNEL_STAGES
from leads.selectors import leads_visible_to
from officers.choices import TargetMetric
from officers.models import Officer, Target, Unit, tree_order
from officers.selectors import scope_for
from projects.choices import HUNDRED_MILLION, SizeClass, Stage
from projects.filters import overdue_q
from projects.models import (
    Project,
    last_progress_month,
    next_milestone_due,
    reported_since_month,
)
from projects.selectors import projects_visible_to
from promo.agreements.selectors import keeping_figures
from promo.core.expressions import AnyOfSubquery
from promo.core.reads import side_by_side
from promo.core.urls import path_of
from promo.reports.choices import TARGET_FIGURE, AlertLevel, Figure
from promo.reports.models import Alert, own_line_name
from promo.reports.selectors import (
    PeriodFigures,
    alerts_visible_to,
    bulletin_units,
    bureau_own_units,
    period_figures,
    project_light_q,
)

from .buckets import Fold
from .forms import Period, PeriodKind
from .funnel import TOTAL, conversion, empty_figures, funnel_counts
from .models import MonthlyUnitFigure
from .summary import cockpit_figures_over
from .summary_funnel import funnel_from_summary, may_read

ZERO = Decimal("0.00")
_MONEY: DecimalField = DecimalField(max_digits=16, decimal_places=2)
OVERDUE_ROWS = 20

# The five counts chiefs read (DOMAIN.md "What chiefs read"), with their amounts.
COCKPIT_FIGURES: tuple[str, ...] = (
    Figure.LEADS_IN_HAND,
    Figure.LEADS_NEGOTIATING,
    Figure.INVESTORS_VISITING,
    Figure.SIGNED_COUNT,
    Figure.SIGNED_AMOUNT,
    Figure.GROUNDBREAKING_COUNT,
    Figure.GROUNDBREAKING_AMOUNT,
    # The milestones after signing, counted like the stages (issue #20).
    Figure.IN_STATISTICS_COUNT,
    Figure.ABOVE_SIZE_COUNT,
)
FUNNEL_STATUSES: tuple[str, ...] = FUNNEL_STAGES
OPEN_STAGES = (Stage.SIGNED, Stage.GROUNDBREAKING, Stage.COMPLETED)


class Median(Aggregate):
    """PostgreSQL's PERCENTILE_CONT(0.5): the median, computed in the database."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    """``later - earlier`` in days (PostgreSQL: date minus date is an integer)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


@dataclass(frozen=True)
class CockpitFilters:
    """What the chief asked for; ``unit=None`` means the whole bureau."""

    period: Period
    today: date
    unit: Unit | None = None
    industry: str = ""
    region: str = ""
    source_channel: str = ""

    @property
    def narrowing(self) -> dict[str, str]:
        """The keyword filters :func:`period_figures` takes."""
        return {
            "industry": self.industry,
            "region": self.region,
            "source_channel": self.source_channel,
        }


@dataclass
class Cell:
    value: Any
    url: str | None = None


@dataclass
class UnitRow:
    unit: Unit | None
    name: str
    is_total: bool = False
    # The unit's own records only (本级), not its sub-units'.
    is_own: bool = False
    figures: PeriodFigures = field(default_factory=PeriodFigures)
    last_year: PeriodFigures = field(default_factory=PeriodFigures)
    cells: list[dict[str, Any]] = field(default_factory=list)
    projects: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    ytd: PeriodFigures | None = None
    # The row's lead funnel (steps and closed leads, each linked), from funnel().
    funnel: dict[str, Any] = field(default_factory=dict)


def list_url(name: str, params: dict[str, Any]) -> str:
    """The list page ``name`` with these filters (empty ones left out). A cockpit links some
    370 figures to a dozen lists, each list's path reversed once (``path_of``: a unit's
    cockpit at province, in process, 41 → 18 ms for its 371 links)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)
    base = path_of(name)
    return f"{base}?{query}" if query else base


def row_units(officer: Officer, unit: Unit | None) -> list[Unit]:
    """The units the tables show a line for: the children of the chosen unit, in tree order."""
    if unit is None:
        return bulletin_units()
    return list(Unit.objects.filter(parent=unit, is_active=True).order_by(tree_order()))


def own_units(unit: Unit | None) -> list[Unit]:
    """The units whose own records make the tables' 本级 row: the chosen unit, or for the
    whole bureau its root (every root, should the tree have several)."""
    return [unit] if unit is not None else bureau_own_units()


def default_unit(officer: Officer) -> Unit | None:
    """A chief starts on the whole bureau; anyone else on their own unit's sub-tree."""
    return None if scope_for(officer).is_everything else officer.unit


def _lead_filters(qs: QuerySet, f: CockpitFilters) -> QuerySet:
    if f.unit is not None:
        qs = qs.filter(unit__path__startswith=f.unit.path)
    if f.industry:
        qs = qs.filter(industry=f.industry)
    if f.region:
        qs = qs.filter(investor__region=f.region)
    if f.source_channel:
        qs = qs.filter(source_channel=f.source_channel)
    return qs


def _in_subtree(unit: Unit, *, unit_ids_first: bool) -> Q:
    """Rows (with a ``unit`` key) of ``unit``'s sub-tree. With ``unit_ids_first`` the sub-tree
    is read first, once (an init-plan), and the rows are matched to its ids: for a count over
    most rows, where PostgreSQL otherwise joins each matching row to its unit to test the
    path. Without, the join: a list that walks an index in order and stops early."""
    if unit_ids_first:
        return Q(AnyOfSubquery("unit_id", unit.subtree().order_by().values("pk")))
    return Q(unit__path__startswith=unit.path)


def _project_filters(qs: QuerySet, f: CockpitFilters, *, unit_ids_first: bool = False) -> QuerySet:
    """The cockpit's unit, industry, region and channel on projects (``_in_subtree`` says
    what ``unit_ids_first`` is for)."""
    if f.unit is not None:
        qs = qs.filter(_in_subtree(f.unit, unit_ids_first=unit_ids_first))
    if f.industry:
        qs = qs.filter(industry=f.industry)
    if f.region:
        qs = qs.filter(investor__region=f.region)
    if f.source_channel:
        qs = qs.filter(lead__source_channel=f.source_channel)
    return qs


def _unit_params(unit: Unit | None, own: bool, prefix: str = "") -> dict[str, Any]:
    """The list filter of a row's unit: its sub-tree, or with ``own`` its own records alone."""
    return {
        f"{prefix}unit": unit.pk if unit is not None else None,
        f"{prefix}without_subunits": "true" if own and unit is not None else None,
    }


def _lead_list_params(f: CockpitFilters, unit: Unit | None, own: bool = False) -> dict[str, Any]:
    """LeadFilter parameters for the cockpit's filters (the funnel honours all of them)."""
    return {
        **_unit_params(unit, own),
        "industry": f.industry,
        "investor_region": f.region,
        "source_channel": f.source_channel,
    }


def _project_list_params(f: CockpitFilters, unit: Unit | None, own: bool = False) -> dict[str, Any]:
    """ProjectFilter parameters for the cockpit's filters (same rules as _project_filters)."""
    return {
        **_unit_params(unit, own),
        "industry": f.industry,
        "investor_region": f.region,
        "source_channel": f.source_channel,
    }


def _figure_links(
    f: CockpitFilters, unit: Unit | None, own: bool = False
) -> dict[str, tuple[str, str]]:
    """``{figure: (list URL, figure whose value is that list's count)}`` for one row (with
    ``own``, the 本级 row: the unit's own records).

    In hand / in negotiation are statuses at the period's end from the status dates; the
    lead list's ``*_as_of`` filters apply the same rule, so past periods link too.
    """
    start, end = f.period.start.isoformat(), f.period.end.isoformat()
    leads = _lead_list_params(f, unit, own)
    projects = _project_list_params(f, unit, own)
    signed = list_url(
        "projects:list", {**projects, "contract_date_after": start, "contract_date_before": end}
    )
    # 新开工项目总投资 is the total as it stood at the period's end: the list totals the same.
    started = list_url(
        "projects:list",
        {
            **projects,
            "groundbreaking_actual_after": start,
            "groundbreaking_actual_before": end,
            "investment_as_of": end,
        },
    )
    return {
        Figure.LEADS_IN_HAND: (
            list_url("leads:list", {**leads, "in_hand_as_of": end}),
            Figure.LEADS_IN_HAND,
        ),
        Figure.LEADS_NEGOTIATING: (
            list_url("leads:list", {**leads, "negotiating_as_of": end}),
            Figure.LEADS_NEGOTIATING,
        ),
        # 来区客商: distinct investors received or inspecting, logged in the row's sub-tree.
        Figure.INVESTORS_VISITING: (
            list_url(
                "leads:visiting_investors",
                {
                    "visited_on_after": start,
                    "visited_on_before": end,
                    **_unit_params(unit, own, prefix="visit_"),
                    "visit_industry": f.industry,
                    "region": f.region,
                    "visit_source_channel": f.source_channel,
                },
            ),
            Figure.INVESTORS_VISITING,
        ),
        Figure.SIGNED_COUNT: (signed, Figure.SIGNED_COUNT),
        Figure.SIGNED_AMOUNT: (signed, Figure.SIGNED_COUNT),
        Figure.GROUNDBREAKING_COUNT: (started, Figure.GROUNDBREAKING_COUNT),
        Figure.GROUNDBREAKING_AMOUNT: (started, Figure.GROUNDBREAKING_COUNT),
        Figure.IN_STATISTICS_COUNT: (
            list_url(
                "projects:list",
                {
                    **projects,
                    "in_statistics_actual_after": start,
                    "in_statistics_actual_before": end,
                },
            ),
            Figure.IN_STATISTICS_COUNT,
        ),
        Figure.ABOVE_SIZE_COUNT: (
            list_url(
                "projects:list",
                {**projects, "above_size_actual_after": start, "above_size_actual_before": end},
            ),
            Figure.ABOVE_SIZE_COUNT,
        ),
    }


def _figure_cells(row: UnitRow, f: CockpitFilters, link_unit: Unit | None) -> list[dict]:
    links = _figure_links(f, link_unit, row.is_own)
    cells = []
    for figure in COCKPIT_FIGURES:
        url, counted = links.get(figure, (None, figure))
        value, before = row.figures.get(figure), row.last_year.get(figure)
        cells.append(
            {
                "figure": figure,
                "value": value,
                "count": row.figures.get(counted),
                "last_year": before,
                "change": _change(value, before),
                "url": url,
                "is_amount": isinstance(value, Decimal),
            }
        )
    return cells


def _change(value: Any, before: Any) -> Decimal | None:
    """Growth on the same period last year in percent, or None when last year was zero."""
    if not before:
        return None
    return (Decimal(value) - Decimal(before)) * 100 / Decimal(before)


def _latest_report_until(month: date) -> Case:
    """:func:`~projects.models.last_progress_month` of ``month`` read from the project's
    latest report month (``ProjectLatestReport``, one join) when that month is on or before
    ``month`` — for ``month`` this month, always (no report is for a future month) — and
    probed only for a project that reported after it and before it; NULL for one that never
    reported, or first reported after it."""
    return Case(
        When(latest_report__isnull=True, then=Value(None, output_field=DateField())),
        When(latest_report__month__lte=month, then=F("latest_report__month")),
        When(latest_report__first_month__gt=month, then=Value(None, output_field=DateField())),
        default=last_progress_month(month),
        output_field=DateField(),
    )


def _project_snapshot(
    officer: Officer,
    f: CockpitFilters,
    units: Sequence[Unit],
    ytd: Period,
    own: Sequence[Unit] = (),
) -> dict[int, dict[str, Any]]:
    """One grouped query over the visible projects: FDI, construction, key projects, overdue.

    Each project falls in the bucket of the own unit (本级) it belongs to exactly, else of the
    listed unit whose sub-tree holds it, else in bucket 0 (a unit no row shows, such as a
    deactivated one), so the total is the sum of all buckets: every figure here is additive,
    grouped by unit and folded into the buckets (:mod:`.buckets`).

    The projects are read with their conditions as columns and summed by an outer
    ``GROUP BY unit`` with ``FILTER``s: the latest month each project reported up to an end
    month is read once per project (:func:`_latest_report_until`) and tested against each
    period's first month there (grouped by unit and that month, PostgreSQL sorted all the
    projects: at province 60,000 rows spilled to disk, to give a few hundred groups).
    """
    start, end = f.period.start, f.period.end
    fold = Fold(units, own)
    # The projects whose arrived FDI the period (and the year to date) sums: the count of the
    # list the arrived-FDI figures link to (``reported_since``: a report in [since, until] is
    # a latest month up to until's month on or after since's month). One column per project
    # for each distinct end month (one when the period and the year to date end in the same
    # month).
    reporting = {"fdi_reporting": (start, end), "fdi_reporting_ytd": (ytd.start, ytd.end)}
    probes: dict[date, str] = {}  # each end's month -> the name of its probe's column
    for _since, until in reporting.values():
        probes.setdefault(until.replace(day=1), f"fdi_month_{len(probes)}")
    # Each project's latest and first report months are joined (``ProjectLatestReport``): a
    # period ending this month reads them alone; an earlier end probes only the projects that
    # reported both before and after it. (A past end probed every project: at province a
    # year to date ended 400 days ago, before any report, 60,000 probes, 192 -> 82 ms.)
    conditions = {
        "is_signed": Q(contract_date__gte=start, contract_date__lte=end),
        "is_building_10m": Q(
            stage=Stage.GROUNDBREAKING,
            size_class__in=[SizeClass.TEN_MILLION, SizeClass.HUNDRED_MILLION],
        ),
        "is_key": Q(size_class=SizeClass.HUNDRED_MILLION, stage__in=OPEN_STAGES),
        "is_overdue": overdue_q(f.today),
        "is_groundbreaking_late": Q(stage=Stage.SIGNED, groundbreaking_planned__lt=f.today),
    }
    inner = (
        fold.scope(_project_filters(projects_visible_to(officer), f))
        .annotate(
            **{
                name: ExpressionWrapper(q, output_field=BooleanField())
                for name, q in conditions.items()
            },
            **{name: _latest_report_until(month) for month, name in probes.items()},
        )
        .order_by()
        .values(
            "unit_id",
            "contracted_fdi",
            "total_investment",
            "invested_to_date",
            *conditions,
            *probes.values(),
        )
    )
    sql, params = inner.query.sql_with_params()
    reported = []
    reported_params: list[Any] = []
    for figure, (since, until) in reporting.items():
        reported.append(f"COUNT(*) FILTER (WHERE {probes[until.replace(day=1)]} >= %s) AS {figure}")
        reported_params.append(reported_since_month(since))
    grouped = f"""
        SELECT unit_id,
               COALESCE(SUM(contracted_fdi) FILTER (WHERE is_signed), 0.00) AS contracted_fdi,
               COUNT(*) FILTER (WHERE is_building_10m) AS building_10m,
               COUNT(*) FILTER (WHERE is_key) AS key_count,
               COALESCE(SUM(total_investment) FILTER (WHERE is_key), 0.00) AS key_total,
               COALESCE(SUM(invested_to_date) FILTER (WHERE is_key), 0.00) AS key_invested,
               COUNT(*) FILTER (WHERE is_overdue) AS overdue,
               COUNT(*) FILTER (WHERE is_groundbreaking_late) AS groundbreaking_late,
               {", ".join(reported)}
        FROM (SELECT * FROM ({sql}) AS q OFFSET 0) AS p GROUP BY unit_id
    """
    # OFFSET 0 keeps the projects a sub-query of their own: flattened into the sums, each
    # FILTER naming a probe's column would run the probe again.
    rows = fold.grouped_sql(grouped, [*reported_params, *params], using=inner.db)
    return fold.fold(rows)[0]


_EMPTY_SNAPSHOT = {
    "contracted_fdi": ZERO,
    "building_10m": 0,
    "key_count": 0,
    "key_total": ZERO,
    "key_invested": ZERO,
    "overdue": 0,
    "groundbreaking_late": 0,
    "fdi_reporting": 0,
    "fdi_reporting_ytd": 0,
}


def _dress_snapshot(
    values: dict[str, Any], row: UnitRow, f: CockpitFilters, unit: Unit | None
) -> dict[str, Any]:
    """The row's project figures with the URLs of their lists (``*_url``) and those lists'
    counts (``*_count``, for the amounts and the rate: the number of projects summed)."""
    snap = dict(values)
    snap["arrived_fdi"] = row.figures.arrived_fdi
    snap["key_rate"] = snap["key_invested"] * 100 / snap["key_total"] if snap["key_total"] else None
    base = _project_list_params(f, unit, row.is_own)
    start, end = f.period.start.isoformat(), f.period.end.isoformat()
    snap["contracted_fdi_url"] = list_url(
        "projects:list", {**base, "contract_date_after": start, "contract_date_before": end}
    )
    snap["contracted_fdi_count"] = row.figures.signed_count
    snap["building_10m_url"] = list_url(
        "projects:list", {**base, "stage": Stage.GROUNDBREAKING, "size": ["10m", "100m"]}
    )
    snap["key_count_url"] = list_url(
        "projects:list", {**base, "stage": list(OPEN_STAGES), "size": SizeClass.HUNDRED_MILLION}
    )
    snap["overdue_url"] = list_url("projects:list", {**base, "overdue": "true"})
    snap["arrived_fdi_url"] = list_url(
        "projects:list", {**base, "progress_month_after": start, "progress_month_before": end}
    )
    snap["arrived_fdi_count"] = snap["fdi_reporting"]
    return snap


def _funnel_cells(
    figures: dict[str, Any], f: CockpitFilters, unit: Unit | None, own: bool = False
) -> dict[str, Any]:
    """One row of the funnel (a unit, its own records, or the whole scope): each stage's
    count with the URL of the lead list of exactly those leads (``entered``), the conversion
    from the previous stage and the median days it took; the closed leads beside them."""
    base = {
        **_lead_list_params(f, unit, own),
        "entered_from": f.period.start.isoformat(),
        "entered_to": f.period.end.isoformat(),
    }
    steps: list[dict[str, Any]] = []
    for status in FUNNEL_STATUSES:
        count = figures[status]
        previous = steps[-1]["count"] if steps else None
        steps.append(
            {
                "status": status,
                "label": LeadStatus(status).label,
                "count": count,
                "url": list_url("leads:list", {**base, "entered": status}),
                "conversion": conversion(count, previous) if previous is not None else None,
                "days": figures.get(f"days_{status}"),
                "days_n": figures.get(f"days_{status}_n", 0),
            }
        )
    closed = [
        {
            "status": status,
            "label": LeadStatus(status).label,
            "count": figures[status],
            "url": list_url("leads:list", {**base, "entered": status}),
        }
        for status in CLOSED_STATUSES
    ]
    return {"steps": steps, "closed": closed}


def _sees_every_lead_of(officer: Officer, f: CockpitFilters) -> bool:
    """Whether ``officer`` sees every lead of the cockpit's units, not narrowed by industry,
    region or channel, and reads days in the bureau's zone: the summaries' condition (they
    are kept per unit and by the bureau's calendar)."""
    if any(f.narrowing.values()) or timezone.get_current_timezone_name() != settings.TIME_ZONE:
        return False
    scope = scope_for(officer)
    if scope.is_everything:
        return True
    if scope.own_records_only or scope.unit_ids is None or f.unit is None:
        return False
    return f.unit.pk in scope.unit_ids


def _funnel_from_summary_applies(officer: Officer, f: CockpitFilters) -> bool:
    """Whether ``funnel`` asks the funnel's summary (a calendar period or a current year to
    date, ``summary_funnel.may_read``, for an officer who sees every lead of the units); the
    cockpit orders its reads by it."""
    return _sees_every_lead_of(officer, f) and may_read(f.period.start, f.period.end, f.today)


def funnel(
    officer: Officer,
    f: CockpitFilters,
    units: Sequence[Unit] = (),
    own: Sequence[Unit] = (),
) -> dict[str, Any]:
    """The period's lead funnel (definition: :mod:`promo.dashboard.funnel`) for the whole
    scope, honouring every cockpit filter, with ``by_unit``: the figures of each listed unit
    (its sub-tree) and own unit (its own leads), by unit id, for the rows. One query: from the
    funnel's summary for a calendar month, quarter or year (or a year to date) when the
    officer sees every lead of the units (:mod:`.summary_funnel`), else from the leads."""
    figures = None
    if _funnel_from_summary_applies(officer, f):
        # A calendar month, quarter or year (or a year to date) from the funnel's summary.
        figures = funnel_from_summary(f.period.start, f.period.end, units, own, f.unit)
    if figures is None:
        figures = funnel_counts(
            _lead_filters(leads_visible_to(officer), f), f.period.start, f.period.end, units, own
        )
    return {
        **_funnel_cells(figures[TOTAL], f, f.unit),
        "by_unit": {key: value for key, value in figures.items() if key is not TOTAL},
    }


def time_to_signing(officer: Officer, f: CockpitFilters) -> dict[str, Any]:
    """Days from first contact and from first site inspection to signing, for leads signed
    in the period: median and fastest (the seeds celebrate a 16-day signing). The counts
    link to the signed leads with that date (``contact_url``, ``inspection_url``)."""
    signed = _lead_filters(leads_visible_to(officer), f).filter(
        signed_on__gte=f.period.start, signed_on__lte=f.period.end
    )
    contact = DaysBetween("signed_on", "first_contact_on")
    inspection = DaysBetween("signed_on", "first_inspection_on")
    # A duration only where the date came on or before the signing: a contact or inspection
    # logged after it (a follow-up visit) is no step towards it and would count negative days.
    has_contact = Q(first_contact_on__isnull=False, first_contact_on__lte=F("signed_on"))
    has_inspection = Q(first_inspection_on__isnull=False, first_inspection_on__lte=F("signed_on"))
    timing = signed.aggregate(
        contact_n=Count("pk", filter=has_contact),
        contact_median=Median(contact, filter=has_contact),
        contact_fastest=Min(contact, filter=has_contact),
        inspection_n=Count("pk", filter=has_inspection),
        inspection_median=Median(inspection, filter=has_inspection),
        inspection_fastest=Min(inspection, filter=has_inspection),
    )
    base = {
        **_lead_list_params(f, f.unit),
        "signed_on_after": f.period.start.isoformat(),
        "signed_on_before": f.period.end.isoformat(),
    }
    timing["contact_url"] = list_url("leads:list", {**base, "first_contact_by_signing": "true"})
    timing["inspection_url"] = list_url(
        "leads:list", {**base, "first_inspection_by_signing": "true"}
    )
    return timing


def overdue_milestones(officer: Officer, f: CockpitFilters) -> list[Project]:
    """The most overdue milestones first (节点逾期), at most OVERDUE_ROWS."""
    # Late: the next milestone's planned date has passed (overdue_q's rule, stated on the
    # indexed expression so the most overdue are read in order).
    rows = list(
        _project_filters(projects_visible_to(officer), f)
        .annotate(due_on=next_milestone_due())
        .filter(due_on__lt=f.today)
        .select_related("unit")
        .order_by("due_on", "pk")[:OVERDUE_ROWS]
    )
    for project in rows:
        project.days_overdue = (f.today - project.due_on).days
        project.next_label = {
            Stage.SIGNED: Stage.GROUNDBREAKING.label,
            Stage.GROUNDBREAKING: Stage.COMPLETED.label,
            Stage.COMPLETED: Stage.PRODUCING.label,
        }[project.stage]
    return rows


def _red_alerts(
    officer: Officer, f: CockpitFilters, *, unit_ids_first: bool = False
) -> QuerySet[Alert]:
    qs = alerts_visible_to(officer).filter(level=AlertLevel.RED, project__isnull=False)
    if f.unit is not None:
        # The count reads the sub-tree's ids first: joined to its unit, every red alert of a
        # province (157,205 open) cost 16.7-18.3 ms, by id 9.7-11.1. The list of the oldest
        # 20 keeps the join, which walks the index in order and stops (3.4 ms, by id 5.1-6.1).
        qs = qs.filter(_in_subtree(f.unit, unit_ids_first=unit_ids_first))
    return qs


def red_projects(officer: Officer, f: CockpitFilters) -> list[Alert]:
    """Projects with a red light still lit (红灯, from the reports app's daily rules), oldest first."""
    return list(
        _red_alerts(officer, f).select_related("project").order_by("opened_on", "pk")[:OVERDUE_ROWS]
    )


def red_count(officer: Officer, f: CockpitFilters, shown: Sequence[Alert]) -> int:
    """How many red lights there are: those shown, unless the table is full (then counted)."""
    if len(shown) < OVERDUE_ROWS:
        return len(shown)
    return _red_alerts(officer, f, unit_ids_first=True).count()


def red_project_figure(officer: Officer, f: CockpitFilters) -> dict[str, Any]:
    """The headline's 红灯项目: how many projects of the scope have a red light today (the
    reports' one rule, ``project_light_q``) and the project list of exactly those
    (``light=red`` with the cockpit's unit, industry, region and channel). A light is today's
    state, so the period does not narrow it. One query, the unit's ids read first (at
    province the bureau's 48,040 red projects of 60,000, each joined to its unit: 110-159 ms;
    matched by id: ~70 ms)."""
    count = (
        _project_filters(projects_visible_to(officer), f, unit_ids_first=True)
        .filter(project_light_q(AlertLevel.RED))
        .order_by()
        .count()
    )
    url = list_url("projects:list", {**_project_list_params(f, f.unit), "light": "red"})
    return {"count": count, "url": url}


def monthly_trend(officer: Officer, f: CockpitFilters) -> dict[str, Any]:
    """Signings per month of the period's year against the same month last year (one query).

    Read from the month sums (驾驶舱月汇总: the signings by contract date and their amount, the
    rule ``period_figures`` states) unless the cockpit is narrowed by industry, region or
    channel, which the sums have no dimension for: then counted from the projects. The cockpit
    is shown to those who see the whole of the unit it is on (or of the bureau), so the unit's
    sub-tree is the officer's set, as for the table's figures (``cockpit_figures_over``)."""
    year = f.period.year
    rows: QuerySet
    if any(f.narrowing.values()):
        rows = (
            _project_filters(projects_visible_to(officer), f)
            .filter(contract_date__gte=date(year - 1, 1, 1), contract_date__lte=date(year, 12, 31))
            .annotate(month=TruncMonth("contract_date"))
            .values("month")
            .order_by("month")
            .annotate(
                n=Count("pk"),
                amount=Coalesce(Sum("signed_investment"), ZERO, output_field=_MONEY),
            )
        )
    else:
        rows = MonthlyUnitFigure.objects.filter(
            figure=Figure.SIGNED_COUNT,
            month__gte=date(year - 1, 1, 1),
            month__lte=date(year, 12, 1),
        )
        if f.unit is not None:
            rows = rows.filter(unit__path__startswith=f.unit.path)
        rows = (
            rows.values("month")
            .order_by("month")
            .annotate(n=Sum("count"), amount=Sum("amount", output_field=_MONEY))
        )
    by_month = {(r["month"].year, r["month"].month): r for r in rows}

    def series(y: int, key: str) -> list[float]:
        return [float(by_month.get((y, m), {}).get(key, 0)) for m in range(1, 13)]

    return {
        "months": [f"{m}月" for m in range(1, 13)],
        "year": year,
        "count": series(year, "n"),
        "count_last": series(year - 1, "n"),
        "amount": series(year, "amount"),
        "amount_last": series(year - 1, "amount"),
    }


def _target_links(f: CockpitFilters, ytd: Period, unit: Unit | None) -> dict[str, str]:
    """``{metric: URL}`` of the year-to-date list behind a target's completion, where a list
    can express it (not the ≥ 100M signings by signed amount, nor the arrived FDI)."""
    start, end = ytd.start.isoformat(), ytd.end.isoformat()
    projects = _project_list_params(f, unit)
    signed = list_url(
        "projects:list", {**projects, "contract_date_after": start, "contract_date_before": end}
    )
    return {
        TargetMetric.SIGNED_COUNT: signed,
        TargetMetric.SIGNED_AMOUNT: signed,
        TargetMetric.KEY_PROJECT_COUNT: list_url(
            "projects:list",
            {
                **projects,
                "contract_date_after": start,
                "contract_date_before": end,
                "signed_investment_min": HUNDRED_MILLION,
            },
        ),
        TargetMetric.FDI_ARRIVED: list_url(
            "projects:list",
            {**projects, "progress_month_after": start, "progress_month_before": end},
        ),
        TargetMetric.GROUNDBREAKING_COUNT: list_url(
            "projects:list",
            {**projects, "groundbreaking_actual_after": start, "groundbreaking_actual_before": end},
        ),
        TargetMetric.VALID_LEAD_COUNT: list_url(
            "leads:list",
            {**_lead_list_params(f, unit), "qualified_on_after": start, "qualified_on_before": end},
        ),
    }


# The figure whose value is the count of the list a target's completion links to.
_TARGET_COUNT = {
    TargetMetric.SIGNED_COUNT: Figure.SIGNED_COUNT,
    TargetMetric.SIGNED_AMOUNT: Figure.SIGNED_COUNT,
    TargetMetric.KEY_PROJECT_COUNT: Figure.HUNDRED_MILLION_COUNT,
    TargetMetric.GROUNDBREAKING_COUNT: Figure.GROUNDBREAKING_COUNT,
    TargetMetric.VALID_LEAD_COUNT: Figure.VALID_LEADS,
}


def _targets(f: CockpitFilters, ytd_period: Period, rows: list[UnitRow]) -> None:
    """Annual targets of the listed units (one query), with completion from 1 January."""
    ids = [r.unit.pk for r in rows if r.unit is not None]
    if not ids:
        return
    targets: dict[int, list[Target]] = {}
    for target in Target.objects.filter(
        year=f.period.year, unit_id__in=ids, officer__isnull=True
    ).order_by("metric"):
        targets.setdefault(target.unit_id, []).append(target)
    for row in rows:
        if row.unit is None or row.ytd is None or row.is_own:
            continue
        links = _target_links(f, ytd_period, f.unit if row.is_total else row.unit)
        for target in targets.get(row.unit.pk, []):
            done = row.ytd.get(TARGET_FIGURE[target.metric])
            percent = Decimal(done) * 100 / target.value if target.value else None
            if target.metric == TargetMetric.FDI_ARRIVED:
                # The list of the projects it sums (those reporting progress this year).
                count = row.projects.get("fdi_reporting_ytd")
            else:
                counted = _TARGET_COUNT.get(target.metric)
                count = row.ytd.get(counted) if counted else None
            row.targets.append(
                {
                    "metric": target.metric,
                    "label": TargetMetric(target.metric).label,
                    "target": target.value,
                    "done": done,
                    "percent": percent,
                    "bar": min(percent, Decimal(100)) if percent is not None else 0,
                    "url": links.get(target.metric),
                    "count": count,
                }
            )


# --- The headline band (issue 17): the target metrics against the plan, at a glance ---------

# A metric is on plan (green, 达标) when its completion of the annual target is at least the
# share of the year gone by the band's last day; behind (amber, 落后) when it is at least
# AMBER_SHARE of that share; far behind (red, 严重落后) below. No target, no mark.
AMBER_SHARE = Decimal("0.8")
MARK_GREEN, MARK_AMBER, MARK_RED, MARK_NONE = "green", "amber", "red", "none"
# Amounts among the target metrics, and their currency (foreign capital is in 万美元).
_TARGET_AMOUNTS = {TargetMetric.SIGNED_AMOUNT: "cny", TargetMetric.FDI_ARRIVED: "usd"}
WORST_UNITS = 3
# The tiles' headings: the metric without its unit (the headline amount carries it).
HEADLINE_LABELS = {
    TargetMetric.SIGNED_COUNT: _("新签约项目"),
    TargetMetric.SIGNED_AMOUNT: _("签约总投资"),
    TargetMetric.KEY_PROJECT_COUNT: _("亿元以上签约项目"),
    TargetMetric.GROUNDBREAKING_COUNT: _("新开工项目"),
    TargetMetric.FDI_ARRIVED: _("实际到账外资"),
    TargetMetric.VALID_LEAD_COUNT: _("新增有效信息"),
}
# The figures the tiles compare with the same days of last year (the only ones read for it).
HEADLINE_FIGURES = frozenset(TARGET_FIGURE[metric] for metric in TargetMetric.values)
_VISITORS = frozenset({Figure.INVESTORS_VISITING})
_FIGURES_BUT_VISITORS = frozenset(Figure.values) - _VISITORS


def elapsed_percent(day: date) -> Decimal:
    """The share of ``day``'s year gone by the end of ``day``, in percent (1 Jan: 1/365)."""
    first = date(day.year, 1, 1)
    days = (date(day.year + 1, 1, 1) - first).days
    return Decimal((day - first).days + 1) * 100 / days


def plan_mark(percent: Decimal | None, elapsed: Decimal) -> str:
    """green / amber / red for a completion ``percent`` when ``elapsed`` % of the year is gone."""
    if percent is None:
        return MARK_NONE
    if percent >= elapsed:
        return MARK_GREEN
    if percent >= elapsed * AMBER_SHARE:
        return MARK_AMBER
    return MARK_RED


def headline(
    f: CockpitFilters, ytd: Period, total: UnitRow, ytd_last_year: PeriodFigures
) -> dict[str, Any]:
    """The band's tiles: each target metric of the scope's total, year to date (the targets
    are annual), beside its target, completion, the same days of last year and a plan mark.

    Derived from the total row the tables already hold (its ``ytd`` figures and ``targets``),
    so the band costs no query of its own; each tile links to the list its completion counts
    (the target table's links), with that list's count.
    """
    elapsed = elapsed_percent(ytd.end)
    targets = {t["metric"]: t for t in total.targets}
    links = _target_links(f, ytd, f.unit)
    tiles = []
    for metric in TargetMetric.values:
        figure = TARGET_FIGURE[metric]
        done = total.ytd.get(figure) if total.ytd is not None else 0
        before = ytd_last_year.get(figure)
        target = targets.get(metric)
        percent = target["percent"] if target is not None else None
        gap = percent - elapsed if percent is not None else None
        if metric == TargetMetric.FDI_ARRIVED:
            count = total.projects.get("fdi_reporting_ytd")
        else:
            count = total.ytd.get(_TARGET_COUNT[metric]) if total.ytd is not None else None
        tiles.append(
            {
                "metric": metric,
                "done": done,
                "last_year": before,
                "change": _change(done, before),
                "target": target["target"] if target is not None else None,
                "percent": percent,
                "bar": min(percent, Decimal(100)) if percent is not None else 0,
                # Percentage points ahead of (+) or behind (−) the share of the year gone.
                "gap": gap,
                "gap_signed": f"{gap:+.1f}" if gap is not None else "",
                "mark": plan_mark(percent, elapsed),
                "url": links.get(metric),
                "count": count,
                "currency": _TARGET_AMOUNTS.get(metric),
            }
        )
    return {"start": ytd.start, "end": ytd.end, "elapsed": elapsed, "tiles": tiles}


def worst_units(scores: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lowest-scoring units (功效系数法 total, year to date), worst first: at most
    WORST_UNITS and never every unit (with one unit, or two, nobody is "the worst three")."""
    ranked = sorted(scores, key=lambda score: score["total"])
    return [
        {
            "unit_id": score["row"].unit.pk,
            "name": score["row"].name,
            "total": score["total"],
            "rank": score["rank"],
        }
        for score in ranked[: min(WORST_UNITS, len(ranked) - 1)]
    ]


def cockpit(officer: Officer, f: CockpitFilters) -> dict[str, Any]:
    """Everything the cockpit page shows, in a fixed number of queries, every figure
    narrowed by the industry / region / channel filters."""
    units = row_units(officer, f.unit)
    own = own_units(f.unit)
    # The total's unit: the chosen one, or the bureau (its one root; None if there are several).
    total_unit = f.unit if f.unit is not None else (own[0] if len(own) == 1 else None)
    total_keys: list[Unit] | None = [f.unit] if f.unit is not None else None

    narrowed = any(f.narrowing.values())

    def figures(*periods: Period, only: Collection[str]) -> list[tuple[dict, dict]]:
        if not narrowed:
            # The additive figures from the daily summary, the others raw (.summary): every
            # period in the same few statements.
            return cockpit_figures_over(
                [(p.start, p.end) for p in periods],
                units=units,
                own_units=own,
                total=total_keys,
                figures=only,
            )
        # Narrowed by industry, region or channel: the summary has no such dimension.
        return [
            (
                period_figures(
                    start=p.start,
                    end=p.end,
                    units=units,
                    own_units=own,
                    figures=only,
                    **f.narrowing,
                ),
                period_figures(
                    start=p.start, end=p.end, units=total_keys, figures=only, **f.narrowing
                ),
            )
            for p in periods
        ]

    ytd_start = date(f.period.year, 1, 1)
    is_ytd = f.period.kind == PeriodKind.YTD and f.period.start == ytd_start
    # A period in a later year than today has done nothing yet: its "year to date" is its
    # 1 January alone (not a range ending before it starts).
    ytd_period = (
        f.period
        if is_ytd
        else Period(PeriodKind.YTD, ytd_start, max(min(f.period.end, f.today), ytd_start))
    )

    # The rows' periods: the chosen one, the same days of last year, the year to date.
    periods = (
        (f.period, f.period.last_year) if is_ytd else (f.period, f.period.last_year, ytd_period)
    )

    def period_reads() -> tuple[list[tuple[dict, dict]], Any]:
        """The figures but the distinct visitors, and the band's last year to date."""
        read = figures(*periods, only=_FIGURES_BUT_VISITORS)
        if is_ytd:
            return read, read[1][1]
        # The band compares the year to date with the same days of last year: the total
        # alone and the band's figures alone, when the period is not the year to date.
        last = ytd_period.last_year
        if narrowed:
            ytd_last_year = period_figures(
                start=last.start,
                end=last.end,
                units=total_keys,
                figures=HEADLINE_FIGURES,
                **f.narrowing,
            )
        else:
            ytd_last_year = cockpit_figures_over(
                [(last.start, last.end)],
                units=[],
                own_units=[],
                total=total_keys,
                figures=HEADLINE_FIGURES,
            )[0][1]
        return read, ytd_last_year

    def other_reads() -> dict[str, Any]:
        red = red_projects(officer, f)
        return {
            "time_to_signing": time_to_signing(officer, f),
            "overdue": overdue_milestones(officer, f),
            "red_projects": red,
            "red_count": red_count(officer, f, red),
            "red_headline": red_project_figure(officer, f),
            "trend": monthly_trend(officer, f),
            # 协议履约 as of today for the chosen unit, each figure linked to its list.
            "keeping": keeping_figures(officer, unit=f.unit),
        }

    # The independent reads side by side (promo.core.reads), the longest first; the distinct
    # visitors (one statement a period) apart from the other figures, to share the threads.
    # The funnel read from its summary (a few milliseconds): last; computed from the leads
    # (summary_funnel.may_read: a custom range, a year to date that ended before today), the
    # longest read: first.
    reads: list[Callable[[], Any]] = [
        period_reads,
        lambda: figures(*periods, only=_VISITORS),
        lambda: _project_snapshot(officer, f, units, ytd_period, own),
        other_reads,
    ]
    summarised = _funnel_from_summary_applies(officer, f)
    reads.insert(len(reads) if summarised else 0, lambda: funnel(officer, f, units, own))
    results = side_by_side(reads)
    lead_funnel = results.pop(len(results) - 1 if summarised else 0)
    (read, ytd_last_year), visitors, snapshot, others = results
    for (rows_read, totals_read), (rows_visiting, totals_visiting) in zip(
        read, visitors, strict=True
    ):
        for values, visiting in ((rows_read, rows_visiting), (totals_read, totals_visiting)):
            for key, figures_of in values.items():
                figures_of.investors_visiting = visiting[key].investors_visiting
    if is_ytd:
        (now, now_total), (before, before_total) = read
        ytd, ytd_total = now, now_total
    else:
        (now, now_total), (before, before_total), (ytd, ytd_total) = read

    rows = [
        UnitRow(
            unit=u,
            name=u.short_name or u.name,
            figures=now[u.pk],
            last_year=before[u.pk],
            ytd=ytd[u.pk],
        )
        for u in units
    ]
    own_rows = [
        UnitRow(
            unit=u,
            name=own_line_name(u),
            is_own=True,
            figures=now[u.pk],
            last_year=before[u.pk],
            ytd=ytd[u.pk],
        )
        for u in own
    ]
    total_key = f.unit.pk if f.unit is not None else None
    total = UnitRow(
        unit=total_unit,
        name=str(_("合计")),
        is_total=True,
        figures=now_total[total_key],
        last_year=before_total[total_key],
        ytd=ytd_total[total_key],
    )
    for row in [*rows, *own_rows]:
        row.cells = _figure_cells(row, f, row.unit)
    total.cells = _figure_cells(total, f, f.unit)

    for row in [*rows, *own_rows]:
        row.projects = _dress_snapshot(snapshot.get(row.unit.pk, _EMPTY_SNAPSHOT), row, f, row.unit)
    summed = {
        key: sum((values[key] for values in snapshot.values()), start=type(default)())
        for key, default in _EMPTY_SNAPSHOT.items()
    }
    total.projects = _dress_snapshot(summed, total, f, f.unit)
    _targets(f, ytd_period, [*rows, total])
    by_unit = lead_funnel.pop("by_unit")
    for row in [*rows, *own_rows]:
        row.funnel = _funnel_cells(
            by_unit.get(row.unit.pk, empty_figures()), f, row.unit, row.is_own
        )
    total.funnel = lead_funnel

    return {
        "rows": rows,
        "own_rows": own_rows,
        "total": total,
        "figure_labels": [Figure(figure).label for figure in COCKPIT_FIGURES],
        "funnel": lead_funnel,
        "headline": headline(f, ytd_period, total, ytd_last_year[total_key]),
        **others,
    }
