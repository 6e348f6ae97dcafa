"""Writes of the accounts app: the nightly prune of expired sessions."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone

from promo.core.prune import delete_in_batches


def sessions_prune_expired() -> int:
    """Delete expired sessions (过期会话), as ``clearsessions`` would, in bounded batches."""
    return delete_in_batches(Session.objects.filter(expire_date__lt=timezone.now()))
