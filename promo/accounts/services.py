"""Writes of the accounts app: the nightly prune of expired sessions and of old sign-in rows."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from officers.models import OfficerSession
from promo.core.prune import delete_in_batches, update_in_batches


def sessions_prune_expired() -> int:
    """过期会话清理, in bounded batches; returns how many rows were deleted.

    1. A sign-in row (``OfficerSession``) still open whose session expired (idle or absolute
       lifetime) or is gone is ended as ``expired``, at its session's expiry when known: the
       officer's list of sign-ins says how each one ended, and the row no longer looks open.
    2. Expired sessions are deleted, as ``clearsessions`` would.
    3. Ended sign-in rows older than ``PROMO_SESSION_LOG_RETENTION_DAYS`` are deleted: they
       only serve the "previous sign-in" notice and the officer's list. The sign-ins and
       sign-outs themselves stay in the security log (promo.accounts.security), never pruned.
    """
    now = timezone.now()
    live = Session.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=now)
    expiry = Session.objects.filter(session_key=OuterRef("session_key")).values("expire_date")
    update_in_batches(
        OfficerSession.objects.filter(ended_at__isnull=True).filter(~Exists(live)),
        {"ended_at": Coalesce(Subquery(expiry[:1]), now), "ended_why": "expired"},
    )
    deleted = delete_in_batches(Session.objects.filter(expire_date__lt=now))
    cutoff = now - timedelta(days=settings.PROMO_SESSION_LOG_RETENTION_DAYS)
    deleted += delete_in_batches(OfficerSession.objects.filter(ended_at__lt=cutoff))
    return deleted
