"""Exports (导出) of the list pages: small ones at once, large ones as export jobs.

A list of at most ``PROMO_EXPORT_SYNC_MAX_ROWS`` rows is downloaded in the request (the CSV
streamed, the XLSX written write-only to a temporary file). A larger one becomes an
``ExportJob``: the requester, the list and its filters are stored, the worker applies the
same selector as the requester (``*_for_export`` → ``*_visible_to``), writes the file in
constant memory under MEDIA_ROOT at a random path, and tells the requester in the bell. The
job's row is the queue (``export_resume_waiting`` re-sends what the broker lost) and its
history is the audit trail of the export. Files are deleted after
``PROMO_EXPORT_RETENTION_DAYS`` by the nightly prune.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leads import exports as lead_exports
from officers.models import Officer
from projects import exports as project_exports
from promo.agreements import exports as agreement_exports
from promo.core import exports
from promo.core.audit import audited
from promo.core.db import read_alias, replica_reads
from promo.core.signals import audit

from .choices import ExportFormat, ExportKind, ExportStatus
from .models import ExportJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportList:
    """One exportable list: its rows for an officer and the page's parameters, its columns,
    and the title of the sheet and of the file."""

    select: Callable[[Officer, QueryDict], QuerySet[Any]]
    columns: tuple[exports.Column, ...]
    title: str


EXPORT_LISTS: dict[str, ExportList] = {
    ExportKind.LEADS: ExportList(
        lead_exports.leads_for_export, lead_exports.LEAD_COLUMNS, "项目信息"
    ),
    ExportKind.PROJECTS: ExportList(
        project_exports.projects_for_export, project_exports.PROJECT_COLUMNS, "项目"
    ),
    ExportKind.VISITS: ExportList(
        lead_exports.visits_for_export, lead_exports.VISIT_COLUMNS, "走访记录"
    ),
    ExportKind.AGREEMENT_TERMS: ExportList(
        agreement_exports.terms_for_export, agreement_exports.TERM_COLUMNS, "协议履约台账"
    ),
}


def export_rows(officer: Officer, kind: str, params: QueryDict) -> QuerySet[Any]:
    """The rows ``officer`` exports of the list ``kind`` with the page's ``params``."""
    return EXPORT_LISTS[kind].select(officer, params).using(read_alias())


def export_is_large(queryset: QuerySet[Any]) -> bool:
    """More rows than PROMO_EXPORT_SYNC_MAX_ROWS: an export job, not a download at once.

    Counts at most one row past the threshold, so deciding costs little on any list."""
    limit = settings.PROMO_EXPORT_SYNC_MAX_ROWS
    return queryset.order_by().values("pk")[: limit + 1].count() > limit


def _params(filters: dict[str, list[str]]) -> QueryDict:
    params = QueryDict(mutable=True)
    for name, values in filters.items():
        params.setlist(name, [str(v) for v in values])
    return params


