"""Celery tasks of the leads app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from .services import refresh_all_lead_activity


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5, acks_late=True)
def refresh_lead_activity() -> int:
    """Nightly safety net: a lead's last follow-up follows its newest visit. Safe to run twice."""
    return refresh_all_lead_activity()
