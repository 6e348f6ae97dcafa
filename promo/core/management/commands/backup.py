"""Back up promo: the database (pg_dump custom format), the media files and a manifest.

    python manage.py backup [--to var/backups]

Writes ``<to>/promo-<UTC stamp>/``; see ``promo.core.backup`` and docs/operations.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from promo.core.backup import BackupError, Database, backup


class Command(BaseCommand):
    help = "Back up the database and the media files into one folder with a manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            default=str(Path(settings.BASE_DIR) / "var" / "backups"),
            help="folder that receives promo-<stamp>/ (default: var/backups)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        db = Database.from_settings(connection.settings_dict)
        try:
            folder = backup(db, Path(settings.MEDIA_ROOT), Path(options["to"]))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(str(folder))
