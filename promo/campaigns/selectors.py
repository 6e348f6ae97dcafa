"""Reads of the campaigns app: who sees which campaign, and the league table (排行榜).

Counting rules:

* **Units** are the active first-level units under the campaign's unit, each counting its
  sub-tree, with the figures of :func:`promo.reports.selectors.period_figures` over the
  campaign window ``[start, min(end, today)]`` (its rules: signings by contract date, valid
  leads by the date qualified, in hand / in negotiation at the window's end…). ``visits`` is
  the number of visits logged by the unit's sub-tree in the window.
* **Officers** (招商干部 and 单位负责人 of the campaign's sub-tree) are credited with what
  they lead as 主办 (officers.Assignment): projects signed in the window (count, amount,
  ≥ 10M / ≥ 100M by the signed amount), projects that broke ground in the window, leads
  qualified (有效) in the window; and with the visits they logged (登记人) in the window.
  Other figures are unit figures only; officers are ranked on the campaign's metrics that
  can be credited to one person, with the same weights.
* **Scores**: each metric scaled by the efficacy-coefficient method of the cockpit
  (:func:`promo.dashboard.scoring.efficacy_scores`, worst 60, best 100), weighted and
  averaged; equal scores share a rank. No deductions: a race counts what was done in it.

A fixed number of queries whatever the number of units or officers (the tests pin it).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads.models import Visit
from officers import permissions
from officers.choices import AssignmentRole, Role
from officers.models import Assignment, Officer, Unit, tree_order
from officers.selectors import scope_for
from projects.choices import HUNDRED_MILLION, TEN_MILLION
from promo.dashboard.scoring import efficacy_scores
from promo.dashboard.selectors import list_url
from promo.reports.choices import AMOUNT_FIGURES, Figure
from promo.reports.selectors import grouped_by_subtree, period_figures

from .choices import OFFICER_FIGURES, VISITS, CampaignFigure
from .models import Campaign

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
_MONEY: DecimalField = DecimalField(max_digits=16, decimal_places=2)
RANKED_ROLES = (Role.OFFICER, Role.UNIT_HEAD)
PROJECT_FIGURES = (
    Figure.SIGNED_COUNT,
    Figure.SIGNED_AMOUNT,
    Figure.TEN_MILLION_COUNT,
    Figure.HUNDRED_MILLION_COUNT,
    Figure.GROUNDBREAKING_COUNT,
)

# --- visibility -----------------------------------------------------------------------------


def campaigns_visible_to(officer: Officer) -> QuerySet[Campaign]:
    """Campaigns an officer may open.

    Chiefs and administrators: all of them. Anyone else with a unit (unit heads and ordinary
    officers alike): the active campaigns that cover their unit — a league table is meant to
    be seen by those racing in it (你追我赶) — and those run inside their own sub-tree.
    Department submitters and officers outside the campaign's sub-tree see nothing of it.
    """
    scope = scope_for(officer)
    qs = Campaign.objects.select_related("unit")
    if scope.is_everything:
        return qs
    if not permissions.may_read_campaigns(officer) or scope.unit_ids is None:
        return qs.none()
    covers_me = Exists(
        Unit.objects.filter(pk=officer.unit_id, path__startswith=OuterRef("unit__path"))
    )
    return qs.filter(is_active=True).filter(covers_me | Q(unit_id__in=scope.unit_ids))


# --- the window -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    today: date

    @property
    def started(self) -> bool:
        return self.today >= self.start

    @property
    def finished(self) -> bool:
        return self.today > self.end

    @property
    def counted_end(self) -> date:
        """The last day counted: the end, or today while the race runs."""
        return min(self.end, self.today)

    @property
    def days_total(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def days_elapsed(self) -> int:
        if not self.started:
            return 0
        return (self.counted_end - self.start).days + 1

    @property
    def days_left(self) -> int:
        return self.days_total - self.days_elapsed

    @property
    def status(self) -> str:
        if not self.started:
            return "upcoming"
        return "finished" if self.finished else "running"

    @property
    def percent(self) -> int:
        return round(100 * self.days_elapsed / self.days_total)


# --- the league table -----------------------------------------------------------------------


def competing_units(campaign: Campaign) -> list[Unit]:
    """The active first-level units under the campaign's unit (the unit itself if it has none)."""
    units = list(
        Unit.objects.filter(parent_id=campaign.unit_id, is_active=True).order_by(tree_order())
    )
    return units or [campaign.unit]


