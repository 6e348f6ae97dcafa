"""The one export builder (导出): a list's rows as XLSX or CSV, with the columns each app names.

Headers are the Chinese words the ledgers use, so an exported file can be edited and
imported again (promo.imports recognises every header written here); amounts are numbers,
not strings; CSV carries a UTF-8 BOM so Excel on a Chinese Windows opens it correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A number in the sheet, not text: sums and filters work in Excel.
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _rows(columns: Iterable[Column], objects: Iterable[Any]):
    for obj in objects:
        yield [_cell(column.value(obj)) for column in columns]


def to_xlsx(columns: tuple[Column, ...], objects: Iterable[Any], *, title: str) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    sheet.append([c.header for c in columns])
    for row in _rows(columns, objects):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(columns: tuple[Column, ...], objects: Iterable[Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    for row in _rows(columns, objects):
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row]
        )
    return buffer.getvalue().encode("utf-8-sig")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(
    columns: tuple[Column, ...], objects: Iterable[Any], *, title: str, fmt: str
) -> HttpResponse:
    """The rows as an XLSX or CSV attachment named ``<title>-<local time>.<fmt>``."""
    if fmt == "xlsx":
        response = HttpResponse(to_xlsx(columns, objects, title=title), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(to_csv(columns, objects), content_type="text/csv; charset=utf-8")
    name = f"{title}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{fmt}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
