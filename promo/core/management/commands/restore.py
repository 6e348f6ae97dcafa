"""Restore a backup made by ``manage.py backup``.

    python manage.py restore var/backups/promo-20261203-061500            # into a new database
    python manage.py restore FOLDER --into promo_copy                       # another name
    python manage.py restore FOLDER --replace                               # over promo's own

The checksums of the manifest are checked first; the dump is restored in one transaction;
row counts and triggers are compared with the manifest afterwards. Without ``--replace`` an
existing database or a non-empty media folder is never touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from promo.core.backup import BackupError, Database, restore


class Command(BaseCommand):
    help = "Restore the database and the media files from a backup folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="a promo-<stamp>/ folder written by manage.py backup")
        parser.add_argument(
            "--into", help="database name to create (default: the configured database)"
        )
        parser.add_argument(
            "--media-root",
            help="where the media files go (default: MEDIA_ROOT when restoring over promo's "
            "own database, else not restored)",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="drop and recreate an existing database and empty the media folder first",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        own = connection.settings_dict
        name = options["into"] or own["NAME"]
        media = options["media_root"]
        if media is None and name == own["NAME"]:
            media = settings.MEDIA_ROOT
        # This command's own connection must not hold the database being replaced.
        connection.close()
        db = Database.from_settings(own, name)
        try:
            manifest = restore(
                Path(options["folder"]),
                db,
                Path(media) if media else None,
                replace=options["replace"],
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"restored {manifest['database']} of {manifest['created_at']} into {name}: "
            f"{len(manifest['tables'])} tables, {rows} rows, {manifest['triggers']} triggers"
        )
