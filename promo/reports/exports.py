"""The bulletin (通报) as XLSX, laid out like the official table, built by promo.core.exports."""

from __future__ import annotations

import io
from typing import Any

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from openpyxl.utils import get_column_letter

from promo.core.exports import XLSX_TYPE, Cell, Sheet, attachment, workbook

from .choices import AMOUNT_FIGURES, BULLETIN_COLUMNS, Figure
from .models import Bulletin, BulletinAmendment, BulletinAmendmentCause, BulletinLine
from .selectors import agreement_cell_plain, bulletin_agreement_section

_AMOUNT_FORMAT = "#,##0.00"
_COUNT_FORMAT = "0"
_PERCENT_FORMAT = "0.0"

# After the figures: target completion, last year, rank, amendments (group, sub-header).
_TAIL = (
    (gettext_lazy("本年累计"), gettext_lazy("签约额目标完成率(%)")),
    (gettext_lazy("去年同期"), gettext_lazy("新签约总投资(万元)")),
    (gettext_lazy("排名"), ""),
    (gettext_lazy("更正"), ""),
)
_TOP, _SUB = 3, 4  # the two header rows


def _headers(n_cols: int) -> tuple[list[Any], list[Any], list[str]]:
    """The two header rows and their merges: a group over its sub-headers, or one name over
    both rows."""
    headers = [
        (str(group), str(sub))
        for group, sub in [
            (_("序号"), ""),
            (_("单位"), ""),
            *((g, s) for _f, g, s in BULLETIN_COLUMNS),
            *_TAIL,
        ]
    ]
    top: list[Any] = [None] * n_cols
    sub: list[Any] = [None] * n_cols
    merges = []
    col = 1
    while col <= len(headers):
        group = headers[col - 1][0]
        span = 1
        while col + span <= len(headers) and headers[col + span - 1][0] == group:
            span += 1
        top[col - 1] = group
        first, last = get_column_letter(col), get_column_letter(col + span - 1)
        if span > 1:
            merges.append(f"{first}{_TOP}:{last}{_TOP}")
            for offset in range(span):
                sub[col + offset - 1] = headers[col + offset - 1][1]
        elif headers[col - 1][1]:
            sub[col - 1] = headers[col - 1][1]
        else:
            merges.append(f"{first}{_TOP}:{first}{_SUB}")
        col += span
    return top, sub, merges


def _line(line: BulletinLine, number: Any, name: str, *, bold: bool = False) -> list[Cell]:
    def cell(value: Any, number_format: str | None = None) -> Cell:
        return Cell(value, bold=bold, number_format=number_format, border=True)

    cells = [cell(number), cell(name)]
    for figure, _g, _s in BULLETIN_COLUMNS:
        value = line.figure(figure)
        if figure in AMOUNT_FIGURES:
            cells.append(cell(float(value), _AMOUNT_FORMAT))
        else:
            cells.append(cell(int(value), _COUNT_FORMAT))
    percent = line.target_percent("signed_amount")
    cells.append(cell(float(percent) if percent is not None else None, _PERCENT_FORMAT))
    cells.append(cell(float(line.last_year_figure(Figure.SIGNED_AMOUNT)), _AMOUNT_FORMAT))
    cells.append(cell(line.rank))
    notes = [_amendment_note(a) for a in sorted(line.amendments.all(), key=lambda a: a.pk)]
    cells.append(cell("；".join(notes) or None))
    return cells


def _amendment_note(amendment: BulletinAmendment) -> str:
    """``figure：old→new``, then the records that moved it with who, when and why."""
    note = (
        f"{amendment.get_figure_display()}："
        f"{amendment.old_value.normalize():f}→{amendment.new_value.normalize():f}"
    )
    causes = [cause.summary for cause in amendment.causes.all()]
    if amendment.unlisted_causes:
        n = amendment.unlisted_causes
        causes.append(
            ngettext("另有 %(n)s 条记录未列出。", "另有 %(n)s 条记录未列出。", n) % {"n": n}
        )
    return f"{note}：{'，'.join(causes)}" if causes else note


