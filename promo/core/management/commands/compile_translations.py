"""Compile every ``locale/*/LC_MESSAGES/*.po`` to ``.mo`` in pure Python (polib).

Django's own ``compilemessages`` calls GNU ``msgfmt``; a fresh machine running ``make run``
or ``make test`` has no gettext tools, so the committed catalogues are compiled here
instead. The ``.mo`` files are build output and are not committed.

    python manage.py compile_translations
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogues(locale_dirs: list[Path]) -> list[Path]:
    """Every ``<locale dir>/<language>/LC_MESSAGES/<domain>.po``, in a stable order."""
    found: list[Path] = []
    for locale_dir in locale_dirs:
        found.extend(sorted(locale_dir.glob("*/LC_MESSAGES/*.po")))
    return found


def compile_catalogue(po_path: Path) -> tuple[Path, int]:
    """Write ``po_path`` as a ``.mo`` next to it; returns the path and the entries compiled.

    Fuzzy and untranslated entries are left out, as ``msgfmt`` does. The file is written
    under a temporary name and renamed, so a process reading it never sees half a file.
    """
    catalogue = polib.pofile(str(po_path))
    mo_path = po_path.with_suffix(".mo")
    handle, temporary = tempfile.mkstemp(prefix=".compile-", suffix=".mo", dir=po_path.parent)
    os.close(handle)
    try:
        catalogue.save_as_mofile(temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, mo_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return mo_path, len(catalogue.translated_entries())


class Command(BaseCommand):
    help = "Compile every locale/*/LC_MESSAGES/*.po to .mo without GNU gettext."

    # Only files are written: no database, so no system checks that might want one.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        locale_dirs = [Path(path) for path in settings.LOCALE_PATHS]
        found = catalogues(locale_dirs)
        if not found:
            raise CommandError("No .po files under " + ", ".join(str(path) for path in locale_dirs))
        for po_path in found:
            try:
                mo_path, count = compile_catalogue(po_path)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{po_path}: {exc}") from exc
            if options["verbosity"] >= 1:
                self.stdout.write(f"compiled {mo_path} ({count} messages)")
