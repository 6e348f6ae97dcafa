"""Celery tasks of the reports app: thin wrappers that take dates and call the services.

Each is safe to run twice (bulletin_generate works on the one row per period and runs in one
transaction, so a worker killed halfway leaves nothing behind and the re-delivered message,
thanks to ``acks_late``, completes the job).
"""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError

from promo.core.prune import PRUNE_TASK
from promo.core.services import today

from .choices import BulletinKind
from .services import (
    alert_deliveries_prune,
    alert_notices_send_email,
    alert_webhooks_deliver,
    alerts_evaluate,
    bulletin_generate,
    previous_month_start,
    previous_ten_day_start,
    read_notices_prune,
    recheck_published_bulletins,
)

# Transient faults worth a retry: the database or the broker went away for a moment.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
_RETRY = {
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


def _start(period_start: str | None, default: date) -> date:
    return date.fromisoformat(period_start) if period_start else default


@shared_task(**_RETRY)
def generate_monthly_bulletin(period_start: str | None = None) -> int:
    """每月一通报: the bulletin of the month ``period_start`` (default: last month); its id."""
    start = _start(period_start, previous_month_start(today()))
    return bulletin_generate(kind=BulletinKind.MONTHLY, period_start=start).pk


@shared_task(**_RETRY)
def generate_ten_day_report(period_start: str | None = None) -> int:
    """旬汇报: the report of the 旬 starting ``period_start`` (default: the one just ended)."""
    start = _start(period_start, previous_ten_day_start(today()))
    return bulletin_generate(kind=BulletinKind.TEN_DAY, period_start=start).pk


@shared_task(**_RETRY)
def check_bulletin_amendments(days: int = 400) -> int:
    """Re-run the published bulletins of the last ``days`` days; returns amendments recorded."""
    return recheck_published_bulletins(since=today() - timedelta(days=days))


@shared_task(**_RETRY)
def evaluate_alerts() -> dict[str, int]:
    """红黄灯督办: evaluate every rule for today, clear what cleared, climb the ladder."""
    return alerts_evaluate(on=today())


class DeliveryFailed(Exception):
    """Some e-mails of the run failed; the run is retried with backoff (sent ones are not resent)."""


@shared_task(**{**_RETRY, "autoretry_for": (*TRANSIENT, DeliveryFailed)})
def send_alert_emails() -> int:
    """督办通知邮件: e-mail the notices in the outbox; one failure never blocks the others."""
    sent, failed = alert_notices_send_email()
    if failed:
        raise DeliveryFailed(f"{failed} alert e-mail(s) failed; {sent} sent")
    return sent


@shared_task(**{**_RETRY, "autoretry_for": (*TRANSIENT, DeliveryFailed)})
def send_alert_webhooks() -> int:
    """消息推送: forward alert steps to the webhook channels; a failing channel is retried."""
    sent, failed = alert_webhooks_deliver()
    if failed:
        raise DeliveryFailed(f"{failed} webhook delivery(ies) failed; {sent} sent")
    return sent


@shared_task(**PRUNE_TASK)
def prune_alert_deliveries() -> int:
    """推送记录清理: delete webhook deliveries of long-cleared alerts (notices stay until read)."""
    return alert_deliveries_prune()


@shared_task(**PRUNE_TASK)
def prune_read_notices() -> int:
    """已读通知清理: delete notices read long ago whose alert is off the ladder."""
    return read_notices_prune()
