"""Pages of the imports app: upload a ledger, watch the dry run, confirm; export a list.

Views are interfaces only: the services check and write, the selectors read.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from officers.models import tree_order
from officers.selectors import units_visible_to
from promo.core import exports
from promo.core.db import pinned_to_primary, reads_from_replica
from promo.core.enqueue import send_on_commit
from promo.core.errors import DomainError
from promo.core.forms import add_domain_error
from promo.core.paging import KeysetPage, deep_page_redirect
from promo.core.signals import audit

from . import export_services, ledger_templates, services
from .choices import BatchStatus, ExportFormat, ExportStatus, ImportKind, RowAction
from .forms import ConfirmForm, UploadForm
from .models import ExportJob
from .selectors import batch_rows, batches_visible_to, export_jobs_visible_to

ROWS_PER_PAGE = 100


def _enqueue(request: HttpRequest, batch_pk: int) -> bool:
    """Tell the worker after commit (it must find the batch and its confirmation); never
    blocks nor fails the request. If the broker is down or hung the batch waits in PostgreSQL
    (its status) and ``resume_waiting_imports`` sends it when the broker is back; the officer
    is told so. Returns whether the worker was told now."""
    from .tasks import run_import

    sent = send_on_commit(run_import, (batch_pk,))
    if sent is False:
        messages.warning(
            request,
            _("后台任务队列暂时不可用：文件已保存，队列恢复后会自动开始处理，无需重新上传。"),
        )
    return sent is not False


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    """Import batches (导入记录) the officer may review."""
    # Newest first, deep pages by cursor (issue #19).
    page = KeysetPage(
        batches_visible_to(request.user), request.GET, per_page=20, order=("-created_at", "-id")
    )
    if page.too_deep:
        return deep_page_redirect(request, page)
    for batch in page:
        batch.status_text = status_label(batch)
    return render(request, "imports/batch_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest) -> HttpResponse:
    """Upload a ledger; the dry run starts in the background."""
    me = request.user
    units = units_visible_to(me).order_by(tree_order())
    # "修改文件后重新上传" on a batch's page comes back with its kind and unit chosen.
    initial = {"kind": request.GET.get("kind"), "unit": request.GET.get("unit")}
    form = UploadForm(request.POST or None, request.FILES or None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.require_import_size(upload.size)
            data = upload.read()
            batch = services.batch_upload(
                actor=me,
                data=data,
                file_name=upload.name,
                kind=form.cleaned_data["kind"],
                unit=form.cleaned_data["unit"],
                sheet_name=form.cleaned_data["sheet_name"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if batch.repeated_upload:
                # A retried or double-clicked upload: the first batch, not a second one.
                messages.info(request, _("该文件刚刚已上传，这是它的导入批次，无需重复上传。"))
            else:
                _enqueue(request, batch.pk)
            return redirect("imports:detail", pk=batch.pk)
    return render(
        request, "imports/batch_new.html", {"form": form, "import_kinds": ImportKind.choices}
    )


def _visible_batch(request: HttpRequest, pk: int):
    return get_object_or_404(batches_visible_to(request.user), pk=pk)


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """预检结果: counts, every row with its action and errors, and the confirmation."""
    batch = _visible_batch(request, pk)
    action = request.GET.get("action", "")
    if "action" not in request.GET and batch.error_count:
        # Five errors among 3,000 rows must not hide on page 17: they are shown first.
        action = RowAction.ERROR
    elif "action" not in request.GET and batch.duplicate_count and not batch.confirmed_at:
        # Then the likely duplicates, which the officer must look at before confirming.
        action = RowAction.DUPLICATE
    if action not in RowAction.values:
        action = ""
    rows = batch_rows(batch, action)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    _describe(batch, page)
    progress = _progress(batch)
    to_write = batch.created_count + batch.updated_count + batch.duplicate_count
    return render(
        request,
        "imports/batch_detail.html",
        {
            "batch": batch,
            "page": page,
            "action": action,
            "actions": RowAction.choices,
            "confirm_form": ConfirmForm(),
            "progress": progress,
            "mapping_rows": _mapping_rows(batch)
            if batch.uploaded_by_id == request.user.pk and not batch.confirmed_at
            else [],
            "query": f"action={action or 'all'}",
            "can_confirm": batch.status == BatchStatus.CHECKED
            and not batch.confirmed_at
            and not batch.error_count
            and to_write > 0
            and batch.uploaded_by_id == request.user.pk,
            "nothing_to_write": batch.status == BatchStatus.CHECKED
            and not batch.error_count
            and not to_write,
            "list_url": reverse(_LIST_PAGES[batch.kind]) if batch.kind in _LIST_PAGES else "",
        },
    )


# Where the officer sees the records of each kind, and the page of one record (if any).
_LIST_PAGES = {
    ImportKind.LEADS: "leads:list",
    ImportKind.PROJECTS: "projects:list",
    ImportKind.AGREEMENT_TERMS: "agreements:list",
}
_RECORD_PAGES = {ImportKind.LEADS: "leads:detail", ImportKind.PROJECTS: "projects:detail"}


def _describe(batch, page) -> None:
    """What each row of the page is (its name), where its errors are (Excel's column letter)
    and a link to the record it wrote."""
    from . import parsing

    letters: dict[str, str] = {}
    for index, header in enumerate(batch.headers or []):
        if header:
            letters.setdefault(header, parsing.column_letter(index))
    record_page = _RECORD_PAGES.get(batch.kind)
    for row in page:
        values = row.values or {}
        row.label = " · ".join(
            str(values[name])
            for name in ("name", "project", "investor", "title", "visited_on")
            if values.get(name) and not (name == "visited_on" and values.get("name"))
        )
        row.error_lines = [
            {**error, "letter": letters.get(error["column"], "")} for error in row.errors
        ]
        row.record_url = (
            reverse(record_page, args=[row.record_pk]) if record_page and row.record_pk else ""
        )


@login_required
@require_GET
def batch_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the batch page while the job runs."""
    return JsonResponse(_progress(_visible_batch(request, pk)))


def _progress(batch) -> dict:
    # A confirmed batch waits for its worker: still running for the page.
    running = batch.is_running or (
        batch.status == BatchStatus.CHECKED and batch.confirmed_at is not None
    )
    done = batch.processed_rows
    if running:
        done = services.batch_progress_done(batch)
    total = batch.total_rows
    return {
        "status": batch.status,
        "status_label": status_label(batch),
        "done": done,
        "total": total,
        "percent": min(100, int(done * 100 / total)) if total else 0,
        "running": running,
    }


def status_label(batch) -> str:
    """The batch's status in words; a confirmed batch waiting for its worker is not 待确认."""
    if batch.status == BatchStatus.CHECKED and batch.confirmed_at is not None:
        return _("已确认，等待导入")
    if batch.status == BatchStatus.CHECKED and batch.error_count:
        return _("有错误，未导入")
    if batch.status == BatchStatus.CHECKED and not (
        batch.created_count + batch.updated_count + batch.duplicate_count
    ):
        return _("无需导入")
    return batch.get_status_display()


@login_required
@require_POST
def batch_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The officer confirms the dry run: the commit is queued."""
    batch = _visible_batch(request, pk)
    form = ConfirmForm(request.POST)
    form.is_valid()
    try:
        services.batch_confirm(
            batch=batch,
            actor=request.user,
            confirm_distinct=form.cleaned_data.get("confirm_distinct", False),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if _enqueue(request, batch.pk):
            messages.success(request, _("已确认，正在导入。您可以离开本页，稍后回来查看结果。"))
    return redirect("imports:detail", pk=batch.pk)


def _mapping_rows(batch) -> list[dict]:
    """One line per header of the file: the field it maps to now, and the choices."""
    from . import parsing

    fields = parsing.FIELD_ALIASES[batch.kind]
    choices = [("", _("（不导入）"))] + [(name, names[0]) for name, names in fields.items()]
    current = {int(index): name for index, name in (batch.columns or {}).items()}
    return [
        {"index": index, "header": header, "field": current.get(index, ""), "choices": choices}
        for index, header in enumerate(batch.headers or [])
        if header
    ]


@login_required
@require_POST
def batch_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """列对应: save the unit's mapping from this file's headers and check the file again."""
    batch = _visible_batch(request, pk)
    columns = {
        line["header"]: request.POST.get(f"col_{line['index']}", "")
        for line in _mapping_rows(batch)
    }
    try:
        again = services.batch_remap(batch=batch, actor=request.user, columns=columns)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("imports:detail", pk=batch.pk)
    _enqueue(request, again.pk)
    messages.success(request, _("列对应已保存，本单位下次导入时自动使用；正在重新预检。"))
    return redirect("imports:detail", pk=again.pk)


@login_required
@require_GET
def ledger_template(request: HttpRequest, kind: str) -> HttpResponse:
    """台账模板: a blank ledger of ``kind`` that the importer reads back as it is."""
    if kind not in ImportKind.values:
        raise Http404
    body = ledger_templates.ledger_template(kind)
    name = _("%(kind)s导入模板.xlsx") % {"kind": ImportKind(kind).label}
    return exports.attachment(body, filename=name, content_type=exports.XLSX_TYPE)


@login_required
@require_GET
@reads_from_replica
def export(request: HttpRequest, what: str, fmt: str) -> HttpResponse:
    """导出: the list page's rows, with its filters and the officer's visibility.

    Up to PROMO_EXPORT_SYNC_MAX_ROWS rows the file downloads at once; a larger list becomes
    an export job (nothing is read in the request but a bounded count) and the officer
    watches it on its page."""
    if what not in export_services.EXPORT_LISTS or fmt not in ExportFormat.values:
        raise Http404
    spec = export_services.EXPORT_LISTS[what]
    # The alias is fixed now: a streamed download runs its query after the view has returned.
    rows = export_services.export_rows(request.user, what, request.GET)
    if not export_services.export_is_large(rows):
        # The audit trail (安全审计): which list, which filters, how many rows (a bounded count).
        audit(
            "export",
            actor=request.user,
            request=request,
            object_type=what,
            details={
                "list": what,
                "format": fmt,
                "filters": dict(request.GET.lists()),
                "rows": rows.order_by().count(),
            },
        )
        return exports.download(spec.columns, rows, title=spec.title, fmt=fmt)
    with pinned_to_primary():  # the same list asked again is found on the primary
        job, created = export_services.export_request(
            actor=request.user, kind=what, fmt=fmt, params=request.GET
        )
    if created:
        from .tasks import send_export

        # If the broker is down the job waits in PostgreSQL for resume_waiting_exports.
        transaction.on_commit(lambda: send_export(job.pk))
        messages.info(
            request,
            _("超过 %(max)s 行，已转为后台导出：完成后会在通知中提醒您，文件在“我的导出”中下载。")
            % {"max": f"{settings.PROMO_EXPORT_SYNC_MAX_ROWS:,}"},
        )
    return redirect("imports:export_job", pk=job.pk)


def _my_job(request: HttpRequest, pk: int) -> ExportJob:
    """One of the officer's export jobs; anyone else's is not found."""
    return get_object_or_404(export_jobs_visible_to(request.user), pk=pk)


def _job_progress(job: ExportJob) -> dict:
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "done": job.done_rows,
        "total": job.total_rows,
        "percent": job.percent,
        "running": job.is_running,
        "download": reverse("imports:export_download", args=[job.pk])
        if job.status == ExportStatus.DONE and job.file
        else "",
    }


@login_required
@require_GET
def export_jobs(request: HttpRequest) -> HttpResponse:
    """我的导出: the officer's export jobs, newest first, with their files while kept."""
    page = Paginator(export_jobs_visible_to(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/export_list.html",
        {"page": page, "retention_days": settings.PROMO_EXPORT_RETENTION_DAYS},
    )


@login_required
@require_GET
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    """One export job: its progress while it runs (from PostgreSQL), then its download."""
    job = _my_job(request, pk)
    return render(
        request,
        "imports/export_job.html",
        {
            "job": job,
            "progress": _job_progress(job),
            "retention_days": settings.PROMO_EXPORT_RETENTION_DAYS,
        },
    )


@login_required
@require_GET
def export_job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the job's page while the file is written."""
    return JsonResponse(_job_progress(_my_job(request, pk)))


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file of a finished export, for its requester only (served by this view, never from
    MEDIA_URL); a pruned or unfinished one is not found."""
    job = _my_job(request, pk)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = exports.XLSX_TYPE if job.fmt == "xlsx" else "text/csv; charset=utf-8"
    response = FileResponse(
        handle, as_attachment=True, filename=job.file_name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
