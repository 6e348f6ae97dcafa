"""Check a background part's heartbeat, for container health checks.

python manage.py heartbeat --check beat          # exit 0 when beat's heartbeat is fresh
python manage.py heartbeat --check worker --max-age 120
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from promo.operations.models import Heartbeat
from promo.operations.selectors import heartbeat_max_age
from promo.operations.services import BEAT, WORKER


class Command(BaseCommand):
    help = "Exit non-zero when the worker's or beat's last heartbeat is too old."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", choices=[WORKER, BEAT], required=True)
        parser.add_argument(
            "--max-age", type=int, help="seconds (default: three heartbeat intervals)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["max_age"] or int(heartbeat_max_age().total_seconds())
        seen = Heartbeat.objects.filter(name=options["check"]).values_list("seen_at", flat=True)
        at = seen.first()
        if at is None:
            raise CommandError(f"{options['check']}: no heartbeat yet")
        age = (timezone.now() - at).total_seconds()
        if age > limit:
            raise CommandError(f"{options['check']}: last heartbeat {age:.0f} s ago (> {limit} s)")
        self.stdout.write(f"{options['check']}: heartbeat {age:.0f} s ago")
