"""Celery task of the cockpit: keep the summary table of the cockpits being read fresh."""

from __future__ import annotations

from celery import shared_task

from promo.reports.tasks import _RETRY

from .snapshots import refresh_due


@shared_task(**{**_RETRY, "max_retries": 2})
def refresh_cockpit_snapshots() -> int:
    """Recompute the cockpits read recently before they age out; returns how many."""
    return refresh_due()
