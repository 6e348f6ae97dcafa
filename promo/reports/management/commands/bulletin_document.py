"""``manage.py bulletin_document 42 --format pdf --output b.pdf``: write a bulletin's document.

The same generators as the downloads (promo.reports.documents, promo.reports.exports), for a
bulletin already made (``manage.py bulletin`` / ``ten_day_report`` make one); with
``--png`` the first pages of the PDF are also drawn as pictures by poppler's ``pdftoppm``,
as docs/screenshots/bulletin-pdf*.png were (docs/architecture.md).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from promo.reports.choices import BulletinKind
from promo.reports.documents import bulletin_docx, bulletin_pdf
from promo.reports.exports import bulletin_export_xlsx
from promo.reports.models import Bulletin

MAKERS = {"docx": bulletin_docx, "pdf": bulletin_pdf, "xlsx": bulletin_export_xlsx}


class Command(BaseCommand):
    help = (
        "Write a bulletin (通报 / 旬汇报) as DOCX, PDF or XLSX, as its download does. "
        "BULLETIN is its id, or 'latest' for the latest monthly bulletin."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("bulletin", help="the bulletin's id, or 'latest' (monthly)")
        parser.add_argument("--format", choices=sorted(MAKERS), default="pdf")
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument("--language", default="zh-hans", help="zh-hans (default) or en")
        parser.add_argument(
            "--png",
            metavar="PREFIX",
            help="PDF only: also draw pages 1 and 2 as PREFIX-1.png and PREFIX-2.png "
            "(pdftoppm -png -r 80)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        which = options["bulletin"]
        if which == "latest":
            bulletin = (
                Bulletin.objects.filter(kind=BulletinKind.MONTHLY).order_by("-period_start").first()
            )
        else:
            bulletin = Bulletin.objects.filter(pk=int(which)).first() if which.isdigit() else None
        if bulletin is None:
            raise CommandError(f"No bulletin {which!r}: make one with manage.py bulletin.")
        fmt = options["format"]
        with translation.override(options["language"]):
            data = MAKERS[fmt](bulletin=bulletin)
        output = Path(options["output"])
        output.write_bytes(data)
        self.stdout.write(f"{bulletin}: {fmt.upper()} written to {output} ({len(data)} bytes)")
        prefix = options["png"]
        if prefix:
            if fmt != "pdf":
                raise CommandError("--png draws the PDF's pages: use it with --format pdf.")
            if shutil.which("pdftoppm") is None:
                raise CommandError("pdftoppm (Debian's poppler-utils) is not installed.")
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", str(output), prefix],
                check=True,
            )
            self.stdout.write(f"pages 1 and 2 drawn as {prefix}-1.png and {prefix}-2.png")
