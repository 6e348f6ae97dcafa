"""Celery task of the imports app: one thin job that checks or commits a batch by its id.

Safe to run twice: each step claims the batch with a conditional update on its status
(queued → checking, checked → committing) that must touch exactly one row, so a re-delivered
message finds the batch already claimed and does nothing. A commit runs in one transaction:
a worker killed halfway leaves nothing written. A batch left in checking or committing by a
dead worker is put back and re-sent by ``resume_waiting_imports`` (services.batch_resume_stalled).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from promo.core.enqueue import send_now
from promo.core.prune import PRUNE_TASK
from promo.reports.tasks import _RETRY

from .choices import BatchStatus
from .export_services import export_files_prune, export_resume_waiting, export_run
from .models import ImportBatch
from .services import batch_check, batch_commit, batch_files_prune, batch_resume_stalled


@shared_task(**_RETRY)
def run_import(batch_id: int) -> str:
    """预检 a queued batch, or write a confirmed one; returns the batch's status afterwards."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return "missing"
    if batch.status == BatchStatus.QUEUED:
        batch = batch_check(batch=batch)
    elif batch.status == BatchStatus.CHECKED and batch.confirmed_at:
        batch = batch_commit(batch=batch)
    return batch.status


log = logging.getLogger(__name__)


def send_to_worker(batch_id: int) -> bool:
    """Queue a batch for the worker; False (and logged) when the broker cannot be reached.

    The batch's status in PostgreSQL is the real queue: an unsent batch is picked up by
    ``resume_waiting_imports`` once the broker is back, so nothing the officer uploaded or
    confirmed is lost and the page never fails because Redis is down.
    """
    if send_now(run_import, (batch_id,)):
        return True
    log.warning("import batch %s waits for the broker", batch_id)
    return False


@shared_task(**_RETRY)
def resume_waiting_imports(older_than_seconds: int = 60) -> int:
    """Re-send batches still waiting (queued, or confirmed but not started), and those put back
    after their worker died mid-check or mid-commit; returns how many were sent."""
    stalled = set(batch_resume_stalled())
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    waiting = set(
        ImportBatch.objects.filter(
            Q(status=BatchStatus.QUEUED, created_at__lt=cutoff)
            | Q(status=BatchStatus.CHECKED, confirmed_at__lt=cutoff)
        ).values_list("pk", flat=True)
    )
    return sum(send_to_worker(pk) for pk in sorted(stalled | waiting))


@shared_task(**PRUNE_TASK)
def prune_import_files() -> int:
    """台账文件清理: delete uploaded files past their retention; batches and rows stay."""
    return batch_files_prune()


@shared_task(**_RETRY)
def run_export(job_id: int) -> str:
    """Write the file of a queued export job; returns its status afterwards."""
    job = export_run(job_id=job_id)
    return "missing" if job is None else job.status


def send_export(job_id: int) -> bool:
    """Queue an export job; False (and logged) when the broker cannot be reached: the job
    waits in PostgreSQL for ``resume_waiting_exports``, the page never fails."""
    if send_now(run_export, (job_id,)):
        return True
    log.warning("export job %s waits for the broker", job_id)
    return False


@shared_task(**_RETRY)
def resume_waiting_exports(older_than_seconds: int = 60) -> int:
    """Re-send export jobs still queued; returns how many were sent."""
    return sum(
        send_export(pk) for pk in export_resume_waiting(older_than_seconds=older_than_seconds)
    )


@shared_task(**PRUNE_TASK)
def prune_export_files() -> int:
    """导出文件清理: delete export files past their retention; the jobs stay."""
    return export_files_prune()
