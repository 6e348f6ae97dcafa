"""Celery tasks of the agreements app."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .selectors import refresh_states


# The database or the broker went away for a moment: retried with growing, jittered waits.
# The task is safe to run twice: the second run finds nothing stale.
@shared_task(
    autoretry_for=(OperationalError, InterfaceError, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def refresh_agreement_states() -> int:
    """协议履约状态: recompute every agreement's state not of today (decision 0020); returns how
    many were stored."""
    return refresh_states()
