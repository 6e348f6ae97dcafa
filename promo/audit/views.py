"""The audit administrator's page (安全审计): the trail, filtered, paged and exported.

Only ``may_read_audit_trail`` (the audit administrator) reads it, and every read and export
is itself an entry of the trail.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from officers import permissions
from promo.accounts.security import client_ip
from promo.audit.choices import Action
from promo.audit.exports import COLUMNS
from promo.audit.selectors import audit_entries
from promo.audit.services import record
from promo.core import exports
from promo.core.paging import KeysetPage, deep_page_redirect, list_query


def _filters_of(request: HttpRequest) -> dict[str, list[str]]:
    return {k: v for k, v in request.GET.lists() if k not in ("page", "after", "before")}


@login_required
@require_GET
def entry_list(request: HttpRequest) -> HttpResponse:
    if not permissions.may_read_audit_trail(request.user):
        raise PermissionDenied
    rows, filters = audit_entries(request.GET)
    page = KeysetPage(rows, request.GET, per_page=50, order=("-id",))
    if page.too_deep:
        return deep_page_redirect(request, page)
    record(
        action=Action.AUDIT_READ,
        actor=request.user,
        address=client_ip(request),
        details={"filters": _filters_of(request), "page": page.number},
    )
    return render(
        request,
        "audit/entry_list.html",
        {"page": page, "filter": filters, "query": list_query(request.GET)},
    )


@login_required
@require_GET
def entry_export(request: HttpRequest, fmt: str) -> StreamingHttpResponse | FileResponse:
    if not permissions.may_read_audit_trail(request.user):
        raise PermissionDenied
    if fmt not in ("xlsx", "csv"):
        raise Http404
    rows, _filters = audit_entries(request.GET)
    record(
        action=Action.AUDIT_EXPORT,
        actor=request.user,
        address=client_ip(request),
        details={"filters": _filters_of(request), "format": fmt, "rows": rows.count()},
    )
    return exports.download(COLUMNS, rows, title=_("安全审计记录"), fmt=fmt)