def _unit_visits(start: date, end: date, units: Sequence[Unit]) -> dict[int, int]:
    """Visits logged in ``[start, end]`` per unit sub-tree: one grouped query."""
    rows = grouped_by_subtree(
        Visit.objects.filter(visited_on__gte=start, visited_on__lte=end),
        "unit",
        units,
        {"n": Count("pk")},
    )
    return {unit_id: row["n"] for unit_id, row in rows.items()}


def unit_figures(campaign: Campaign, window: Window, units: Sequence[Unit], figures: Sequence[str]):
    """``{unit id: {figure: value}}`` over the counted window."""
    start, end = window.start, window.counted_end
    per_unit = period_figures(start=start, end=end, units=units)
    values = {u.pk: per_unit[u.pk].as_dict() for u in units}
    if VISITS in figures:
        visits = _unit_visits(start, end, units)
        for u in units:
            values[u.pk][VISITS] = visits.get(u.pk, 0)
    return values


def ranked_officers(campaign: Campaign) -> list[Officer]:
    return list(
        Officer.objects.filter(
            is_active=True,
            role__in=RANKED_ROLES,
            unit__path__startswith=campaign.unit.path,
        )
        .select_related("unit")
        .order_by(tree_order("unit__path"), "pk")
    )


def officer_figures(
    window: Window, officers: Sequence[Officer], figures: Sequence[str]
) -> dict[int, dict[str, Any]]:
    """``{officer id: {figure: value}}``: at most three grouped queries (projects as 主办,
    leads as 主办, visits logged), whatever the number of officers."""
    ids = [o.pk for o in officers]
    values: dict[int, dict[str, Any]] = {
        pk: {f: (ZERO if f in AMOUNT_FIGURES else 0) for f in figures} for pk in ids
    }
    if not ids:
        return values
    start, end = window.start, window.counted_end
    lead_role = Assignment.objects.filter(role=AssignmentRole.LEAD, officer_id__in=ids)
    if any(f in PROJECT_FIGURES for f in figures):
        signed = Q(project__contract_date__gte=start, project__contract_date__lte=end)
        broke_ground = Q(
            project__groundbreaking_actual__gte=start, project__groundbreaking_actual__lte=end
        )
        rows = (
            lead_role.filter(project__isnull=False)
            .filter(signed | broke_ground)
            .values("officer_id")
            .order_by()
            .annotate(
                signed_count=Count("project", filter=signed),
                signed_amount=Coalesce(
                    Sum("project__signed_investment", filter=signed), ZERO, output_field=_MONEY
                ),
                ten_million_count=Count(
                    "project", filter=signed & Q(project__signed_investment__gte=TEN_MILLION)
                ),
                hundred_million_count=Count(
                    "project", filter=signed & Q(project__signed_investment__gte=HUNDRED_MILLION)
                ),
                groundbreaking_count=Count("project", filter=broke_ground),
            )
        )
        for row in rows:
            for figure in PROJECT_FIGURES:
                if figure in values[row["officer_id"]]:
                    values[row["officer_id"]][figure] = row[figure]
    if Figure.VALID_LEADS in figures:
        rows = (
            lead_role.filter(lead__qualified_on__gte=start, lead__qualified_on__lte=end)
            .values("officer_id")
            .order_by()
            .annotate(n=Count("lead"))
        )
        for row in rows:
            values[row["officer_id"]][Figure.VALID_LEADS] = row["n"]
    if VISITS in figures:
        rows = (
            Visit.objects.filter(visited_on__gte=start, visited_on__lte=end, created_by_id__in=ids)
            .values("created_by_id")
            .order_by()
            .annotate(n=Count("pk"))
        )
        for row in rows:
            values[row["created_by_id"]][VISITS] = row["n"]
    return values


def _metric_columns(weights: dict[str, Decimal]) -> list[dict[str, Any]]:
    return [
        {"figure": f, "label": CampaignFigure(f).label, "weight": w} for f, w in weights.items()
    ]


