"""The bulletin (通报 / 旬汇报) as documents fit to send: Word (DOCX) and PDF, laid out after
GB/T 9704 (党政机关公文格式), from the same figures as its page, print page and XLSX.

Both documents have the same two parts (docs/architecture.md, "The bulletin as documents"):

1. The covering page, portrait A4 with GB/T 9704's margins (top 37 mm, bottom 35 mm, left
   28 mm, right 26 mm): the issuing body (发文机关标志, the bureau: the root unit's name) in
   red, the document number (发文字号, ``document_number``), a red rule, the title, the
   addressees, one paragraph of body text naming the period and the attachment, and the
   落款 (issuing body and date on the right).
2. The attachment (附件): the bulletin's table on landscape A4 pages (20 columns do not fit
   a portrait page), its two header rows repeated on every page and no row split across
   two; below it the amendments (更正说明) with their causes.

Fonts are named as a bureau's Word names them — 方正小标宋简体 (title and issuing body), 黑体
(the attachment mark), 仿宋_GB2312 (body, 三号 16 pt), 楷体 (the period line) — and fall back
to the Noto CJK fonts Debian's ``fonts-noto-cjk`` installs: in the PDF through the CSS
font-family lists, in the DOCX through the font table's ``w:altName``. A draft bulletin is
marked 草稿 in its title (and, in the PDF, by a watermark on every page).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree  # type: ignore[import-untyped]

from officers.models import Unit, tree_order
from promo.core import amounts
from promo.core.exports import attachment

from .choices import BulletinKind
from .models import Bulletin
from .selectors import agreement_cell_plain, bulletin_agreement_section, bulletin_table

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"

# The families a bureau's template names, and the installed font each falls back to.
TITLE_FONT = "方正小标宋简体"
HEI_FONT = "黑体"
FANG_FONT = "仿宋_GB2312"
KAI_FONT = "楷体"
SONG_FONT = "宋体"  # the page numbers (GB/T 9704: 4号半角宋体阿拉伯数字)
SERIF_FALLBACK = "Noto Serif CJK SC"
SANS_FALLBACK = "Noto Sans CJK SC"
FALLBACKS = {
    TITLE_FONT: SERIF_FALLBACK,
    FANG_FONT: SERIF_FALLBACK,
    KAI_FONT: SERIF_FALLBACK,
    SONG_FONT: SERIF_FALLBACK,
    HEI_FONT: SANS_FALLBACK,
}
RED = "E00000"  # the red of the issuing body and the rule below the document number


# --- What both documents print ----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the attachment's table: its group (the first header row) and its
    sub-header (the second; empty when the group spans both rows)."""

    group: str
    sub: str


def issuing_body() -> str:
    """发文机关标志: the bureau, i.e. the root unit of the org tree (the first by tree order)."""
    root = Unit.objects.filter(parent__isnull=True).order_by(tree_order()).first()
    return root.name if root else ""


