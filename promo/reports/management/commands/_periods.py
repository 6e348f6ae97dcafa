"""What ``manage.py bulletin`` and ``manage.py ten_day_report`` share: run the service the
Celery task runs, for a period that has closed, and say what happened."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from promo.core.errors import DomainError
from promo.core.services import EARLIEST_PLAUSIBLE_DATE, today
from promo.reports.models import BulletinAmendment
from promo.reports.services import bulletin_generate, period_for


def run_for_period(command: BaseCommand, *, kind: str, period_start: date, label: str) -> int:
    """Generate (or re-check) the bulletin of ``kind`` starting ``period_start``; its id.

    Idempotent like the tasks, through the same service: ``bulletin_generate`` keeps one
    bulletin per period, recomputes a draft in place, and records the differences of a
    published one as amendments (a second run finds none left to record).
    """
    try:
        start, end = period_for(kind, period_start)
    except DomainError as exc:
        raise CommandError(f"{label}: {exc.message}") from exc
    if start < EARLIEST_PLAUSIBLE_DATE:
        raise CommandError(f"{label}: promo holds no period before {EARLIEST_PLAUSIBLE_DATE}.")
    if end >= today():
        # A period still running would report part of it as if it were the whole.
        raise CommandError(
            f"{label} ({start} – {end}) has not closed yet: it can be generated from "
            f"{end + timedelta(days=1)} on."
        )
    amendments = BulletinAmendment.objects.filter(
        line__bulletin__kind=kind, line__bulletin__period_start=start
    )
    before = amendments.count()
    bulletin = bulletin_generate(kind=kind, period_start=start)
    if bulletin.is_published:
        command.stdout.write(
            f"{label} ({start} – {end}) is published (id {bulletin.pk}): its figures stay; "
            f"{amendments.count() - before} new amendment(s) recorded."
        )
    else:
        command.stdout.write(
            f"{label} ({start} – {end}) generated as a draft (id {bulletin.pk}); "
            "a chief publishes it from the reports pages."
        )
    return bulletin.pk


def parse_month(raw: str, option: str) -> tuple[int, int]:
    """``YYYY-MM`` as (year, month), or a CommandError naming the option."""
    parts = raw.split("-")
    try:
        if len(parts) != 2 or len(parts[0]) != 4:
            raise ValueError(raw)
        year, month = int(parts[0]), int(parts[1])
        date(year, month, 1)
    except ValueError as exc:
        raise CommandError(
            f"{option} must be a month as YYYY-MM (e.g. 2026-10), not {raw!r}."
        ) from exc
    return year, month
