"""What the operations page shows: is every background part alive, is anything stuck."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from promo.core.services import today
from promo.imports.choices import BatchStatus
from promo.imports.models import ImportBatch
from promo.operations.models import Heartbeat
from promo.operations.services import BEAT, WORKER
from promo.reports.choices import BulletinKind, DeliveryStatus
from promo.reports.models import AlertNotice, Bulletin, WebhookDelivery
from promo.reports.services import previous_month_start, previous_ten_day_start

# Import batches in these states are being worked on by a worker (or waiting for one).
_WORKING = (BatchStatus.QUEUED, BatchStatus.CHECKING, BatchStatus.COMMITTING)


@dataclass(frozen=True)
class Pulse:
    name: str
    seen_at: datetime | None
    age_seconds: float | None
    healthy: bool


def heartbeat_max_age() -> timedelta:
    """A heartbeat older than this means the part is down: three missed beats."""
    return timedelta(seconds=3 * settings.PROMO_HEARTBEAT_SECONDS)


def pulses(now: datetime | None = None) -> list[Pulse]:
    now = now or timezone.now()
    seen = dict(Heartbeat.objects.values_list("name", "seen_at"))
    out = []
    for name in (WORKER, BEAT):
        at = seen.get(name)
        age = (now - at).total_seconds() if at else None
        out.append(Pulse(name, at, age, at is not None and now - at <= heartbeat_max_age()))
    return out


def broker_queue_depth() -> int | None:
    """Messages waiting in the default Celery queue, or None when the broker does not answer.

    One second at most: the page must load while Redis is away (that is when it is read).
    """
    import redis

    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
        )
        return int(client.llen(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")))
    except (redis.RedisError, OSError):
        return None


def bulletin_rhythm(day: Any = None) -> list[dict[str, Any]]:
    """For each rhythm, the period that should exist by now and whether it does."""
    day = day or today()
    expected = {
        BulletinKind.MONTHLY: previous_month_start(day),
        BulletinKind.TEN_DAY: previous_ten_day_start(day),
    }
    found = {
        (kind, start): generated
        for kind, start, generated in Bulletin.objects.filter(
            Q(kind=BulletinKind.MONTHLY, period_start=expected[BulletinKind.MONTHLY])
            | Q(kind=BulletinKind.TEN_DAY, period_start=expected[BulletinKind.TEN_DAY])
        ).values_list("kind", "period_start", "generated_at")
    }
    return [
        {
            "kind": kind,
            "label": kind.label,
            "period_start": start,
            "generated_at": found.get((kind.value, start)),
            "present": (kind.value, start) in found,
        }
        for kind, start in expected.items()
    ]


def outbox() -> dict[str, Any]:
    """Notices not yet sent (pending, with the oldest waiting) and those given up (failed)."""
    webhooks = WebhookDelivery.objects.aggregate(
        count=Count("id", filter=Q(status=DeliveryStatus.PENDING)),
        oldest=Min("created_at", filter=Q(status=DeliveryStatus.PENDING)),
        failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
    )
    emails = AlertNotice.objects.aggregate(
        count=Count("id", filter=Q(email_status=DeliveryStatus.PENDING)),
        oldest=Min("created_at", filter=Q(email_status=DeliveryStatus.PENDING)),
        failed=Count("id", filter=Q(email_status=DeliveryStatus.FAILED)),
    )
    return {"webhooks": webhooks, "emails": emails}


def imports_in_flight() -> dict[str, Any]:
    return ImportBatch.objects.filter(status__in=_WORKING).aggregate(
        count=Count("id"), oldest=Min("created_at"), quietest=Min("heartbeat_at")
    )


def operations_status() -> dict[str, Any]:
    """Everything the operations page shows, read from PostgreSQL (and the queue length)."""
    return {
        "now": timezone.now(),
        "pulses": pulses(),
        "queue_depth": broker_queue_depth(),
        "bulletins": bulletin_rhythm(),
        "outbox": outbox(),
        "imports": imports_in_flight(),
    }