def document_number(bulletin: Bulletin, issuer: str) -> str:
    """发文字号 ``<机关代字><类别>〔<year>〕<N>号``: N is the month for a monthly bulletin
    (月通〔2026〕10号 is October's) and the 旬's number in the year for a ten-day report
    (1 to 36: 旬报〔2026〕29号 is 11–20 October), so a period always has the same number
    and no counter is kept. The bureau's abbreviation is the root unit's short name, else
    its name."""
    start = bulletin.period_start
    if bulletin.kind == BulletinKind.MONTHLY:
        kind, n = "月通", start.month
    else:
        kind, n = "旬报", (start.month - 1) * 3 + min(start.day // 10, 2) + 1
    return f"{issuer}{kind}〔{start.year}〕{n}号"


def signed_on(bulletin: Bulletin) -> date:
    """成文日期: the day of publication; a draft carries today's date."""
    if bulletin.published_at is not None:
        return timezone.localdate(bulletin.published_at)
    return timezone.localdate()


def amount(value: Any) -> str:
    """An exact amount as in the tables: thousands separated (promo.core.amounts), always two
    decimals here — a bulletin's columns line up on the decimal point, as its XLSX does."""
    return amounts.grouped(Decimal(value), 2)


def _cell_text(cell: dict[str, Any]) -> str:
    return amount(cell["value"]) if cell["is_amount"] else str(cell["value"])


def _amended_text(cell: dict[str, Any]) -> str:
    new = cell["amended"]
    return amount(new) if cell["is_amount"] else str(Decimal(new).normalize())


def document_context(bulletin: Bulletin) -> dict[str, Any]:
    """Everything the two documents print, in the active language: the table comes from
    ``selectors.bulletin_table`` (the page's and print page's), so the documents show
    whatever the lines hold, amendments included."""
    table = bulletin_table(bulletin)
    issuer = issuing_body()
    day = signed_on(bulletin)
    # Headers through gettext at render time: English where the catalogue has them.
    columns = [Column(_("序号"), ""), Column(_("单位"), "")]
    subs = iter(table["sub_headers"])
    for group, span in table["header_groups"]:
        for _n in range(span):
            columns.append(Column(_(str(group)), _(str(next(subs)))))
    columns += [
        Column(_("本年累计"), _("签约额目标完成率(%)")),
        Column(_("去年同期签约额(万元)"), ""),
        Column(_("排名"), ""),
    ]
    rows = []
    for row in table["rows"]:
        cells = [
            {**cell, "text": _cell_text(cell), "amended_text": _amended_text(cell)}
            if cell["amended"] is not None
            else {**cell, "text": _cell_text(cell), "amended_text": ""}
            for cell in row["cells"]
        ]
        percent = row["percent"]
        rows.append(
            {
                **row,
                "cells": cells,
                "number_text": "" if row["number"] is None else str(row["number"]),
                "percent_text": "—" if percent is None else f"{Decimal(percent):.1f}",
                "last_year_text": amount(row["last_year"]),
                "rank_text": "" if row["rank"] is None else str(row["rank"]),
            }
        )
    start = formats.date_format(bulletin.period_start, "DATE_FORMAT")
    end = formats.date_format(bulletin.period_end, "DATE_FORMAT")
    title = bulletin.title
    return {
        "bulletin": bulletin,
        "issuer": issuer,
        "number": document_number(bulletin, issuer),
        "title": title,
        "is_draft": not bulletin.is_published,
        "draft_note": _("（草稿）"),
        "signed_on": day,
        "signed_on_text": formats.date_format(day, "DATE_FORMAT"),
        "period_text": _("统计期间：%(start)s至%(end)s") % {"start": start, "end": end},
        "addressees": _("各单位："),
        "body_text": _(
            "现将%(start)s至%(end)s各单位招商引资工作主要指标完成情况通报如下，详见附件。"
        )
        % {"start": start, "end": end},
        "attachment_note": _("附件：%(title)s统计表") % {"title": title},
        "attachment_mark": _("附件"),
        "attachment_title": _("%(title)s统计表") % {"title": title},
        "notes_heading": _("更正说明（发布后发现，原数保留）"),
        "notes": [_note(a) for a in table["amendments"]],
        "columns": columns,
        "groups": _header_groups(columns),
        "rows": rows,
        "amendments": table["amendments"],
        # How the ranks were reached (功效系数法, weights, tie rules): under the table.
        "ranking": table["ranking"],
        "tie_groups": table["tie_groups"],
        "ranking_note": ranking_note_paragraphs(
            {"ranking": table["ranking"], "tie_groups": table["tie_groups"]}
        ),
        "header_groups": table["header_groups"],
        "sub_headers": table["sub_headers"],
        # The 协议履约 tables (by unit, by signing-year cohort) under the main one.
        **bulletin_agreement_section(bulletin),
    }


def ranking_note_paragraphs(context: dict[str, Any]) -> list[str]:
    """The ranking note (方法说明) as paragraphs of text, for the Word document: the same
    template the pages and the PDF include, so the three say the same."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(render_to_string("reports/_ranking_note.html", context))
    return [" ".join(element.text_content().split()) for element in tree.iter("h2", "p")]


def _note(amendment: Any) -> dict[str, Any]:
    """One amendment (更正) as printed below the table: the line, the figure, old → new and
    the day found; then its causes (the records that moved it, who, when and why)."""
    text = _("%(line)s · %(figure)s：%(old)s → %(new)s（%(on)s）") % {
        "line": amendment.line.label,
        "figure": amendment.get_figure_display(),
        "old": f"{amendment.old_value.normalize():f}",
        "new": f"{amendment.new_value.normalize():f}",
        "on": formats.date_format(timezone.localtime(amendment.detected_at), "DATE_FORMAT"),
    }
    causes = [cause.summary for cause in amendment.causes.all()]
    if amendment.unlisted_causes:
        n = amendment.unlisted_causes
        causes.append(
            ngettext("另有 %(n)s 条记录未列出。", "另有 %(n)s 条记录未列出。", n) % {"n": n}
        )
    return {"amendment": amendment, "text": text, "causes": causes}


def _header_groups(columns: list[Column]) -> list[dict[str, Any]]:
    """The first header row: each group once with its span; ``rows`` 2 when it has no
    sub-headers (it spans both header rows)."""
    groups: list[dict[str, Any]] = []
    for index, column in enumerate(columns):
        if column.sub and groups and groups[-1]["name"] == column.group and groups[-1]["subs"]:
            groups[-1]["span"] += 1
            groups[-1]["subs"].append(column.sub)
        else:
            groups.append(
                {
                    "name": column.group,
                    "span": 1,
                    "first": index,
                    "subs": [column.sub] if column.sub else [],
                }
            )
    return groups


def file_name(bulletin: Bulletin, ext: str) -> str:
    """``bulletin-<kind>-<first day>.<ext>``, as the XLSX's."""
    return f"bulletin-{bulletin.kind}-{bulletin.period_start:%Y-%m-%d}.{ext}"


# --- PDF --------------------------------------------------------------------------------------


def _no_fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    """WeasyPrint's fetcher: nothing is fetched. The template inlines its CSS and names only
    installed fonts, so a URL here would be a mistake, and never a request over the network."""
    raise ValueError(f"promo renders bulletins without fetching anything: {url}")


def bulletin_pdf(*, bulletin: Bulletin) -> bytes:
    """The bulletin as a PDF, rendered by WeasyPrint from reports/bulletin_document.html."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    html = render_to_string(
        "reports/bulletin_document.html", {**document_context(bulletin), "official": True}
    )
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()


def bulletin_pdf_download(bulletin: Bulletin) -> HttpResponse:
    return attachment(
        bulletin_pdf(bulletin=bulletin), filename=file_name(bulletin, "pdf"), content_type=PDF_TYPE
    )


# --- DOCX -------------------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _fonts(rpr: Any, family: str) -> None:
    """Name ``family`` for every script of a run or style (w:ascii, w:hAnsi, w:eastAsia):
    python-docx's ``font.name`` sets only the first two, and Word picks CJK text's font from
    w:eastAsia."""
    from docx.oxml.ns import qn

    fonts = rpr.get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), family)


def _run(paragraph: Any, text: str, *, family: str = FANG_FONT, size: float = 16,
         bold: bool = False, color: str | None = None) -> Any:  # fmt: skip
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    _fonts(run._element.get_or_add_rPr(), family)
    return run


def _paragraph(document: Any, text: str = "", *, align: str = "left", indent: bool = False,
               space_before: float = 0, **font: Any) -> Any:  # fmt: skip
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = document.add_paragraph()
    paragraph.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    paragraph.paragraph_format.space_before = Pt(space_before)
    if indent:  # 首行缩进两字
        paragraph.paragraph_format.first_line_indent = Pt(2 * font.get("size", 16))
    if text:
        _run(paragraph, text, **font)
    return paragraph


def _page(section: Any, *, landscape: bool) -> None:
    """A4 with GB/T 9704's margins. Landscape (the attachment's table) turns the page so the
    table's top lies on the binding side, as the standard asks of a table printed across:
    the portrait left margin (订口, 28 mm) becomes the top."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(28), Mm(26)
        section.left_margin, section.right_margin = Mm(35), Mm(37)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)


