"""Celery tasks of the API: the nightly prune of expired idempotency records."""

from __future__ import annotations

from celery import shared_task

from promo.core.prune import PRUNE_TASK

from .idempotency import idempotency_records_prune


@shared_task(**PRUNE_TASK)
def prune_idempotency_records() -> int:
    """幂等记录清理: delete Idempotency-Key records older than their TTL."""
    return idempotency_records_prune()
