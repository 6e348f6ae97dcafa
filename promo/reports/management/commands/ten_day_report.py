"""``manage.py ten_day_report --period 2026-10-2``: (re)generate the report of a closed 旬."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from promo.core.services import today
from promo.reports.choices import BulletinKind
from promo.reports.services import previous_ten_day_start

from ._periods import parse_month, run_for_period

# 上旬 1–10, 中旬 11–20, 下旬 21–month end.
_FIRST_DAY = {1: 1, 2: 11, 3: 21}


class Command(BaseCommand):
    help = (
        "(Re)generate the ten-day report (旬汇报) of a 旬 that has ended, as the Celery task "
        "generate_ten_day_report does; safe to run any number of times. --period is "
        "YYYY-MM-N with N the 旬 of the month: 1 = 上旬 (days 1–10), 2 = 中旬 (11–20), "
        "3 = 下旬 (21 to the month's end); e.g. 2026-10-2 is 11–20 October 2026. "
        "Without --period: the 旬 that ended last."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--period",
            help="YYYY-MM-N, N = 1 (上旬), 2 (中旬) or 3 (下旬); default: the last closed 旬",
        )

    def handle(self, *args: Any, period: str | None = None, **options: Any) -> None:
        if period is None:
            start = previous_ten_day_start(today())
        else:
            month, _, part = period.rpartition("-")
            if part not in ("1", "2", "3") or not month:
                raise CommandError(
                    f"--period must be YYYY-MM-N with N = 1, 2 or 3 (e.g. 2026-10-2), "
                    f"not {period!r}."
                )
            year, number = parse_month(month, "--period")
            start = date(year, number, _FIRST_DAY[int(part)])
        run_for_period(
            self,
            kind=BulletinKind.TEN_DAY,
            period_start=start,
            label=f"Ten-day report {start:%Y-%m}-{(start.day - 1) // 10 + 1}",
        )
