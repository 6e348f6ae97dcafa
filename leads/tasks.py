"""Celery tasks of the leads app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .services import refresh_all_lead_activity

# The database or the broker went away for a moment: retried with growing, jittered waits
# (about 1, 2, 4 … up to 10 minutes apart). The task is safe to run twice.
_TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def refresh_lead_activity() -> int:
    """Nightly safety net: a lead's last follow-up follows its newest visit. Safe to run twice."""
    return refresh_all_lead_activity()
