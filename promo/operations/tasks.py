"""Operations tasks: the heartbeat (beat sends it, a worker runs it, and both are then known to
be alive) and the nightly prune of used form submission keys."""

from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone

from promo.core.prune import PRUNE_TASK
from promo.core.submissions import prune_form_submissions
from promo.operations.services import BEAT, WORKER, heartbeat_record


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """运行心跳: record the worker (it is running this) and beat (it sent this).

    The schedule gives the message an expiry of two intervals, so a message that waited
    longer in the queue is dropped, and "beat" is then never more than two intervals late.
    """
    now = timezone.now()
    heartbeat_record(WORKER, at=now, detail=socket.gethostname())
    heartbeat_record(BEAT, at=now)


@shared_task(**PRUNE_TASK)
def prune_form_submission_keys() -> int:
    """提交记录清理: delete form submission keys older than PROMO_FORM_SUBMISSION_DAYS
    (promo/core/submissions.py)."""
    return prune_form_submissions()
