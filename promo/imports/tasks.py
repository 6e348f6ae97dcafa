"""Celery task of the imports app: one thin job that checks or commits a batch by its id.

Safe to run twice: each step claims the batch with a conditional update on its status
(queued → checking, checked → committing) that must touch exactly one row, so a re-delivered
message finds the batch already claimed and does nothing. A commit runs in one transaction:
a worker killed halfway leaves nothing written.
"""

from __future__ import annotations

from celery import shared_task

from promo.reports.tasks import _RETRY

from .choices import BatchStatus
from .models import ImportBatch
from .services import batch_check, batch_commit


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