def bulletin_sheet(bulletin: Bulletin) -> Sheet:
    """Title, period, two header rows, one row per unit, the bureau's own records (局本级),
    then the total; all but the title and the period in a bordered grid."""
    lines = list(
        bulletin.lines.select_related("unit").prefetch_related(
            "amendments",
            Prefetch(
                "amendments__causes", BulletinAmendmentCause.objects.select_related("changed_by")
            ),
        )
    )
    n_cols = 2 + len(BULLETIN_COLUMNS) + len(_TAIL)
    last = get_column_letter(n_cols)
    status = bulletin.get_status_display()
    top, sub, merges = _headers(n_cols)
    rows: list[list[Any]] = [
        [Cell(bulletin.title, bold=True, size=16, center=True)],
        [
            _("统计期间：%(start)s 至 %(end)s（%(status)s）")
            % {
                "start": f"{bulletin.period_start:%Y-%m-%d}",
                "end": f"{bulletin.period_end:%Y-%m-%d}",
                "status": status,
            }
        ],
        *(
            [Cell(value, bold=True, center=True, border=True) for value in row]
            for row in (top, sub)
        ),
    ]
    # Unit lines (numbered), the own-records lines (局本级), then 合计, each in its position.
    units = [line for line in lines if not line.is_total and not line.own_records_only]
    for number, line in enumerate(sorted(units, key=lambda line: line.position), start=1):
        rows.append(_line(line, number, line.label))
    for line in sorted((line for line in lines if line.own_records_only), key=lambda x: x.position):
        rows.append(_line(line, None, line.label))
    total = next((line for line in lines if line.is_total), None)
    if total is not None:
        rows.append(_line(total, None, str(total.label), bold=True))
    # The 协议履约 tables under the main one (by unit, by signing-year cohort), each cell the
    # rate over its numerator and denominator as the page prints it.
    section = bulletin_agreement_section(bulletin)
    for spec in section["agreement_tables"]:
        if not spec["rows"]:
            continue
        rows.append([])
        rows.append([Cell(str(spec["title"]), bold=True)])
        rows.append(
            [
                Cell(str(header), bold=True, center=True, border=True)
                for header in ["", spec["key_header"], *section["agreement_headers"]]
            ]
        )
        for row in spec["rows"]:
            rows.append(
                [
                    Cell("", border=True),
                    Cell(row["name"], bold=row["is_total"], border=True),
                    *(
                        Cell(agreement_cell_plain(cell), bold=row["is_total"], border=True)
                        for cell in row["cells"]
                    ),
                ]
            )
    return Sheet(
        title=f"{bulletin.period_start:%Y-%m}"[:31],
        rows=rows,
        widths={"B": 22, **{get_column_letter(c): 12 for c in range(3, n_cols + 1)}},
        merges=[f"A1:{last}1", f"A2:{last}2", *merges],
        freeze=f"C{_SUB + 1}",
    )


# Every cell in a CJK font (not openpyxl's Calibri): 仿宋 as the bureau's documents use,
# with the GB2312 character set so a machine without it substitutes a Chinese font (on
# Linux, fontconfig's Noto Serif CJK SC).
XLSX_FONT = "仿宋"
XLSX_FONT_CHARSET = 134  # GB2312


def _page_setup(data: bytes, bulletin: Bulletin) -> bytes:
    """Make the sheet fit to send: A4 landscape, fit to one page wide, the two header rows
    printed on every page, page numbers in the footer, the issuing body and date (落款)
    below the table on the right, and every cell in ``XLSX_FONT``. Applied to the finished
    workbook (a bulletin is a few dozen rows) so the shared builder stays write-only."""
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment
    from openpyxl.utils.indexed_list import IndexedList

    from .documents import issuing_body, signed_on

    book = load_workbook(io.BytesIO(data))
    ws = book.active
    last_row, n_cols = ws.max_row, ws.max_column
    # 落款: one blank row under the table, then the bureau and the date, right-aligned over
    # the last columns.
    first = get_column_letter(max(n_cols - 5, 3))
    end = get_column_letter(n_cols)
    day = signed_on(bulletin)
    for offset, value in ((2, issuing_body()), (3, f"{day.year}年{day.month}月{day.day}日")):
        row = last_row + offset
        ws[f"{first}{row}"] = value
        ws[f"{first}{row}"].alignment = Alignment(horizontal="right")
        ws.merge_cells(f"{first}{row}:{end}{row}")
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=n_cols):
        for cell in row:
            cell.font = _cjk(cell.font)
    # The workbook's default font too (cells under a merge, cells typed into later).
    fonts = list(book._fonts)
    fonts[0] = _cjk(fonts[0])
    book._fonts = IndexedList(fonts)
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the units need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{_TOP}:{_SUB}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.7
    ws.oddFooter.center.text = "— &P —"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cjk(font: Any) -> Any:
    from openpyxl.styles import Font

    return Font(
        name=XLSX_FONT,
        charset=XLSX_FONT_CHARSET,
        size=font.size or 11,
        bold=font.bold,
        italic=font.italic,
        color=font.color,
    )


def bulletin_export_xlsx(*, bulletin: Bulletin) -> bytes:
    """The bulletin as an XLSX laid out like the official table, set up to print."""
    return _page_setup(workbook([bulletin_sheet(bulletin)]), bulletin)


def bulletin_download(bulletin: Bulletin) -> HttpResponse:
    """The bulletin's XLSX as an attachment ``bulletin-<kind>-<first day>.xlsx``."""
    return attachment(
        bulletin_export_xlsx(bulletin=bulletin),
        filename=f"bulletin-{bulletin.kind}-{bulletin.period_start:%Y-%m-%d}.xlsx",
        content_type=XLSX_TYPE,
    )
