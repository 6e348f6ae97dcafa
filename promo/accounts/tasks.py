"""Celery tasks of the accounts app: the nightly prune of expired sessions."""

from __future__ import annotations

from celery import shared_task

from promo.core.prune import PRUNE_TASK

from .services import sessions_prune_expired


@shared_task(**PRUNE_TASK)
def prune_expired_sessions() -> int:
    """过期会话清理: what ``manage.py clearsessions`` does, a bounded batch at a time."""
    return sessions_prune_expired()
