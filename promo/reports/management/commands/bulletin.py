"""``manage.py bulletin --month 2026-10``: (re)generate the monthly bulletin of a closed month."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand

from promo.core.services import today
from promo.reports.choices import BulletinKind
from promo.reports.services import previous_month_start

from ._periods import parse_month, run_for_period


class Command(BaseCommand):
    help = (
        "(Re)generate the monthly bulletin (月度通报) of a month that has ended, as the "
        "Celery task generate_monthly_bulletin does: a draft is recomputed, a published "
        "bulletin keeps its figures and gains amendments for what changed since. Safe to "
        "run any number of times. Without --month: last month."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--month", help="the month, as YYYY-MM (e.g. 2026-10); default: last month"
        )

    def handle(self, *args: Any, month: str | None = None, **options: Any) -> None:
        if month is None:
            start = previous_month_start(today())
        else:
            year, number = parse_month(month, "--month")
            start = date(year, number, 1)
        run_for_period(
            self,
            kind=BulletinKind.MONTHLY,
            period_start=start,
            label=f"Monthly bulletin {start:%Y-%m}",
        )
