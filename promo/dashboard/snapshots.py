"""Serving the cockpit from its summary table (:class:`CockpitSnapshot`), never stale.

Rules, decided here once:

* A snapshot is served while it is younger than ``PROMO_DASHBOARD_CACHE_SECONDS`` (60 s by
  default; 0 computes on every request). Older, the request computes afresh — so what a
  chief reads is never older than the configured time, and the page says when it was
  computed (数据时间).
* ``refresh_cockpit_snapshots`` (Celery beat, every ``PROMO_DASHBOARD_REFRESH_SECONDS``)
  recomputes the snapshots read in the last ``PROMO_DASHBOARD_HOT_MINUTES`` once they are
  half their allowed age, stalest first, within a time budget: a cockpit that is being
  looked at stays fresh without a chief paying for the computation.
* One computation per key at a time: whoever computes holds a short Redis lock; a request
  that finds the lock taken waits (a few seconds at most) for the other's result instead of
  computing the same figures again. Without Redis, every request simply computes.
* The key is the scope (the unit ids the officer sees, or everything; own-records-only) and
  the filters, so the chiefs of a bureau share rows, and a refresh checks that the stored
  officer still has the key's scope before writing (an officer moved to another unit no
  longer refreshes the old scope's row).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import pickle
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from officers.models import Officer, Unit
from officers.selectors import scope_for
from promo.core.services import today

from .forms import Period
from .models import CockpitSnapshot
from .selectors import CockpitFilters, cockpit

log = logging.getLogger(__name__)

# v3: the tables gained the own-records rows (本级, "own_rows"); v4: the headline band; v5: the
# funnel is the period's (a dict of steps and closed counts, and each row's ``funnel``).
KEY_VERSION = "v5"
LOCK_SECONDS = 120
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.2
TOUCH_AFTER = timedelta(minutes=5)
FORGET_AFTER = timedelta(days=1)


def snapshot_key(officer: Officer, f: CockpitFilters) -> str:
    scope = scope_for(officer)
    units = "all" if scope.unit_ids is None else ",".join(map(str, sorted(scope.unit_ids)))
    raw = "|".join(
        [
            KEY_VERSION,
            units,
            str(scope.own_records_only),
            str(scope.officer_id) if scope.own_records_only else "",
            f.period.kind,
            f"{f.period.start}",
            f"{f.period.end}",
            f"{f.today}",
            str(getattr(f.unit, "pk", "")),
            f.industry,
            f.region,
            f.source_channel,
        ]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def _params(f: CockpitFilters) -> dict[str, Any]:
    return {
        "kind": f.period.kind,
        "start": f.period.start.isoformat(),
        "end": f.period.end.isoformat(),
        "today": f.today.isoformat(),
        "unit": getattr(f.unit, "pk", None),
        "industry": f.industry,
        "region": f.region,
        "source_channel": f.source_channel,
    }


def _filters(params: dict[str, Any]) -> CockpitFilters | None:
    unit = None
    if params.get("unit") is not None:
        unit = Unit.objects.filter(pk=params["unit"]).first()
        if unit is None:
            return None
    return CockpitFilters(
        period=Period(
            params["kind"], date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
        ),
        today=date.fromisoformat(params["today"]),
        unit=unit,
        industry=params.get("industry", ""),
        region=params.get("region", ""),
        source_channel=params.get("source_channel", ""),
    )


@contextlib.contextmanager
def _computing(key: str) -> Iterator[bool]:
    """True when this process may compute ``key`` (it holds the lock, or Redis is away)."""
    lock = f"dashboard:computing:{key}"
    try:
        mine = cache.add(lock, 1, LOCK_SECONDS)
    except Exception:  # Redis away: compute without coordination rather than fail the page.
        log.warning("cockpit lock unavailable; computing without it", exc_info=True)
        yield True
        return
    try:
        yield mine
    finally:
        if mine:
            with contextlib.suppress(Exception):
                cache.delete(lock)


def _load(snapshot: CockpitSnapshot) -> dict[str, Any] | None:
    try:
        context = pickle.loads(bytes(snapshot.payload))  # written by promo only
    except Exception:  # A payload from an older release: recompute rather than fail.
        log.warning("cockpit snapshot %s unreadable; recomputing", snapshot.pk, exc_info=True)
        return None
    context["as_of"] = snapshot.computed_at
    return context


def _fresh(key: str, max_age: int) -> CockpitSnapshot | None:
    cutoff = timezone.now() - timedelta(seconds=max_age)
    return CockpitSnapshot.objects.filter(key=key, computed_at__gte=cutoff).first()


def _store(officer: Officer, f: CockpitFilters, key: str) -> dict[str, Any]:
    started = time.perf_counter()
    context = cockpit(officer, f)
    now = timezone.now()
    elapsed = int((time.perf_counter() - started) * 1000)
    CockpitSnapshot.objects.bulk_create(
        [
            CockpitSnapshot(
                key=key,
                officer=officer,
                params=_params(f),
                payload=pickle.dumps(context, protocol=pickle.HIGHEST_PROTOCOL),
                computed_at=now,
                compute_ms=elapsed,
                read_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["officer", "params", "payload", "computed_at", "compute_ms"],
    )
    context["as_of"] = now
    return context


def _touch(snapshot: CockpitSnapshot) -> None:
    now = timezone.now()
    if snapshot.read_at < now - TOUCH_AFTER:
        CockpitSnapshot.objects.filter(pk=snapshot.pk).update(read_at=now)


def cockpit_served(officer: Officer, f: CockpitFilters) -> dict[str, Any]:
    """The cockpit for ``officer`` and ``f``, at most ``PROMO_DASHBOARD_CACHE_SECONDS`` old;
    ``as_of`` says when its figures were computed."""
    max_age = settings.PROMO_DASHBOARD_CACHE_SECONDS
    if max_age <= 0:
        context = cockpit(officer, f)
        context["as_of"] = timezone.now()
        return context
    key = snapshot_key(officer, f)
    snapshot = _fresh(key, max_age)
    if snapshot is not None and (context := _load(snapshot)) is not None:
        _touch(snapshot)
        return context
    with _computing(key) as mine:
        if not mine:
            # Someone else is computing these figures: wait for theirs.
            deadline = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
                snapshot = _fresh(key, max_age)
                if snapshot is not None and (context := _load(snapshot)) is not None:
                    return context
        return _store(officer, f, key)


def refresh_due(budget_seconds: float | None = None) -> int:
    """Recompute the recently read snapshots that are half their allowed age, stalest first,
    until the time budget is spent; forget the ones nobody has read for a day. Returns how
    many were recomputed."""
    max_age = settings.PROMO_DASHBOARD_CACHE_SECONDS
    if max_age <= 0:
        return 0
    budget = (
        budget_seconds if budget_seconds is not None else settings.PROMO_DASHBOARD_REFRESH_SECONDS
    )
    now = timezone.now()
    CockpitSnapshot.objects.filter(read_at__lt=now - FORGET_AFTER).delete()
    due = (
        CockpitSnapshot.objects.filter(
            read_at__gte=now - timedelta(minutes=settings.PROMO_DASHBOARD_HOT_MINUTES),
            computed_at__lt=now - timedelta(seconds=max_age / 2),
        )
        .select_related("officer")
        .defer("payload")
        .order_by("computed_at")
    )
    started = time.monotonic()
    day = today()
    done = 0
    with _computing("refresh-run") as mine:
        if not mine:  # The previous run is still going: it will get to these.
            return 0
        for snapshot in due:
            if time.monotonic() - started > budget:
                break
            done += _refresh_one(snapshot, day)
    return done


def _refresh_one(snapshot: CockpitSnapshot, day: date) -> int:
    f = _filters(snapshot.params)
    if f is None or f.today != day or not snapshot.officer.is_active:
        # A past day's figures (the period ended "today") or a scope that is gone.
        return 0
    if snapshot_key(snapshot.officer, f) != snapshot.key:
        CockpitSnapshot.objects.filter(pk=snapshot.pk).delete()
        return 0
    with _computing(snapshot.key) as mine:
        if not mine:
            return 0
        _store(snapshot.officer, f, snapshot.key)
    return 1