def _page_number_footer(section: Any) -> None:
    """``— 1 —`` centred in the footer: a PAGE field between two em dashes."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    footer = section.footer
    paragraph = footer.paragraphs[0]
    paragraph.text = ""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, "— ", family=SONG_FONT, size=14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), " PAGE ")
    inner = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    inner.append(text)
    field.append(inner)
    paragraph._p.append(field)
    _run(paragraph, " —", family=SONG_FONT, size=14)


_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


def _red_rule(paragraph: Any) -> None:
    """The red rule below the document number (版头中的分隔线): a bottom border."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "6"), ("w:color", RED)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    # w:pPr's children come in the schema's order: the borders before these.
    ppr.insert_element_before(borders, *_AFTER_PBDR)


def _row_flags(row: Any, *, header: bool) -> None:
    """Every row stays on one page (w:cantSplit); header rows repeat on each page (w:tblHeader)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        trpr.append(flag)


def _cell(cell: Any, text: str, *, size: float, bold: bool = False, align: str = "center",
          amended: str = "") -> None:  # fmt: skip
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    paragraph.alignment = {
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
    }[align]
    paragraph.paragraph_format.space_before = 0
    paragraph.paragraph_format.space_after = 0
    paragraph.paragraph_format.line_spacing = 1.0
    paragraph.paragraph_format.first_line_indent = 0
    if text:
        _run(paragraph, text, size=size, bold=bold)
    if amended:
        _run(paragraph, f" →{amended}", size=size, bold=bold, color=RED)


def _font_table(document: Any) -> None:
    """Declare each named family in word/fontTable.xml with its installed fallback as
    ``w:altName``, so a reader without 仿宋_GB2312 or 方正小标宋简体 (LibreOffice on Linux,
    the tests) gets Noto CJK rather than a Latin font."""
    part = next(
        p for p in document.part.package.iter_parts() if p.partname.endswith("fontTable.xml")
    )
    root = etree.fromstring(part.blob)
    for family, fallback in FALLBACKS.items():
        font = etree.SubElement(root, f"{{{_W}}}font", {f"{{{_W}}}name": family})
        etree.SubElement(font, f"{{{_W}}}altName", {f"{{{_W}}}val": fallback})
        etree.SubElement(font, f"{{{_W}}}charset", {f"{{{_W}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{_W}}}family", {f"{{{_W}}}val": "auto"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _styles(document: Any) -> None:
    """Normal: 仿宋_GB2312 三号 (16 pt), no space after; the tables' own grid style."""
    from docx.shared import Pt

    normal = document.styles["Normal"]
    normal.font.size = Pt(16)
    _fonts(normal.element.get_or_add_rPr(), FANG_FONT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)


