"""rebuild_cockpit_summary: recompute the cockpit's daily summary from the raw rows.

    manage.py rebuild_cockpit_summary                      # all of it
    manage.py rebuild_cockpit_summary --start 2026-01-01 --end 2026-12-31
    manage.py rebuild_cockpit_summary --check              # compare only; exit 1 on a difference

The triggers keep the summary as rows are written (promo/dashboard/summary.py); this is for
a restored or hand-fixed database, and what the migration ran for the existing rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from promo.dashboard.summary import compare, rebuild


class Command(BaseCommand):
    help = "Recompute the cockpit's daily summary (驾驶舱日汇总) from the raw rows."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--start", type=date.fromisoformat, default=None)
        parser.add_argument("--end", type=date.fromisoformat, default=None)
        parser.add_argument("--check", action="store_true", help="compare only, change nothing")

    def handle(
        self, *args: Any, start: date | None, end: date | None, check: bool, **options: Any
    ) -> None:
        if (start is None) != (end is None):
            raise CommandError("--start and --end go together.")
        if check:
            found = compare(start or date(1900, 1, 1), end or date(9999, 12, 31))
            for mismatch in found[:20]:
                self.stdout.write(str(mismatch))
            self.stdout.write(f"{len(found)} mismatched rows")
            if found:
                raise SystemExit(1)
            return
        written = rebuild(start, end)
        self.stdout.write(f"{written} summary rows written")