def export_request(
    *, actor: Officer, kind: str, fmt: str, params: QueryDict
) -> tuple[ExportJob, bool]:
    """Record an export job of the list ``kind`` as ``actor`` sees it with ``params``.

    A second request of the same list while the first is still waiting or running is that
    job (a double click, a reload), not another file: returns the job and whether it is new.
    The caller sends a new one to the worker after commit (``send_export``)."""
    if kind not in EXPORT_LISTS or fmt not in ExportFormat.values:
        raise ValueError(f"unknown export {kind}.{fmt}")
    filters = {name: values for name, values in params.lists() if name != "page"}
    same = ExportJob.objects.filter(
        requester=actor,
        kind=kind,
        fmt=fmt,
        filters=filters,
        status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING),
    ).first()
    if same is not None:
        return same, False
    with transaction.atomic(), audited(actor, "export_request"):
        job = ExportJob.objects.create(
            requester=actor,
            kind=kind,
            fmt=fmt,
            filters=filters,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
    return job, True


def _progress(job_pk: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        # Its own statement (autocommit): the page polls the row while the file is written.
        ExportJob.objects.filter(pk=job_pk).update(done_rows=done, heartbeat_at=timezone.now())

    return report


def export_run(*, job_id: int) -> ExportJob | None:
    """Write the file of a queued export job; returns the job afterwards (None if missing).

    Claims the job (queued → running) with a conditional update, so a message delivered
    twice writes one file. The rows are those the requester may see now, with the stored
    filters, written in the requester's language."""
    now = timezone.now()
    job = ExportJob.objects.select_related("requester").filter(pk=job_id).first()
    if job is None:
        return None
    with audited(job.requester, job.why):
        claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
            status=ExportStatus.RUNNING, started_at=now, heartbeat_at=now
        )
    if not claimed:
        job.refresh_from_db()
        return job
    spec = EXPORT_LISTS[job.kind]
    try:
        with replica_reads(), translation.override(job.language or settings.LANGUAGE_CODE):
            rows = export_rows(job.requester, job.kind, _params(job.filters))
            total = rows.count()
            ExportJob.objects.filter(pk=job_id).update(total_rows=total)
            name = exports.file_name(spec.title, job.fmt)
            with tempfile.TemporaryDirectory(prefix="promo-export-") as folder:
                path = os.path.join(folder, f"export.{job.fmt}")
                count = exports.write_table(
                    spec.columns,
                    exports.table_rows(spec.columns, rows),
                    path,
                    fmt=job.fmt,
                    title=spec.title,
                    progress=_progress(job_id),
                )
                job.refresh_from_db()
                with open(path, "rb") as handle:
                    job.file.save(name, File(handle), save=False)
    except Exception as exc:
        log.exception("export job %s failed", job_id)
        _finish(
            job_id, job.requester, ExportStatus.FAILED, error=str(exc)[:500] or type(exc).__name__
        )
        job.refresh_from_db()
        _audit_job(job)
        return job
    with transaction.atomic(), audited(job.requester, job.why):
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.DONE,
            file=job.file.name,
            file_name=name,
            total_rows=count,
            done_rows=count,
            finished_at=timezone.now(),
        )
        transaction.on_commit(lambda: _tell_ready(job.requester_id))
    job.refresh_from_db()
    _audit_job(job)
    return job


def _audit_job(job: ExportJob) -> None:
    """The audit trail (安全审计): which list, which filters, how many rows, how it ended."""
    audit(
        "export",
        actor=job.requester,
        outcome="success" if job.status == ExportStatus.DONE else "failed",
        obj=job,
        details={
            "list": job.kind,
            "format": job.fmt,
            "filters": job.filters,
            "rows": job.total_rows,
            "job": job.pk,
        },
    )


def _finish(job_id: int, requester: Officer, status: str, *, error: str) -> None:
    with audited(requester, f"export:{job_id}"):
        ExportJob.objects.filter(pk=job_id).update(
            status=status, error=error, finished_at=timezone.now()
        )


def _tell_ready(requester_id: int) -> None:
    from promo.reports.services import export_ready_tell

    export_ready_tell(requester_id)


def export_resume_waiting(*, older_than_seconds: int = 60) -> list[int]:
    """Jobs to send again: queued for more than ``older_than_seconds`` (the broker was down
    or lost the message). A job whose worker has been silent for PROMO_EXPORT_STALL_SECONDS
    while running fails with a message (the officer exports again)."""
    now = timezone.now()
    stalled = ExportJob.objects.filter(
        status=ExportStatus.RUNNING,
        heartbeat_at__lt=now - timedelta(seconds=settings.PROMO_EXPORT_STALL_SECONDS),
    ).select_related("requester")
    for job in stalled:
        _finish(job.pk, job.requester, ExportStatus.FAILED, error=_("导出中断，请重新导出。"))
    return list(
        ExportJob.objects.filter(
            status=ExportStatus.QUEUED, created_at__lt=now - timedelta(seconds=older_than_seconds)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def export_files_prune() -> int:
    """Delete export files older than PROMO_EXPORT_RETENTION_DAYS (导出文件清理); the job's row
    stays (who exported what, when). Bounded as every prune (promo.core.prune)."""
    cutoff = timezone.now() - timedelta(days=settings.PROMO_EXPORT_RETENTION_DAYS)
    size, batches = settings.PROMO_PRUNE_BATCH_SIZE, settings.PROMO_PRUNE_MAX_BATCHES
    old = ExportJob.objects.filter(finished_at__lt=cutoff, file_pruned_at__isnull=True).exclude(
        file=""
    )
    total = 0
    for _batch in range(batches):
        jobs = list(old.order_by("pk")[:size])
        if not jobs:
            break
        for job in jobs:
            job.file.storage.delete(job.file.name)
        total += ExportJob.objects.filter(pk__in=[j.pk for j in jobs]).update(
            file="", file_pruned_at=timezone.now()
        )
        if len(jobs) < size:
            break
    return total