TABLE_SIZE = 8  # pt: 20 columns across a landscape A4 page


def _table(document: Any, context: dict[str, Any]) -> None:
    from docx.shared import Mm

    columns = context["columns"]
    rows = context["rows"]
    table = document.add_table(rows=2 + len(rows), cols=len(columns))
    table.style = document.styles["Table Grid"]
    table.autofit = False
    # 序号 narrow, 单位 wide, amounts wider than counts; 225 mm across the landscape page.
    amounts = (
        {i for i, cell in enumerate(rows[0]["cells"], start=2) if cell["is_amount"]}
        if rows
        else set()
    )
    widths = [Mm(8), Mm(20)]
    for index in range(2, len(columns)):
        widths.append(Mm(15) if index in amounts or index == len(columns) - 2 else Mm(10.4))
    for index, width in enumerate(widths):
        for cell in table.columns[index].cells:
            cell.width = width
    top, sub = table.rows[0], table.rows[1]
    for group in context["groups"]:
        first, span = group["first"], group["span"]
        if group["subs"]:
            merged = (
                top.cells[first].merge(top.cells[first + span - 1])
                if span > 1
                else top.cells[first]
            )
            _cell(merged, group["name"], size=TABLE_SIZE, bold=True)
            for offset, name in enumerate(group["subs"]):
                _cell(sub.cells[first + offset], name, size=TABLE_SIZE, bold=True)
        else:
            merged = top.cells[first].merge(sub.cells[first])
            _cell(merged, group["name"], size=TABLE_SIZE, bold=True)
    _row_flags(top, header=True)
    _row_flags(sub, header=True)
    for number, row in enumerate(rows):
        out = table.rows[2 + number]
        _row_flags(out, header=False)
        bold = row["is_total"]
        cells = out.cells
        _cell(cells[0], row["number_text"], size=TABLE_SIZE, bold=bold)
        _cell(cells[1], row["name"], size=TABLE_SIZE, bold=bold)
        for index, cell in enumerate(row["cells"], start=2):
            _cell(cells[index], cell["text"], size=TABLE_SIZE, bold=bold, align="right",
                  amended=cell["amended_text"])  # fmt: skip
        tail = len(row["cells"]) + 2
        _cell(cells[tail], row["percent_text"], size=TABLE_SIZE, bold=bold, align="right")
        _cell(cells[tail + 1], row["last_year_text"], size=TABLE_SIZE, bold=bold, align="right")
        rank = row["rank_text"] + ("※" if row.get("tie") else "")
        _cell(cells[tail + 2], rank, size=TABLE_SIZE, bold=bold)
        # No widowed rows: the lines after the units (局本级, 合计) keep with the row above.
        if row["is_total"] or row["is_own"]:
            previous = table.rows[1 + number]
            for cell in previous.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def _agreement_tables(document: Any, context: dict[str, Any]) -> None:
    """The 协议履约 tables (by unit, by signing-year cohort) under the main one: a heading
    each, the rate over its numerator and denominator in every cell."""
    headers = context["agreement_headers"]
    for spec in context["agreement_tables"]:
        if not spec["rows"]:
            continue
        _paragraph(document, str(spec["title"]), family=HEI_FONT, size=12, space_before=12)
        table = document.add_table(rows=1 + len(spec["rows"]), cols=1 + len(headers))
        table.style = document.styles["Table Grid"]
        _row_flags(table.rows[0], header=True)
        for index, header in enumerate([spec["key_header"], *headers]):
            _cell(table.rows[0].cells[index], str(header), size=TABLE_SIZE, bold=True)
        for number, row in enumerate(spec["rows"], start=1):
            out = table.rows[number]
            _row_flags(out, header=False)
            bold = row["is_total"]
            _cell(out.cells[0], row["name"], size=TABLE_SIZE, bold=bold)
            for index, cell in enumerate(row["cells"], start=1):
                _cell(out.cells[index], agreement_cell_plain(cell), size=TABLE_SIZE, bold=bold,
                      align="right")  # fmt: skip


