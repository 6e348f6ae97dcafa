"""Officers' lists of visits: 走访记录 and 来区客商 (the investors received or inspecting).

Interfaces only, like the lead list (leads.views.lead_list): the rows come from the
visibility selectors, the filtering from the shared FilterSets (VisitFilter, InvestorFilter),
and a bad filter value is shown next to its field with an empty list, never a 500.
The 来区客商 list prints the cockpit's number: distinct investors with a reception or site
inspection in the period, logged in the chosen unit's sub-tree, narrowed by the same rules
as promo.reports.selectors.period_figures.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from leads.choices import VISITING_KINDS
from leads.filters import InvestorFilter
from leads.models import Investor, Visit
from leads.selectors import visit_list_for
from leads.views import PAGE_SIZE, officer_select, unit_select
from officers.selectors import scope_for
from promo.core.forms import PlainCheckboxes
from promo.core.paging import KeysetPage, deep_page_redirect, list_query


def _query(request: HttpRequest) -> str:
    """The list's filters, without its place in the list (page, cursors)."""
    return list_query(request.GET)


@login_required
@require_GET
def visit_list(request: HttpRequest) -> HttpResponse:
    """走访记录: the visits the officer may see, filtered by the shared VisitFilter."""
    me = request.user
    filterset, qs = visit_list_for(me, request.GET, request=request)
    form = filterset.form
    for name in ("kind", "industry", "source_channel", "investor_region"):
        form.fields[name].widget = PlainCheckboxes(choices=form.fields[name].choices)
    form.fields["unit"].widget = unit_select(me)
    form.fields["officer"].widget = officer_select(me)
    for name in ("lead", "source_system", "external_id", "updated_after"):
        form.fields.pop(name, None)
    # ``investor`` is an id that links fill in (a 来区客商 row's visits): kept, unseen, when
    # given; officers search by ``investor_name``.
    if request.GET.get("investor"):
        form.fields["investor"].widget = forms.HiddenInput()
    else:
        form.fields.pop("investor")
    # Newest first through index leads_visit_list_date_id; deep pages by cursor (issue #19).
    page = KeysetPage(qs, request.GET, per_page=PAGE_SIZE)
    if page.too_deep:
        return deep_page_redirect(request, page)
    if page.invalid:
        messages.error(request, _("翻页链接无效，已显示第一页。"))
    query = _query(request)
    return render(
        request,
        "leads/visit_list.html",
        {"filter_form": form, "page": page, "query": query, "filtered": bool(query)},
    )


# The 来区客商 page shows these of InvestorFilter's fields (the kinds are fixed).
_VISITING_FIELDS = (
    "visited_on",
    "visit_unit",
    "visit_without_subunits",
    "visit_industry",
    "region",
    "visit_source_channel",
    "q",
    "is_fortune_global_500",
    "is_china_top_500",
    "is_central_soe",
    "is_listed",
)


@login_required
@require_GET
def visiting_investor_list(request: HttpRequest) -> HttpResponse:
    """来区客商: distinct investors with a reception or site inspection matching the filters.

    The cockpit links here with ``visited_on_after/_before``, ``visit_unit``,
    ``visit_industry``, ``region`` and ``visit_source_channel``; the count printed is its
    number. Each row shows how many such visits the investor had and the last one's date.
    """
    me = request.user
    data = request.GET.copy()
    for name in ("page", "after", "before"):
        data.pop(name, None)
    data.setlist("visit_kind", list(VISITING_KINDS))
    # The cockpit counts the work of units: visits logged in the officer's units (its rows are
    # units the viewer sees whole). Every investor such a visit met is one the officer may
    # see (investors_visible_to: "met through a visit" of their units), so the investors are
    # not filtered again: its ORs of EXISTS cost a unit head seconds at province scale.
    scope = scope_for(me)
    visits = Visit.objects.filter(scope.unit_q()) if not scope.own_records_only else None
    base = Investor.objects.all() if visits is not None else Investor.objects.none()
    filterset = InvestorFilter(data, queryset=base, request=request, visits=visits)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else base.none()
    form = filterset.form
    for name in list(form.fields):
        if name not in _VISITING_FIELDS:
            form.fields.pop(name)
    form.order_fields(_VISITING_FIELDS)
    for name in ("visit_industry", "region", "visit_source_channel"):
        form.fields[name].widget = PlainCheckboxes(choices=form.fields[name].choices)
    form.fields["visit_unit"].widget = unit_select(me)
    # An exact count, unlike the other lists: it is the cockpit's number, and counting the
    # distinct investors of a hash of the period's visits (index leads_visit_visiting_by_date)
    # beat a bounded count's nested loop (about 110 ms for the province's year to date).
    # normalized_name + credit_code is a unique index: a stable order read in index order.
    # By name, id as the tie-breaker (index on normalized_name); deep pages by cursor.
    page = KeysetPage(
        qs, request.GET, per_page=PAGE_SIZE, order=("normalized_name", "id"), count=qs.count()
    )
    if page.too_deep:
        return deep_page_redirect(request, page)
    if page.invalid:
        messages.error(request, _("翻页链接无效，已显示第一页。"))
    investors = list(page.object_list)
    if investors and valid:
        # The page's visit counts and last dates: one grouped query over the same visits.
        stats = {
            row["investor_id"]: row
            for row in filterset.matching_visits()
            .filter(investor_id__in=[inv.pk for inv in investors])
            .values("investor_id")
            .order_by()
            .annotate(visits=Count("pk"), last_visit=Max("visited_on"))
        }
        for inv in investors:
            row = stats.get(inv.pk, {})
            inv.visit_count = row.get("visits", 0)
            inv.last_visit = row.get("last_visit")
    page.object_list = investors
    query = _query(request)
    return render(
        request,
        "leads/visiting_investor_list.html",
        {
            "filter_form": form,
            "page": page,
            "query": query,
            "filtered": bool(query),
            "visit_query": _visits_link_query(data),
        },
    )


def _visits_link_query(data) -> str:
    """The visit list's parameters for one investor's visits counted on this page."""
    out = data.copy()
    for name in list(out):
        if name not in (
            "visited_on_after",
            "visited_on_before",
            "visit_unit",
            "visit_without_subunits",
            "region",
        ):
            out.pop(name)
    if "visit_unit" in out:
        out.setlist("unit", out.pop("visit_unit"))
    if "visit_without_subunits" in out:
        out.setlist("without_subunits", out.pop("visit_without_subunits"))
    if "region" in out:
        out.setlist("investor_region", out.pop("region"))
    for src, dst in (("visit_industry", "industry"), ("visit_source_channel", "source_channel")):
        if data.getlist(src):
            out.setlist(dst, data.getlist(src))
    out.setlist("kind", list(VISITING_KINDS))
    return out.urlencode()
