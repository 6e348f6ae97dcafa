"""Celery tasks of the kernel: the nightly prune of used form submission keys."""

from __future__ import annotations

from celery import shared_task

from promo.core.prune import PRUNE_TASK
from promo.core.submissions import prune_form_submissions


@shared_task(**PRUNE_TASK)
def prune_form_submission_keys() -> int:
    """提交记录清理: delete form submission keys older than PROMO_FORM_SUBMISSION_DAYS."""
    return prune_form_submissions()
