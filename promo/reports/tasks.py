"""Celery tasks of the reports app: thin wrappers that take dates and call the services.

The periodic work reconciles instead of firing once (docs/operations.md): ``sweep`` makes
whatever should exist by now and does not (bulletins, ten-day reports, the day's traffic
lights and amendment check), and the two delivery tasks send the outbox rows that are due.
None of them retries: the next run, minutes later, is the retry, and a worker that starts
runs them at once. The bulletin and alert tasks below remain for running a job on demand
(``celery call``); a database fault makes them retry with backoff until the database is
back, for at most PROMO_RETRY_HORIZON_HOURS.

Each is safe to run twice (bulletin_generate works on the one row per period and runs in one
transaction, so a worker killed halfway leaves nothing behind and the re-delivered message,
thanks to ``acks_late``, completes the job).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from promo.core import retry
from promo.core.prune import PRUNE_TASK
from promo.core.services import today

from .choices import BulletinKind
from .services import (
    AMENDMENT_RECHECK_DAYS,
    alert_deliveries_prune,
    alert_notices_send_email,
    alert_webhooks_deliver,
    alerts_evaluate,
    bulletin_generate,
    previous_month_start,
    previous_ten_day_start,
    read_notices_prune,
    recheck_published_bulletins,
    schedule_sweep,
)

logger = logging.getLogger(__name__)

# Transient faults worth a retry: the database or the broker went away for a moment.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
# Celery's own retries, for the other apps' jobs (imports, cockpit and league refreshes),
# whose next run or resumption makes up for a message given up.
_RETRY = {
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
# An on-demand job: retried by _retry_until_horizon, as many times as its horizon allows.
_ON_DEMAND: dict[str, Any] = {"bind": True, "acks_late": True, "max_retries": None}


def _retry_until_horizon(
    task: Task, exc: Exception, first_tried_at: str | None, **pinned: Any
) -> None:
    """Retry ``task`` after a transient fault (raises Retry) until the horizon; past it,
    return, and the caller re-raises the fault.

    The budget is in time, not in attempts: a database down for an hour is waited out, one
    down for longer than PROMO_RETRY_HORIZON_HOURS fails the task (the sweep still makes a
    missing bulletin once the database is back). Run in-process (``apply``, a direct call)
    the fault is raised at once.
    """
    now = timezone.now()
    first = datetime.fromisoformat(first_tried_at) if first_tried_at else now
    attempt = task.request.retries + 1
    when = retry.next_attempt(first, attempt, now)
    if when is None or task.request.called_directly or task.request.is_eager:
        return
    logger.warning("%s: %s; retry %s at %s", task.name, exc, attempt, when.isoformat())
    # Every argument goes by name (``pinned``): a retry after midnight on the 1st still
    # makes the same month, and no positional argument is given twice.
    kwargs = {**pinned, "first_tried_at": first.isoformat()}
    raise task.retry(exc=exc, eta=when, args=(), kwargs=kwargs)


def _start(period_start: str | None, default: date) -> date:
    return date.fromisoformat(period_start) if period_start else default


@shared_task(acks_late=True)
def sweep() -> dict[str, int]:
    """巡检: make whatever should exist by now and does not (every few minutes, at start-up)."""
    return schedule_sweep()


@shared_task(acks_late=True)
def send_alert_emails() -> dict[str, int]:
    """督办通知邮件: e-mail the due notices; a failed one waits its backoff in the outbox."""
    sent, failed = alert_notices_send_email()
    return {"sent": sent, "failed": failed}


@shared_task(acks_late=True)
def send_alert_webhooks() -> dict[str, int]:
    """消息推送: forward the due alert steps to the webhook channels (same outbox rules)."""
    sent, failed = alert_webhooks_deliver()
    return {"sent": sent, "failed": failed}


@worker_ready.connect(dispatch_uid="promo.reports.tasks.sweep_on_worker_ready")
def sweep_on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    """A worker that starts sweeps at once, into the first queue it consumes: what was
    missed while no worker ran is made up now, not at the next beat."""
    queues = getattr(getattr(sender, "task_consumer", None), "queues", None) or []
    options = {"queue": queues[0].name} if queues else {}
    for task in (sweep, send_alert_emails, send_alert_webhooks):
        try:
            task.apply_async(**options)
        except Exception:  # the broker went away again: the beat's next run does it
            logger.warning("could not send %s at start-up", task.name, exc_info=True)


@shared_task(**_ON_DEMAND)
def generate_monthly_bulletin(
    self: Task, period_start: str | None = None, first_tried_at: str | None = None
) -> int:
    """每月一通报: the bulletin of the month ``period_start`` (default: last month); its id."""
    start = _start(period_start, previous_month_start(today()))
    try:
        return bulletin_generate(kind=BulletinKind.MONTHLY, period_start=start).pk
    except TRANSIENT as exc:
        pinned = {"period_start": start.isoformat()}
        _retry_until_horizon(self, exc, first_tried_at, **pinned)
        raise


@shared_task(**_ON_DEMAND)
def generate_ten_day_report(
    self: Task, period_start: str | None = None, first_tried_at: str | None = None
) -> int:
    """旬汇报: the report of the 旬 starting ``period_start`` (default: the one just ended)."""
    start = _start(period_start, previous_ten_day_start(today()))
    try:
        return bulletin_generate(kind=BulletinKind.TEN_DAY, period_start=start).pk
    except TRANSIENT as exc:
        pinned = {"period_start": start.isoformat()}
        _retry_until_horizon(self, exc, first_tried_at, **pinned)
        raise


@shared_task(**_ON_DEMAND)
def check_bulletin_amendments(
    self: Task, days: int = AMENDMENT_RECHECK_DAYS, first_tried_at: str | None = None
) -> int:
    """Re-run the published bulletins of the last ``days`` days; returns amendments recorded."""
    try:
        return recheck_published_bulletins(since=today() - timedelta(days=days))
    except TRANSIENT as exc:
        _retry_until_horizon(self, exc, first_tried_at, days=days)
        raise


@shared_task(**_ON_DEMAND)
def evaluate_alerts(self: Task, first_tried_at: str | None = None) -> dict[str, int]:
    """红黄灯督办: evaluate every rule for today, clear what cleared, climb the ladder."""
    try:
        return alerts_evaluate(on=today())
    except TRANSIENT as exc:
        _retry_until_horizon(self, exc, first_tried_at)
        raise


@shared_task(**PRUNE_TASK)
def prune_alert_deliveries() -> int:
    """推送记录清理: delete webhook deliveries of long-cleared alerts (notices stay until read)."""
    return alert_deliveries_prune()


@shared_task(**PRUNE_TASK)
def prune_read_notices() -> int:
    """已读通知清理: delete notices read long ago whose alert is off the ladder."""
    return read_notices_prune()
