"""Audit trail tasks: the nightly prune of entries past their retention."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from promo.audit.services import audit_prune
from promo.core.prune import PRUNE_TASK


@shared_task(**PRUNE_TASK)
def prune_audit_entries() -> int:
    """审计记录清理: delete entries older than PROMO_AUDIT_RETENTION_DAYS, a batch at a time, each
    batch its own transaction through the database's audit_prune() (it leaves the anchor)."""
    total = 0
    for _ in range(settings.PROMO_PRUNE_MAX_BATCHES):
        deleted = audit_prune()
        total += deleted
        if deleted < settings.PROMO_PRUNE_BATCH_SIZE:
            break
    return total