def bulletin_docx(*, bulletin: Bulletin) -> bytes:
    """The bulletin as a Word document in the official layout (module docstring)."""
    from docx import Document
    from docx.enum.section import WD_SECTION

    context = document_context(bulletin)
    document = Document()
    _styles(document)
    _font_table(document)
    document.core_properties.title = context["title"]
    document.core_properties.author = context["issuer"]
    cover = document.sections[0]
    _page(cover, landscape=False)
    _page_number_footer(cover)
    # 版头: the issuing body in red, the document number, the red rule.
    _paragraph(document, context["issuer"], align="center", family=TITLE_FONT, size=36,
               color=RED, space_before=24)  # fmt: skip
    number = _paragraph(document, context["number"], align="center", space_before=24)
    _red_rule(number)
    # 主体: title (二号小标宋), addressees, body, attachment note.
    title = context["title"] + (context["draft_note"] if context["is_draft"] else "")
    _paragraph(document, title, align="center", family=TITLE_FONT, size=22, space_before=32)
    _paragraph(document, context["addressees"], space_before=28)
    _paragraph(document, context["body_text"], align="justify", indent=True)
    _paragraph(document, context["attachment_note"], align="justify", indent=True, space_before=16)
    # 落款: issuing body and date on the right, four lines below the text.
    _paragraph(document, context["issuer"], align="right", space_before=64)
    _paragraph(document, context["signed_on_text"], align="right")
    # 附件: the table on landscape pages; the footer is the cover's (linked).
    annex = document.add_section(WD_SECTION.NEW_PAGE)
    _page(annex, landscape=True)
    _paragraph(document, context["attachment_mark"], family=HEI_FONT, size=16)
    _paragraph(document, context["attachment_title"] + (context["draft_note"] if context["is_draft"] else ""),
               align="center", family=TITLE_FONT, size=18, space_before=8)  # fmt: skip
    _paragraph(document, context["period_text"], align="center", family=KAI_FONT, size=14)
    _table(document, context)
    _agreement_tables(document, context)
    # 方法说明: how the ranks were reached, its heading first.
    heading, *paragraphs = context["ranking_note"] or [""]
    if heading:
        _paragraph(document, heading, family=HEI_FONT, size=12, space_before=12)
    for text in paragraphs:
        _paragraph(document, text, size=10.5, align="justify")
    if context["notes"]:
        _paragraph(document, context["notes_heading"], family=HEI_FONT, size=12, space_before=12)
        for number, note in enumerate(context["notes"], start=1):
            _paragraph(document, f"{number}. {note['text']}", size=10.5, align="justify")
            for cause in note["causes"]:
                _paragraph(document, f"    {cause}", size=9, align="justify")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def bulletin_docx_download(bulletin: Bulletin) -> HttpResponse:
    return attachment(
        bulletin_docx(bulletin=bulletin),
        filename=file_name(bulletin, "docx"),
        content_type=DOCX_TYPE,
    )
