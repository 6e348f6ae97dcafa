"""Bounded deletes for the beat's prune jobs: nothing promo keeps only for a while grows forever.

Each batch is its own short statement (autocommit), so a prune never holds thousands of row
locks or one long transaction beside the officers' work; a run stops after ``max_batches``
and the next run goes on where it stopped. The audit and history tables are never pruned.
"""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet

# Celery options of a prune task: safe to run twice (it deletes what is still old), so a
# transient database fault is simply retried.
PRUNE_TASK = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 3,
}


def delete_in_batches(
    queryset: QuerySet, *, batch_size: int | None = None, max_batches: int | None = None
) -> int:
    """Delete the rows of ``queryset`` a batch of primary keys at a time; returns how many.

    The condition is applied again at delete time (``pk__in`` within the same filter), so a
    row that became young again (e.g. a notice re-read) in between is kept.
    """
    size = batch_size or settings.PROMO_PRUNE_BATCH_SIZE
    batches = max_batches or settings.PROMO_PRUNE_MAX_BATCHES
    total = 0
    for _ in range(batches):
        pks = list(queryset.order_by().values_list("pk", flat=True)[:size])
        if not pks:
            break
        _deleted, by_model = queryset.filter(pk__in=pks).delete()
        total += by_model.get(queryset.model._meta.label, 0)
        if len(pks) < size:
            break
    return total


def update_in_batches(
    queryset: QuerySet,
    values: dict,
    *,
    batch_size: int | None = None,
    max_batches: int | None = None,
) -> int:
    """``queryset.update(**values)`` a batch of primary keys at a time; returns how many rows.

    ``values`` must take the rows out of ``queryset`` (or the loop would see them again).
    """
    size = batch_size or settings.PROMO_PRUNE_BATCH_SIZE
    batches = max_batches or settings.PROMO_PRUNE_MAX_BATCHES
    total = 0
    for _ in range(batches):
        pks = list(queryset.order_by().values_list("pk", flat=True)[:size])
        if not pks:
            break
        total += queryset.filter(pk__in=pks).update(**values)
        if len(pks) < size:
            break
    return total
