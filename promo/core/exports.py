"""The one export builder (导出): a list's rows as XLSX or CSV, with the columns each app names,
and every other workbook (the cockpit's tables, a campaign's league, the bulletin) as ``Sheet``s.

Headers are the Chinese words the ledgers use, so an exported file can be edited and
imported again (promo.imports recognises every header written here); amounts are numbers,
not strings; CSV carries a UTF-8 BOM so Excel on a Chinese Windows opens it correctly.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import Promise


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def _cell(value: Any) -> Any:
    if isinstance(value, Promise):  # a lazy translation (gettext_lazy): its text
        return str(value)
    if isinstance(value, Decimal):
        # A number in the sheet, not text: sums and filters work in Excel.
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _rows(columns: Iterable[Column], objects: Iterable[Any]):
    for obj in objects:
        yield [_cell(column.value(obj)) for column in columns]


@dataclass(frozen=True)
class Cell:
    """A cell with a style: bold (with a font size), a number format, centred, thin borders."""

    value: Any
    bold: bool = False
    size: float | None = None
    number_format: str | None = None
    center: bool = False
    border: bool = False


@dataclass(frozen=True)
class Sheet:
    """One worksheet: an optional bold title line, then the rows (values or ``Cell``s).

    ``bold_rows`` of the rows, after the title, are headers written bold; ``widths`` maps a
    column letter to its width; ``merges`` are ranges like ``"A1:S1"`` (only their first cell
    holds a value); ``freeze`` is the first cell that scrolls.
    """

    title: str
    rows: Iterable[Sequence[Any]]
    heading: str | None = None
    bold_rows: int = 0
    widths: Mapping[str, float] = field(default_factory=dict)
    merges: Sequence[str] = ()
    freeze: str | None = None


def _styled(sheet, cell: Cell):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, Side

    out = WriteOnlyCell(sheet, _cell(cell.value))
    if cell.bold:
        out.font = Font(bold=True) if cell.size is None else Font(bold=True, size=cell.size)
    if cell.number_format is not None:
        out.number_format = cell.number_format
    if cell.center:
        out.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if cell.border:
        thin = Side(style="thin")
        out.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    return out


def _written(sheet, value: Any, *, bold: bool) -> Any:
    if isinstance(value, Cell):
        return _styled(sheet, value)
    if bold:
        return _styled(sheet, Cell(value, bold=True))
    return _cell(value)


def workbook(sheets: Iterable[Sheet]) -> bytes:
    """The one XLSX builder: the sheets in order, each streamed row by row (write-only)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for spec in sheets:
        sheet = book.create_sheet(title=spec.title)
        # Widths and the frozen panes are written before the first row.
        for letter, width in spec.widths.items():
            sheet.column_dimensions[letter].width = width
        if spec.freeze:
            sheet.freeze_panes = spec.freeze
        if spec.heading is not None:
            sheet.append([_styled(sheet, Cell(spec.heading, bold=True))])
        for number, row in enumerate(spec.rows):
            bold = number < spec.bold_rows
            sheet.append([_written(sheet, value, bold=bold) for value in row])
        for merged in spec.merges:
            sheet.merged_cells.add(merged)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_xlsx(columns: tuple[Column, ...], objects: Iterable[Any], *, title: str) -> bytes:
    header = [c.header for c in columns]
    return workbook([Sheet(title=title, rows=itertools.chain([header], _rows(columns, objects)))])


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


def attachment(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    """A download: ``filename="…"`` for an ASCII name, RFC 5987 ``filename*`` otherwise."""
    response = HttpResponse(content, content_type=content_type)
    if filename.isascii():
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def xlsx_download(sheets: Iterable[Sheet], *, filename: str) -> HttpResponse:
    """The sheets as an XLSX attachment."""
    return attachment(workbook(sheets), filename=filename, content_type=XLSX_TYPE)


def download(
    columns: tuple[Column, ...], objects: Iterable[Any], *, title: str, fmt: str
) -> HttpResponse:
    """A list's rows as an XLSX or CSV attachment named ``<title>-<local time>.<fmt>``."""
    name = f"{title}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{fmt}"
    if fmt == "xlsx":
        return attachment(
            to_xlsx(columns, objects, title=title), filename=name, content_type=XLSX_TYPE
        )
    return attachment(
        to_csv(columns, objects), filename=name, content_type="text/csv; charset=utf-8"
    )
