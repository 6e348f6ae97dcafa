"""Celery tasks of the cockpit: keep the summary table of the cockpits being read fresh, and
reconcile the daily summary of the additive figures with the raw rows every night."""

from __future__ import annotations

from celery import shared_task

from promo.core.services import today
from promo.reports.tasks import _RETRY

from .snapshots import refresh_due
from .summary import reconcile


@shared_task(**{**_RETRY, "max_retries": 2})
def refresh_cockpit_snapshots() -> int:
    """Recompute the cockpits read recently before they age out; returns how many."""
    return refresh_due()


@shared_task(**{**_RETRY, "max_retries": 2})
def reconcile_cockpit_summary() -> dict[str, object]:
    """驾驶舱汇总核对: compare the daily summary with the raw rows (promo/dashboard/summary.py)."""
    result = reconcile(today())
    return {
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "mismatches": len(result.mismatches),
        "corrected": result.corrected,
    }
