"""Re-encrypt every stored personal datum under the first of ``PROMO_FIELD_KEYS``.

    python manage.py rotate_field_keys [--reindex] [--dry-run]

After a new key is put first in ``PROMO_FIELD_KEYS`` (the old ones kept after it), this
rewrites every encrypted column of every table, the history tables included, so the old key
can then be removed. ``--reindex`` also recomputes the blind indexes (after a change of
``PROMO_BLIND_INDEX_KEY``). Rows already under the first key are left alone, so a run that
was interrupted is simply run again. The history triggers do not fire: no value changes.
Run it as the database owner (the role that migrates): docs/operations.md.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from promo.core.field_keys import encrypted_tables, reencrypt_table


class Command(BaseCommand):
    help = "Re-encrypt personal data under the first PROMO_FIELD_KEYS key (rotation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="also recompute the blind indexes (after PROMO_BLIND_INDEX_KEY changed)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would change, write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for spec in encrypted_tables():
            # One transaction per table: a long rotation keeps what it has done if stopped.
            with transaction.atomic(), pgtrigger.ignore(), connection.cursor() as cursor:
                written = reencrypt_table(cursor, spec, reindex=options["reindex"])
                if options["dry_run"]:
                    transaction.set_rollback(True)
            total += written
            self.stdout.write(f"{spec.table}: {written} rows")
        verb = "would be re-encrypted" if options["dry_run"] else "re-encrypted"
        self.stdout.write(self.style.SUCCESS(f"{total} rows {verb}."))