def _ranked_rows(
    subjects: Sequence[Any], values: dict[int, dict[str, Any]], weights: dict[str, Decimal]
) -> list[dict[str, Any]]:
    by_key = {s.pk: s for s in subjects}
    ranked = efficacy_scores({pk: values[pk] for pk in by_key}, weights)
    return [
        {
            "rank": score.rank,
            "subject": by_key[score.key],
            "total": score.total,
            "cells": [
                {
                    "figure": figure,
                    "value": values[score.key].get(figure, 0),
                    "score": score.metric_scores[figure],
                    "is_amount": figure in AMOUNT_FIGURES,
                    "url": None,
                }
                for figure in weights
            ],
        }
        for score in ranked
    ]


def league(campaign: Campaign, *, today: date) -> dict[str, Any]:
    """The league table of one campaign, the same for every viewer (links come later)."""
    window = Window(campaign.start, campaign.end, today)
    weights = {m.figure: m.weight for m in campaign.metrics.all()}
    officer_weights = {f: w for f, w in weights.items() if f in OFFICER_FIGURES}
    table: dict[str, Any] = {
        "window": window,
        "metrics": _metric_columns(weights),
        "officer_metrics": _metric_columns(officer_weights),
        "units": [],
        "officers": [],
        "officers_ranked": bool(campaign.rank_officers and officer_weights),
    }
    if not window.started or not weights:
        return table
    units = competing_units(campaign)
    table["units"] = _ranked_rows(units, unit_figures(campaign, window, units, weights), weights)
    if table["officers_ranked"]:
        officers = ranked_officers(campaign)
        values = officer_figures(window, officers, list(officer_weights))
        table["officers"] = _ranked_rows(officers, values, officer_weights)
    return table


def _cache_key(campaign: Campaign, today: date) -> str:
    raw = f"{campaign.pk}|{campaign.updated_at.isoformat()}|{today}"
    return "campaigns:league:v2:" + hashlib.sha256(raw.encode()).hexdigest()


def _read_key(campaign_pk: int) -> str:
    return f"campaigns:league:read:{campaign_pk}"


def _compute_and_share(campaign: Campaign, today: date, seconds: int) -> dict[str, Any]:
    table = league(campaign, today=today)
    table["as_of"] = timezone.now()
    # Kept twice the serving age: a refresh replaces it before a reader finds it too old.
    cache.set(_cache_key(campaign, today), table, seconds * 2)
    return table


def league_cached(campaign: Campaign, *, today: date) -> dict[str, Any]:
    """:func:`league`, at most ``PROMO_DASHBOARD_CACHE_SECONDS`` old (a minute by default),
    the same rule as the cockpit's summary table (promo/dashboard/snapshots.py).

    The screen refreshes every minute on every display; the figures are computed once, and
    a campaign read in the last ``PROMO_DASHBOARD_HOT_MINUTES`` is recomputed by Celery
    (``refresh_campaign_leagues``) at half that age, so no reader waits for it (about 3.4 s
    at province scale). Without Redis every request computes.
    """
    seconds = getattr(settings, "PROMO_DASHBOARD_CACHE_SECONDS", 0)
    if seconds <= 0:
        table = league(campaign, today=today)
        table["as_of"] = timezone.now()
        return table
    try:
        cache.set(_read_key(campaign.pk), 1, settings.PROMO_DASHBOARD_HOT_MINUTES * 60)
        hit = cache.get(_cache_key(campaign, today))
    except Exception:  # Redis away: compute rather than fail the page or the screen.
        log.warning("campaign league cache unavailable; computing", exc_info=True)
        table = league(campaign, today=today)
        table["as_of"] = timezone.now()
        return table
    if hit is not None and hit["as_of"] >= timezone.now() - timedelta(seconds=seconds):
        return hit
    return _compute_and_share(campaign, today, seconds)


def refresh_due_leagues(today: date) -> int:
    """Recompute the league tables read recently once they are half their allowed age (or
    gone); returns how many were computed."""
    seconds = getattr(settings, "PROMO_DASHBOARD_CACHE_SECONDS", 0)
    if seconds <= 0:
        return 0
    done = 0
    half = timezone.now() - timedelta(seconds=seconds / 2)
    for campaign in Campaign.objects.all():
        if cache.get(_read_key(campaign.pk)) is None:
            continue  # nobody is looking at it
        hit = cache.get(_cache_key(campaign, today))
        if hit is not None and hit["as_of"] > half:
            continue
        _compute_and_share(campaign, today, seconds)
        done += 1
    return done


# --- links ----------------------------------------------------------------------------------


