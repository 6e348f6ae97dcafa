"""The officer's home page, "my work" (我的工作)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from promo.core import submissions
from promo.core.services import today
from promo.reports.selectors import home_alerts

from . import selectors


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """My work (我的工作): what is due, what I hold, what I was first asked."""
    me = request.user
    day = today()
    lead_list_url = reverse("leads:list")
    lead_counts = [
        {
            "status": status,
            "label": status.label,
            "count": count,
            "url": f"{lead_list_url}?{urlencode({'status': status.value, 'mine': '1'})}",
        }
        for status, count in selectors.my_lead_counts(me).items()
    ]
    soon = day + timedelta(days=3)
    return render(
        request,
        "promo/home.html",
        {
            "today": day,
            "soon": soon,
            "follow_ups": selectors.follow_ups_due(me, day=day),
            # 办理时限: my leads' steps overdue or due within the same three days.
            "clock_steps": selectors.my_clock_steps(me, day=day, until=soon),
            "lead_counts": lead_counts,
            "projects": selectors.my_projects(me, day=day),
            "problems": selectors.my_open_problems(me, day=day),
            "claims": selectors.claims_to_decide(me),
            "assists": selectors.assist_requests_to_decide(me),
            **home_alerts(me),  # 红黄灯: my open alerts; a head's or chief's red items
        },
    )


SEARCH_GROUP_TITLES = {
    "investors": _("客商"),
    "leads": _("项目信息"),
    "projects": _("项目"),
}


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """The header's search box (一框搜索): ``/search/?q=`` finds investors, leads and projects
    by name, pinyin, initials, English name or credit code; ``&only=leads`` lists one group at
    length. A query of one character gets a hint, not a scan of every record."""
    query = " ".join((request.GET.get("q") or "").split())[:100].replace("\x00", "")
    only = request.GET.get("only") or ""
    results = selectors.search_everything(request.user, query, only=only) if query else None
    groups = [
        {
            "kind": group.kind,
            "title": SEARCH_GROUP_TITLES[group.kind],
            "rows": group.rows,
            "more_url": (
                f"{reverse('search')}?{urlencode({'q': query, 'only': group.kind})}"
                if group.more and not only
                else ""
            ),
        }
        for group in (results.groups if results else [])
    ]
    return render(
        request,
        "promo/search.html",
        {"query": query, "results": results, "groups": groups, "only": only},
    )


@login_required
@require_GET
def submission_state(request: HttpRequest, key) -> JsonResponse:
    """Whether this officer's form with submission ``key`` was saved (草稿, issue #15).

    A form keeps what the officer types in the browser (static/promo/promo.js) so that an
    expired session or a dropped connection loses nothing; before the kept text is put back
    into a form, the page asks here: a form already saved is not offered again. Only the
    officer's own keys answer ``saved``; anyone else's are as unknown as a key never used.
    """
    saved = submissions.earlier_result(request.user, key) is not None
    return JsonResponse({"saved": saved}, headers={"Cache-Control": "no-store"})
