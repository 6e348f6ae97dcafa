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
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise


@dataclass(frozen=True)
class Column:
    """One exported column: its header and how a row's value is read.

    ``value`` reads it from a model instance. ``fields`` (ORM paths, read by ``values_list``)
    and ``combine`` (of those fields' values; the first one by default) read it without
    instances: a list whose columns all name their fields is exported from tuples, the fast
    path of large exports. ``labels`` (a choices class) shows a stored code as its label,
    translated once per export and value, not once per row.
    """

    header: str
    value: Callable[[Any], Any]
    fields: tuple[str, ...] = ()
    combine: Callable[..., Any] | None = None
    labels: Any = None


def column(
    header: str,
    path: str,
    *,
    labels: Any = None,
    combine: Callable[..., Any] | None = None,
    also: tuple[str, ...] = (),
) -> Column:
    """A column read from the field ``path`` (``investor__name``), on both paths alike."""
    paths = (path, *also)

    def value(obj: Any) -> Any:
        values = [_follow(obj, p) for p in paths]
        return combine(*values) if combine else values[0]

    return Column(header, value, fields=paths, combine=combine, labels=labels)


def _follow(obj: Any, path: str) -> Any:
    for name in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def _labels(columns: Sequence[Column]) -> list[dict[Any, str] | None]:
    """Per column, {code: label} in the active language, or None: one translation per value."""
    return [
        {value: str(label) for value, label in column.labels} if column.labels is not None else None
        for column in columns
    ]


def table_rows(
    columns: Sequence[Column], queryset: Any, *, chunk_size: int = 2000
) -> Iterator[list[Any]]:
    """The rows of ``queryset`` as cell values, streamed ``chunk_size`` rows a query.

    When every column names its fields, only those columns are read (``values_list``): no
    model instances, no related objects. Choice codes become labels through one dict per
    column built before the loop.
    """
    labels = _labels(columns)
    if all(column.fields for column in columns):
        paths: list[str] = []
        slices = []
        for column in columns:
            start = len(paths)
            paths.extend(column.fields)
            slices.append((start, len(paths), column.combine))
        tuples = queryset.prefetch_related(None).values_list(*paths).iterator(chunk_size=chunk_size)
        for values in tuples:
            row = []
            for (start, end, combine), names in zip(slices, labels, strict=True):
                value = combine(*values[start:end]) if combine else values[start]
                if names is not None:
                    value = names.get(value, value)
                row.append(_cell(value))
            yield row
        return
    for obj in queryset.iterator(chunk_size=chunk_size):
        row = []
        for column, names in zip(columns, labels, strict=True):
            value = column.value(obj)
            if names is not None:
                value = names.get(value, value)
            row.append(_cell(value))
        yield row


def _cell(value: Any) -> Any:
    if isinstance(value, Promise):  # a lazy translation (gettext_lazy): its text
        return str(value)
    if isinstance(value, Decimal):
        # A number in the sheet, not text: sums and filters work in Excel.
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _rows(columns: Sequence[Column], objects: Iterable[Any]) -> Iterator[list[Any]]:
    labels = _labels(columns)
    for obj in objects:
        row = []
        for column, names in zip(columns, labels, strict=True):
            value = column.value(obj)
            if names is not None:
                value = names.get(value, value)
            row.append(_cell(value))
        yield row


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


# A text that a spreadsheet would read as a formula when the file is opened (CSV injection:
# "=HYPERLINK(…)", "+1+cmd|…", "@SUM(…)", or one hidden behind a tab or carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralised(value: Any) -> Any:
    """A CSV cell that opens as the text it is: a formula-like text gets a leading
    apostrophe (OWASP's advice for CSV); anything else is unchanged."""
    return "'" + value if is_formula_like(value) else value


def _text_cell(sheet: Any, value: str) -> Any:
    """An openpyxl cell holding ``value`` as text even when it starts like a formula
    (openpyxl would otherwise write "=…" as a live formula)."""
    from openpyxl.cell import WriteOnlyCell

    out = WriteOnlyCell(sheet, None)
    out._value = value  # openpyxl sets data_type "f" for "=…" when set through .value
    out.data_type = "s"
    return out


def _styled(sheet: Any, cell: Cell) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, Side

    value = _cell(cell.value)
    out = _text_cell(sheet, value) if is_formula_like(value) else WriteOnlyCell(sheet, value)
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


def _written(sheet: Any, value: Any, *, bold: bool) -> Any:
    if isinstance(value, Cell):
        return _styled(sheet, value)
    if bold:
        return _styled(sheet, Cell(value, bold=True))
    value = _cell(value)
    return _text_cell(sheet, value) if is_formula_like(value) else value


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


def _csv_values(row: Sequence[Any]) -> list[Any]:
    return [
        "" if v is None else v.isoformat() if isinstance(v, date) else neutralised(v) for v in row
    ]


