"""Writes of the operations app: heartbeats."""

from __future__ import annotations

from datetime import datetime

from promo.operations.models import Heartbeat

WORKER = "worker"
BEAT = "beat"


def heartbeat_record(name: str, *, at: datetime, detail: str = "") -> Heartbeat:
    """Record that ``name`` was alive at ``at`` (never moves a heartbeat back in time)."""
    beat, created = Heartbeat.objects.get_or_create(
        name=name, defaults={"seen_at": at, "detail": detail[:200]}
    )
    if not created and at > beat.seen_at:
        Heartbeat.objects.filter(pk=name, seen_at__lt=at).update(seen_at=at, detail=detail[:200])
        beat.refresh_from_db()
    return beat