# Which numbers the list pages can express exactly, for one unit's sub-tree:
# * in hand / in negotiation: the lead list's current statuses while the race runs (the
#   stock at the window's end is the stock today), or its ``*_as_of`` filters when it has them;
# * signings and groundbreakings: the project list's date ranges, when the project list
#   applies them (it names the filters it applies in ``projects.views.LIST_FILTERS``).
# * valid leads: the lead list by qualification date; visits logged: the visit log by date;
#   来区客商: the visiting-investor list.
# * ≥ 10M / ≥ 100M signings: the project list's contract dates with 签约总投资不少于.
# Other window counts (completions, production) have no list that can date them: shown
# without a link. Amounts link nowhere (a list counts rows).
_LEAD_LIST_STATUS = {
    Figure.LEADS_IN_HAND: ("in_hand_as_of", ["valid", "negotiating"]),
    Figure.LEADS_NEGOTIATING: ("negotiating_as_of", ["negotiating"]),
}
_PROJECT_LIST_RANGE = {
    Figure.SIGNED_COUNT: "contract_date",
    Figure.TEN_MILLION_COUNT: "contract_date",
    Figure.HUNDRED_MILLION_COUNT: "contract_date",
    Figure.GROUNDBREAKING_COUNT: "groundbreaking_actual",
}
# The size classes count signings by the amount signed (promo.reports.selectors).
_PROJECT_LIST_MINIMUM = {
    Figure.TEN_MILLION_COUNT: TEN_MILLION,
    Figure.HUNDRED_MILLION_COUNT: HUNDRED_MILLION,
}


def _list_capabilities() -> tuple[frozenset[str], frozenset[str]]:
    from leads.filters import LeadFilter
    from projects import views as project_views

    return (
        frozenset(LeadFilter.base_filters),
        frozenset(getattr(project_views, "LIST_FILTERS", ())),
    )


def _cell_url(figure: str, unit: Unit, window: Window, lead_filters, project_filters):
    if figure == Figure.INVESTORS_VISITING:  # 来区客商: the same sub-tree and window
        counted = {"visited_on_after": window.start, "visited_on_before": window.counted_end}
        return list_url("leads:visiting_investors", {"visit_unit": unit.pk, **counted})
    if figure == VISITS:  # visits logged by the sub-tree in the window
        counted = {"visited_on_after": window.start, "visited_on_before": window.counted_end}
        return list_url("leads:visit_list", {"unit": unit.pk, **counted})
    if figure == Figure.VALID_LEADS and "qualified_on" in lead_filters:  # qualified in window
        counted = {"qualified_on_after": window.start, "qualified_on_before": window.counted_end}
        return list_url("leads:list", {"unit": unit.pk, **counted})
    if figure in _LEAD_LIST_STATUS:
        as_of, statuses = _LEAD_LIST_STATUS[figure]
        if as_of in lead_filters:
            return list_url("leads:list", {"unit": unit.pk, as_of: window.counted_end.isoformat()})
        if window.counted_end >= window.today:
            return list_url("leads:list", {"unit": unit.pk, "status": statuses})
        return None
    field = _PROJECT_LIST_RANGE.get(figure)
    minimum = _PROJECT_LIST_MINIMUM.get(figure)
    needed = {"unit", field} | ({"signed_investment_min"} if minimum is not None else set())
    if field and needed <= project_filters:
        return list_url(
            "projects:list",
            {
                "unit": unit.pk,
                f"{field}_after": window.start.isoformat(),
                f"{field}_before": window.counted_end.isoformat(),
                "signed_investment_min": minimum,
            },
        )
    return None


def with_links(table: dict[str, Any], viewer: Officer) -> dict[str, Any]:
    """A copy of the table whose unit numbers link to the list behind them, where a list can
    express the same set and the viewer sees the unit's whole sub-tree."""
    window: Window = table["window"]
    if not table["units"]:
        return table
    scope = scope_for(viewer)
    lead_filters, project_filters = _list_capabilities()
    units = []
    for row in table["units"]:
        unit = row["subject"]
        sees_unit = scope.is_everything or (
            scope.unit_ids is not None and not scope.own_records_only and unit.pk in scope.unit_ids
        )
        cells = [
            {
                **cell,
                "url": _cell_url(cell["figure"], unit, window, lead_filters, project_filters)
                if sees_unit
                else None,
            }
            for cell in row["cells"]
        ]
        units.append({**row, "cells": cells})
    return {**table, "units": units}