def to_csv(columns: tuple[Column, ...], objects: Iterable[Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    for row in _rows(columns, objects):
        writer.writerow(_csv_values(row))
    return buffer.getvalue().encode("utf-8-sig")


# --- One table as XLSX, streamed ---------------------------------------------------------
#
# openpyxl's write-only mode keeps memory constant but, without lxml (not a dependency),
# serialises ~20,000 cells a second: 220 s for a province's 300,000 leads. A list export is
# one plain table (a bold header, then values), so it is written here straight into the
# zip: the same workbook parts openpyxl writes, cells as inline strings, numbers and
# dates (a number with a date format, as Excel stores them), about ten times faster.
# openpyxl reads these files (the import and the tests do); the styled workbooks of the
# cockpit, campaigns and bulletins stay with ``workbook()``.

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = date(1899, 12, 30)
_STRING_MAX = 32767  # the most characters an Excel cell holds

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Style 0: plain; 1: bold (the header); 2: a date (yyyy-mm-dd); 3: a date and time.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd h:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _xml_text(value: str) -> str:
    value = _XML_ILLEGAL.sub("", value)[:_STRING_MAX]
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xlsx_cell(value: Any) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f"<c><v>{value!r}</v></c>"
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        delta = value - datetime(1899, 12, 30)
        serial = delta.days + delta.seconds / 86400
        return f'<c s="3"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c s="2"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_xml_text(str(value))}</t></is></c>'


def write_xlsx_table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    path: str | os.PathLike[str],
    *,
    title: str,
) -> None:
    """One worksheet named ``title``: the bold ``header``, then ``rows``, streamed to ``path``."""
    sheet_name = _xml_text(re.sub(r"[\\[\]:*?/]", "", title)[:31] or "Sheet1").replace(
        '"', "&quot;"
    )
    created = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            "</cp:coreProperties>",
        )
        book.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)
            out.write(
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetData><row r="1">'
            )
            out.write(
                "".join(
                    f'<c s="1" t="inlineStr"><is><t xml:space="preserve">{_xml_text(h)}</t></is></c>'
                    for h in header
                )
            )
            out.write("</row>")
            cell = _xlsx_cell
            for number, row in enumerate(rows, start=2):
                out.write(f'<row r="{number}">{"".join([cell(v) for v in row])}</row>')
            out.write("</sheetData></worksheet>")
            out.flush()
            out.detach()


# How often (in rows) a file being written reports its progress.
PROGRESS_EVERY = 5000


def write_table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    path: str | os.PathLike[str],
    *,
    fmt: str,
    title: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the header and ``rows`` to the file at ``path`` as XLSX or CSV; returns the number
    of rows. Memory stays constant whatever the number of rows: both are written row by row
    to the file (the XLSX by ``write_xlsx_table``). ``progress`` is told the count every
    ``PROGRESS_EVERY`` rows."""
    count = 0

    def counted(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        nonlocal count
        for row in rows:
            yield row
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)

    header = [c.header for c in columns]
    if fmt == "xlsx":
        write_xlsx_table(header, counted(rows), path, title=title)
    else:
        with open(path, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for row in counted(rows):
                writer.writerow(_csv_values(row))
    return count


def _csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """A CSV (UTF-8 with BOM) as chunks of a few hundred lines, for a streamed response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([c.header for c in columns])
    for number, row in enumerate(rows, start=1):
        writer.writerow(_csv_values(row))
        if number % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    """A download: ``filename="…"`` for an ASCII name, RFC 5987 ``filename*`` otherwise."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = _disposition(filename)
    return response


def xlsx_download(sheets: Iterable[Sheet], *, filename: str) -> HttpResponse:
    """The sheets as an XLSX attachment."""
    return attachment(workbook(sheets), filename=filename, content_type=XLSX_TYPE)


def file_name(title: str, fmt: str) -> str:
    """``<title>-<local time>.<fmt>``: the name of an exported list's file."""
    return f"{title}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{fmt}"


def _disposition(filename: str) -> str:
    if filename.isascii():
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def download(
    columns: tuple[Column, ...], queryset: Any, *, title: str, fmt: str
) -> StreamingHttpResponse | FileResponse:
    """A list's rows as an XLSX or CSV attachment named ``<title>-<local time>.<fmt>``.

    The CSV streams as it is read; the XLSX is written (write-only, constant memory) to a
    temporary file deleted once sent. Both read ``queryset`` a chunk at a time
    (``table_rows``); meant for lists up to ``PROMO_EXPORT_SYNC_MAX_ROWS`` rows, larger
    ones are export jobs (promo.imports).
    """
    name = file_name(title, fmt)
    rows = table_rows(columns, queryset)
    response: StreamingHttpResponse | FileResponse
    if fmt == "xlsx":
        handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # deleted when closed
        write_table(columns, rows, handle.name, fmt="xlsx", title=title)
        handle.seek(0)
        response = FileResponse(handle, content_type=XLSX_TYPE)
    else:
        response = StreamingHttpResponse(
            _csv_chunks(columns, rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = _disposition(name)
    return response
