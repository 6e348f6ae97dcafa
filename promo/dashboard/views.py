"""The cockpit's pages: the dashboard (领导驾驶舱) and its XLSX downloads. Interfaces only."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from officers import permissions
from officers.models import tree_order
from officers.selectors import units_visible_to
from promo.core.db import reads_from_replica
from promo.core.exports import xlsx_download
from promo.core.services import today
from promo.reports.models import own_line_name

from . import exports, scoring
from .forms import DashboardFilterForm, PeriodKind, period_for
from .selectors import AMBER_SHARE, HEADLINE_LABELS, CockpitFilters, default_unit, worst_units
from .snapshots import cockpit_served

AMBER_SHARE_PERCENT = int(AMBER_SHARE * 100)


def _in_viewers_language(context: dict) -> dict:
    """Labels of a stored computation, in the language of whoever reads it now.

    The summary table is shared between chiefs (and filled by Celery in the default
    language), so words are put in at reading time, not kept with the figures.
    """
    context["total"].name = _("合计")
    for tile in context["headline"]["tiles"]:
        tile["label"] = str(HEADLINE_LABELS[tile["metric"]])
    for row in context["own_rows"]:
        row.name = own_line_name(row.unit)
    context["trend"] = {
        **context["trend"],
        "months": [date_format(date(2000, month, 1), "M") for month in range(1, 13)],
    }
    return context


def _filters(request: HttpRequest) -> tuple[DashboardFilterForm, CockpitFilters]:
    me = request.user
    if not permissions.may_read_cockpit(me):
        # Officers read their own lists; the cockpit ranks units and is for those who run them.
        raise PermissionDenied
    units = {u.pk: u for u in units_visible_to(me).filter(is_active=True).order_by(tree_order())}
    form = DashboardFilterForm(request.GET or None, units=units.values())
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    day = today()
    unit = units.get(data.get("unit")) if data.get("unit") else default_unit(me)
    period = period_for(
        data.get("period") or PeriodKind.YTD,
        data.get("on") or day,
        data.get("start"),
        data.get("end"),
    )
    filters = CockpitFilters(
        period=period,
        today=day,
        unit=unit,
        industry=data.get("industry", ""),
        region=data.get("region", ""),
        source_channel=data.get("source_channel", ""),
    )
    return form, filters


def _funnel_chart(funnel: dict) -> list[dict]:
    """The funnel chart's data (json_script): each stage's name, count and, from the second
    on, the conversion from the previous stage as the reader's language writes it."""
    data = []
    for step in funnel["steps"]:
        rate = step["conversion"]
        note = (
            ""
            if step is funnel["steps"][0]
            else _("转化率 %(rate)s")
            % {"rate": "—" if rate is None else f"{floatformat(rate, 1)}%"}
        )
        data.append({"name": str(step["label"]), "value": step["count"], "note": note})
    return data


@login_required
@require_GET
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    """The cockpit: the five counts per unit, funnel, targets, projects, what is late."""
    form, filters = _filters(request)
    context = _in_viewers_language(cockpit_served(request.user, filters))
    context["scores"] = scoring.rank_rows(context["rows"])
    query = request.GET.copy()
    # The worst units, each one click from its own cockpit (the same period and filters).
    worst = worst_units(context["scores"])
    for entry in worst:
        drill = request.GET.copy()
        drill["unit"] = str(entry["unit_id"])
        entry["url"] = f"{reverse('dashboard:index')}?{drill.urlencode()}"
    return render(
        request,
        "dashboard/dashboard.html",
        {
            **context,
            "form": form,
            "filters": filters,
            "query": query.urlencode(),
            "weights": scoring.weight_labels(),
            "headline_worst": worst,
            "amber_share": AMBER_SHARE_PERCENT,
            "funnel_chart": _funnel_chart(context["funnel"]),
        },
    )


@login_required
@require_GET
@reads_from_replica
def export(request: HttpRequest, table: str) -> HttpResponse:
    """One dashboard table as XLSX (amounts as numbers, so the office can sum them)."""
    if table not in exports.TABLES:
        raise Http404
    _form, filters = _filters(request)
    context = _in_viewers_language(cockpit_served(request.user, filters))
    context["scores"] = scoring.rank_rows(context["rows"])
    return xlsx_download(
        exports.sheets(table, context, filters), filename=exports.filename(table, filters)
    )
