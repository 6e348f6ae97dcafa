"""Officers' pages of the reports app: my notices (the bell), bulletins in the browser.

Interfaces only: reads come from promo.reports.selectors, writes go through
promo.reports.services (the same functions the admin and the jobs call).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from officers import permissions
from officers.selectors import units_visible_to
from promo.core.db import reads_from_replica
from promo.core.errors import DomainError, PermissionDenied
from promo.core.paging import KeysetPage, deep_page_redirect

from . import documents, selectors, services
from .choices import BulletinStatus
from .exports import bulletin_download
from .forms import AgreementAnalysisForm
from .models import Alert, AlertNotice, SystemNotice

NOTICES_PER_PAGE = 30
SYSTEM_NOTICES_SHOWN = 5
BULLETINS_PER_PAGE = 24


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


@login_required
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    """My notices (督办通知), newest first, each with its light, its step and its record."""
    # Newest first, deep pages by cursor (issue #19): a year of daily alerts is many pages.
    page = KeysetPage(
        selectors.notices_for(request.user).select_related(
            "alert__project", "alert__lead", "alert__problem"
        ),
        request.GET,
        per_page=NOTICES_PER_PAGE,
        order=("-created_at", "-id"),
    )
    if page.too_deep:
        return deep_page_redirect(request, page)
    if page.invalid:
        messages.error(request, _("翻页链接无效，已显示第一页。"))
    # System notices (系统通知) above the list: the unread ones and the last few read.
    system = list(selectors.system_notices_for(request.user)[:SYSTEM_NOTICES_SHOWN])
    return render(request, "reports/notice_list.html", {"page": page, "system_notices": system})


@login_required
@require_POST
def notice_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of my notices read; someone else's notice is not found."""
    notice = get_object_or_404(AlertNotice, pk=pk, recipient=request.user)
    services.notice_mark_read(notice=notice, actor=request.user)
    return _back(request, "reports:notices")


@login_required
@require_POST
def system_notice_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of my system notices read; someone else's is not found."""
    notice = get_object_or_404(SystemNotice, pk=pk, recipient=request.user)
    services.system_notice_mark_read(notice=notice, actor=request.user)
    return _back(request, "reports:notices")


@login_required
@require_POST
def notices_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notices_mark_all_read(actor=request.user)
    messages.success(request, _("已将 %(n)s 条通知标为已读。") % {"n": count})
    return _back(request, "reports:notices")


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge an alert (签收): the ladder stops climbing; the service checks who may."""
    alert = get_object_or_404(Alert, pk=pk)
    try:
        services.alert_acknowledge(alert=alert, actor=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    messages.success(request, _("已签收。"))
    return _back(request, "reports:notices")


def _readable_bulletins(request: HttpRequest):
    if not permissions.may_read_bulletins(request.user):
        raise DjangoPermissionDenied(_("通报供局领导和单位负责人查阅。"))
    return selectors.bulletins_visible_to(request.user)


@login_required
@require_GET
@reads_from_replica
def bulletin_list(request: HttpRequest) -> HttpResponse:
    """Bulletins (通报), newest period first: monthly bulletins and ten-day reports."""
    page = Paginator(
        _readable_bulletins(request).select_related("published_by"), BULLETINS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(request, "reports/bulletin_list.html", {"page": page})


@login_required
@require_GET
@reads_from_replica
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One bulletin as a page fit to print, amendments beside the published figures."""
    bulletin = get_object_or_404(_readable_bulletins(request), pk=pk)
    return render(
        request,
        "reports/bulletin_detail.html",
        {
            "bulletin": bulletin,
            "can_publish": permissions.may_publish_bulletin(request.user)
            and bulletin.can_transition_to(BulletinStatus.PUBLISHED),
            **selectors.bulletin_table(bulletin),
            **selectors.bulletin_agreement_section(bulletin),
            "links": True,
        },
    )


@login_required
@require_GET
@reads_from_replica
def agreement_analysis(request: HttpRequest) -> HttpResponse:
    """协议履约分析: the bulletin's 协议履约 section computed now (or on a past day) for the
    agreements the officer sees, by unit and by signing-year cohort. A wrong filter is answered
    next to its field, the figures of the defaults shown meanwhile."""
    units = list(units_visible_to(request.user).order_by("path"))
    form = AgreementAnalysisForm(request.GET or None, units=units)
    unit, on = None, None
    if form.is_bound and form.is_valid():
        on = form.cleaned_data["on"]
        unit = next((u for u in units if u.pk == form.cleaned_data["unit"]), None)
    if unit is None and units and not permissions.is_bureau_wide(request.user):
        # Not the bureau's reader: the rows of the bulletin's units would be empty but his.
        unit = units[0]  # ordered by path: the top of the sub-tree he sees
    section = selectors.agreement_analysis(
        request.user, unit=unit, on=on or AgreementAnalysisForm.default_on()
    )
    return render(
        request,
        "reports/agreement_analysis.html",
        {"form": form, "unit": unit, **section, "links": True},
    )


@login_required
@require_GET
@reads_from_replica
def bulletin_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The bulletin as an XLSX laid out like the official table (promo.reports.exports)."""
    bulletin = get_object_or_404(_readable_bulletins(request), pk=pk)
    return bulletin_download(bulletin)


@login_required
@require_GET
@reads_from_replica
def bulletin_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The bulletin as a Word document in the official layout (promo.reports.documents)."""
    bulletin = get_object_or_404(_readable_bulletins(request), pk=pk)
    return documents.bulletin_docx_download(bulletin)


@login_required
@require_GET
@reads_from_replica
def bulletin_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The bulletin as a PDF in the official layout (promo.reports.documents)."""
    bulletin = get_object_or_404(_readable_bulletins(request), pk=pk)
    return documents.bulletin_pdf_download(bulletin)


# The publish form's explicit confirmation: a POST without it publishes nothing.
PUBLISH_CONFIRMATION = "confirm"


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish (发布通报) after a confirmation page that says what freezing means; the POST
    must carry ``confirm=yes``. The service refuses anyone but a chief, and a second
    publication (the status is the once-only guard)."""
    bulletin = get_object_or_404(_readable_bulletins(request), pk=pk)
    if not permissions.may_publish_bulletin(request.user):
        raise DjangoPermissionDenied(_("只有局领导可以发布通报。"))
    if not bulletin.can_transition_to(BulletinStatus.PUBLISHED):
        messages.error(request, _("通报已发布，不能再次发布。"))
        return redirect("reports:bulletin", pk=pk)
    if request.method == "GET" or request.POST.get(PUBLISH_CONFIRMATION) != "yes":
        missing = request.method == "POST"
        return render(
            request,
            "reports/bulletin_publish_confirm.html",
            {"bulletin": bulletin, "missing_confirmation": missing},
            status=400 if missing else 200,
        )
    try:
        services.bulletin_publish(bulletin=bulletin, actor=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reports:bulletin", pk=pk)
    messages.success(request, _("通报已发布，数据已冻结；此后的修改将作为更正列示。"))
    return redirect("reports:bulletin", pk=pk)
