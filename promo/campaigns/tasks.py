"""Celery task of the campaigns: keep the league tables being read fresh."""

from __future__ import annotations

from celery import shared_task

from promo.core.services import today
from promo.reports.tasks import _RETRY

from .selectors import refresh_due_leagues


@shared_task(**{**_RETRY, "max_retries": 2})
def refresh_campaign_leagues() -> int:
    """Recompute the league tables read recently before they age out; returns how many."""
    return refresh_due_leagues(today())
