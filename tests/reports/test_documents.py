"""The bulletin as documents fit to send (issue 17): DOCX and PDF in the official layout
(GB/T 9704), the XLSX's page set-up, the print page on one A4 page, and publishing only
after an explicit confirmation. Every document is read back (python-docx, pdftotext,
pdfinfo, openpyxl) and compared with the bulletin's lines."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from officers.choices import UnitKind
from projects.models import Project
from projects.services import progress_record
from promo.reports.choices import AMOUNT_FIGURES, BULLETIN_COLUMNS, BulletinKind, BulletinStatus
from promo.reports.documents import bulletin_docx, bulletin_pdf, document_number
from promo.reports.exports import bulletin_export_xlsx
from promo.reports.models import Bulletin, BulletinLine
from promo.reports.services import bulletin_generate, bulletin_publish
from tests.factories import make_officer, make_unit
from tests.reports.seed import START, TODAY, build_october

pytestmark = pytest.mark.django_db

# Nine first-level units besides the seed's three: a bureau of 12 units, as in the demo.
MORE_UNITS = ("北京办事处", "广州办事处", "杭州办事处", "南京办事处", "成都办事处",
              "武汉办事处", "香港联络处", "经开区", "高新区")  # fmt: skip
ISSUER = "市投资促进局"  # the root unit of tests.factories.make_bureau


@pytest.fixture
def bulletin(bureau):
    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)
        for name in MORE_UNITS:
            make_unit(name, kind=UnitKind.RESIDENT_OFFICE, parent=bureau.bureau)
        return bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)


@pytest.fixture
def amended(bureau, bulletin) -> Bulletin:
    """The bulletin published, then Shanghai's FDI corrected: one amendment with its cause."""
    with time_machine.travel(TODAY, tick=False) as clock:
        bulletin = bulletin_publish(bulletin=bulletin, actor=bureau.chief)
        clock.shift(3600)
        progress_record(
            project=Project.objects.get(unit=bureau.shanghai_team),
            actor=bureau.sub_unit_officer,
            month=date(2026, 10, 1),
            agreed_investment=3000,
            paid_in=900,
            fixed_asset_investment=800,
            arrived_fdi=260,
        )
        bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    return bulletin


def chief_client(bureau) -> Client:
    client = Client()
    client.force_login(bureau.chief)
    return client


def pdf_pages(data: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def expected_rows(bulletin: Bulletin) -> list[list[str]]:
    """Each line of the bulletin as its printed cells, read from the BulletinLine rows:
    序号, 单位, every figure (amounts 12,000.00), target completion %, last year, rank."""
    lines = list(BulletinLine.objects.filter(bulletin=bulletin).select_related("unit"))
    lines.sort(key=lambda line: (line.is_total, line.own_records_only, line.position))
    rows = []
    for line in lines:
        cells = ["" if line.number is None else str(line.number), line.label]
        for figure, _group, _sub in BULLETIN_COLUMNS:
            value = getattr(line, figure)
            cells.append(f"{value:,.2f}" if figure in AMOUNT_FIGURES else str(value))
        percent = line.target_percent("signed_amount")
        cells.append("—" if percent is None else f"{percent:.1f}")
        cells.append(f"{line.last_year_figure('signed_amount'):,.2f}")
        # A rank placed among equal scores by a tie rule carries ※ (explained under the table).
        mark = "※" if line.rank_tie else ""
        cells.append("" if line.rank is None else f"{line.rank}{mark}")
        rows.append(cells)
    return rows


# --- DOCX ---------------------------------------------------------------------------------


def read_docx(bulletin: Bulletin):
    with time_machine.travel(TODAY, tick=False):
        return Document(BytesIO(bulletin_docx(bulletin=bulletin)))


def test_docx_table_holds_every_unit_and_every_figure_of_the_bulletin(bulletin):
    document = read_docx(bulletin)
    assert len(document.tables) == 1
    table = document.tables[0]
    body = [[cell.text for cell in row.cells] for row in table.rows[2:]]
    expected = expected_rows(bulletin)
    assert len(expected) == 14  # 12 units, 局本级, 合计
    assert body == expected
    # Spot-check against the hand-computed seed: Shanghai's line and the total.
    assert body[0][:7] == ["1", "上海办事处", "2", "1", "2", "1", "12,000.00"]
    assert body[-1][1] == "合计" and body[-1][6] == "12,800.00"


def test_docx_is_laid_out_as_an_official_document(bulletin):
    document = read_docx(bulletin)
    texts = [p.text for p in document.paragraphs]
    # 版头: issuing body and document number; the title marked as a draft; 落款 on the right.
    assert texts[0] == ISSUER
    assert texts[1] == f"{ISSUER}月通〔2026〕10号" == document_number(bulletin, ISSUER)
    assert texts[2] == "市投资促进局招商引资工作月度通报（2026年10月）（草稿）"
    signature = [p for p in document.paragraphs if p.text == "2026年11月2日"]
    assert len(signature) == 1 and signature[0].alignment == 2  # RIGHT
    issuer_lines = [p for p in document.paragraphs if p.text == ISSUER]
    assert issuer_lines[-1].alignment == 2
    # A4 with GB/T 9704's margins; the table on a landscape section.
    cover, annex = document.sections

    def mm(*lengths):
        return tuple(round(length.mm) for length in lengths)

    assert mm(cover.page_width, cover.page_height) == (210, 297)
    assert mm(cover.top_margin, cover.bottom_margin) == (37, 35)
    assert mm(cover.left_margin, cover.right_margin) == (28, 26)
    assert mm(annex.page_width, annex.page_height) == (297, 210)
    # Page numbers "— N —" from a PAGE field.
    footer = cover.footer.paragraphs[0]._p.xml
    assert 'w:instr=" PAGE "' in footer and "— " in footer and " —" in footer


def test_docx_repeats_the_header_rows_keeps_rows_whole_and_names_the_fonts(bulletin):
    document = read_docx(bulletin)
    rows = document.tables[0].rows
    for index, row in enumerate(rows):
        trpr = row._tr.trPr
        assert trpr.find(qn("w:cantSplit")) is not None
        assert (trpr.find(qn("w:tblHeader")) is not None) == (index < 2)
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312" == fonts.get(qn("w:ascii"))
    title = document.paragraphs[2].runs[0]._element.rPr.rFonts
    assert title.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert document.styles["Normal"].font.size.pt == 16  # 三号
    mark = next(p for p in document.paragraphs if p.text == "附件").runs[0]._element.rPr.rFonts
    assert mark.get(qn("w:eastAsia")) == "黑体"
    # Each named family declares the installed Noto CJK font as its alternative.
    table = next(
        p for p in document.part.package.iter_parts() if p.partname.endswith("fontTable.xml")
    )
    xml = table.blob.decode()
    for family, fallback in (("仿宋_GB2312", "Noto Serif CJK SC"), ("方正小标宋简体", "Noto Serif CJK SC"),
                             ("黑体", "Noto Sans CJK SC")):  # fmt: skip
        assert re.search(rf'<w:font w:name="{family}"><w:altName w:val="{fallback}"/>', xml), family


def test_docx_of_a_published_bulletin_lists_its_amendments_and_the_publication_day(amended):
    document = read_docx(amended)
    texts = [p.text for p in document.paragraphs]
    assert "（草稿）" not in texts[2]
    shanghai = document.tables[0].rows[2].cells
    assert shanghai[13].text == "190.00 →200.00"  # the frozen figure, then the correction
    assert "更正说明（发布后发现，原数保留）" in texts
    note = next(t for t in texts if t.startswith("1. 上海办事处 · 到账外资(万美元)"))
    assert "190 → 200" in note
    assert any("赵磊" in t and "填报月度投资进度" in t for t in texts)  # who and why
    assert "2026年11月2日" in texts  # published that day


# --- PDF ----------------------------------------------------------------------------------


def test_pdf_holds_every_figure_and_has_the_official_parts(bulletin, tmp_path):
    with time_machine.travel(TODAY, tick=False):
        data = bulletin_pdf(bulletin=bulletin)
    assert data[:5] == b"%PDF-"
    text = pdf_text(data, tmp_path)
    lines = [line.split() for line in text.splitlines()]
    for cells in expected_rows(bulletin):
        tokens = [c for c in cells if c]
        assert tokens in lines, tokens
    for part in (ISSUER, f"{ISSUER}月通〔2026〕10号", "2026年11月2日", "附件", "草稿"):
        assert part in text, part
    assert re.search(r"—\s*1\s*—", text) and re.search(r"—\s*2\s*—", text)  # page numbers
    # The covering page (portrait), the table on one landscape page and the ranking's method
    # note (方法说明) after it, within the attachment's GB/T 9704 margins.
    assert pdf_pages(data, tmp_path) == 3


def test_pdf_repeats_the_header_on_each_page_of_a_long_table(bureau, bulletin, tmp_path):
    with time_machine.travel(TODAY, tick=False):
        for n in range(40):
            make_unit(f"测试招商分局{n:02d}", kind=UnitKind.BRANCH, parent=bureau.bureau)
        long = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
        data = bulletin_pdf(bulletin=long)
    pages = pdf_pages(data, tmp_path)
    assert pages >= 3
    text = pdf_text(data, tmp_path).split("\f")
    table_pages = [page for page in text[1:] if page.strip()]
    assert len(table_pages) == pages - 1
    rows_seen = 0
    for page in table_pages:
        rows = page.split("方法说明")[0]  # the ranking note after the table names units too
        if re.search(r"测试招商分局\d\d|办事处", rows):
            rows_seen += 1
            assert "序号" in rows and "单位" in rows  # the header on every page of the table
    assert rows_seen >= 2
    # No row split: each unit name appears exactly once across the table's pages.
    joined = "\n".join(table_pages).split("方法说明")[0]
    for n in range(40):
        assert joined.count(f"测试招商分局{n:02d}") == 1


def test_pdf_fetches_nothing(bulletin, monkeypatch):
    from promo.reports import documents

    with pytest.raises(ValueError):
        documents._no_fetch("https://example.invalid/font.woff")


# --- English --------------------------------------------------------------------------------


def test_documents_in_english_translate_headers_and_dates(bulletin, tmp_path):
    with translation.override("en"), time_machine.travel(TODAY, tick=False):
        document = Document(BytesIO(bulletin_docx(bulletin=bulletin)))
        pdf = pdf_text(bulletin_pdf(bulletin=bulletin), tmp_path)
    header = [cell.text for cell in document.tables[0].rows[0].cells]
    assert header[0] == "No." and header[1] == "Unit" and header[-1] == "Rank"
    texts = [p.text for p in document.paragraphs]
    assert "2 Nov 2026" in texts and "Attachment" in texts
    assert not any("：" in t for t in texts[3:6])  # ASCII colons in English copy
    assert [c.text for c in document.tables[0].rows[2].cells] == expected_rows(bulletin)[0]
    assert "2 Nov 2026" in pdf and "Rank" in pdf and "排名" not in pdf


# --- Downloads ------------------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "magic"), [("docx", b"PK"), ("pdf", b"%PDF")])
def test_chief_downloads_the_documents_and_the_page_links_them(bureau, bulletin, ext, magic):
    client = chief_client(bureau)
    page = client.get(f"/reports/bulletins/{bulletin.pk}/").content.decode()
    assert f'href="/reports/bulletins/{bulletin.pk}/{ext}/"' in page
    response = client.get(f"/reports/bulletins/{bulletin.pk}/{ext}/")
    assert response.status_code == 200 and response.content[: len(magic)] == magic
    assert response["Content-Disposition"] == (
        f'attachment; filename="bulletin-monthly-2026-10-01.{ext}"'
    )


@pytest.mark.parametrize("ext", ["docx", "pdf"])
def test_documents_are_refused_to_an_outsider_and_a_draft_to_a_unit_head(bureau, bulletin, ext):
    outsider = Client()
    outsider.force_login(bureau.outsider)
    assert outsider.get(f"/reports/bulletins/{bulletin.pk}/{ext}/").status_code == 403
    head = Client()
    head.force_login(bureau.shanghai_head)
    assert head.get(f"/reports/bulletins/{bulletin.pk}/{ext}/").status_code == 404
    bulletin_publish(bulletin=bulletin, actor=bureau.chief)
    assert head.get(f"/reports/bulletins/{bulletin.pk}/{ext}/").status_code == 200


# --- XLSX page set-up -------------------------------------------------------------------------


def test_xlsx_is_set_up_to_print_with_the_issuing_body_and_a_cjk_font(bulletin):
    with time_machine.travel(TODAY, tick=False):
        ws = load_workbook(BytesIO(bulletin_export_xlsx(bulletin=bulletin))).active
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4 (openpyxl's PAPERSIZE_A4 is the text "9")
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows == "$3:$4"  # the two header rows on every page
    total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "合计")
    signature = [
        cell.value for row in ws.iter_rows(min_row=total_row + 1) for cell in row if cell.value
    ]
    assert signature == [ISSUER, "2026年11月2日"]
    names = {
        cell.font.name
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column)
        for cell in row
    }
    assert names == {"仿宋"}  # no Calibri left
    assert ws["A1"].font.bold and ws["A1"].font.size == 16  # the title keeps its style


# --- The print page on one A4 page ----------------------------------------------------------------


def test_the_print_page_of_a_monthly_bulletin_of_12_units_fits_one_a4_page(
    bureau, bulletin, client, settings, tmp_path
):
    from weasyprint import HTML  # type: ignore[import-untyped]

    settings.SECURE_SSL_REDIRECT = False
    # The admin's all-seeing superuser, as in a development install (三员分立: not in production).
    settings.PROMO_SUPERUSER_READS_BUSINESS = True
    client.force_login(make_officer(bureau.bureau, is_superuser=True))
    page = client.get(reverse("admin:reports_bulletin_print", args=[bulletin.pk]))
    assert page.status_code == 200
    assert bulletin.lines.count() == 14  # 12 units, 局本级, 合计
    html = page.content.decode()
    pdf = HTML(string=html, base_url="/").write_pdf()
    assert pdf_pages(pdf, tmp_path) == 1
    text = pdf_text(pdf, tmp_path)
    assert "高新区" in text and "合计" in text


# --- Publishing asks for confirmation ----------------------------------------------------------


def test_publishing_shows_what_freezing_means_then_needs_the_confirmation(bureau, bulletin):
    client = chief_client(bureau)
    url = f"/reports/bulletins/{bulletin.pk}/publish/"
    detail = client.get(f"/reports/bulletins/{bulletin.pk}/").content.decode()
    assert f'href="{url}"' in detail  # the button leads to the confirmation page
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "发布即冻结" in html and "更正" in html and 'name="confirm"' in html

    refused = client.post(url)  # the old one-click form: no confirmation field
    assert refused.status_code == 400 and "未勾选确认" in refused.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.DRAFT and bulletin.published_at is None
    client.post(url, {"confirm": "no"})
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.DRAFT

    done = client.post(url, {"confirm": "yes"})
    assert done.status_code == 302
    bulletin.refresh_from_db()
    assert (bulletin.status, bulletin.published_by) == (BulletinStatus.PUBLISHED, bureau.chief)
    published_at = bulletin.published_at
    again = client.post(url, {"confirm": "yes"}, follow=True)  # a second submission
    assert "已发布，不能再次发布" in again.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.published_at == published_at


def test_outsider_and_unit_head_cannot_open_or_confirm_publishing_and_nothing_changes(
    bureau, bulletin
):
    url = f"/reports/bulletins/{bulletin.pk}/publish/"
    for officer, status in ((bureau.outsider, 403), (bureau.shanghai_head, 404)):
        client = Client()
        client.force_login(officer)
        assert client.get(url).status_code == status
        assert client.post(url, {"confirm": "yes"}).status_code == status
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.DRAFT and bulletin.published_at is None


def test_decimal_amounts_print_grouped_with_two_decimals():
    from promo.reports.documents import amount

    assert amount(Decimal("1961956")) == "1,961,956.00"


def test_the_command_writes_each_document_and_draws_the_pdf(bulletin, tmp_path):
    from django.core.management import call_command

    for fmt, magic in (("docx", b"PK"), ("xlsx", b"PK"), ("pdf", b"%PDF")):
        out = tmp_path / f"b.{fmt}"
        call_command("bulletin_document", str(bulletin.pk), format=fmt, output=str(out))
        assert out.read_bytes()[: len(magic)] == magic
    out = tmp_path / "latest.pdf"
    call_command("bulletin_document", "latest", output=str(out), png=str(tmp_path / "page"))
    assert (tmp_path / "page-1.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "page-2.png").exists()


def test_documents_cost_the_same_queries_for_5_lines_and_for_45(bureau, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(bulletin):
        counts = []
        for make in (bulletin_docx, bulletin_pdf, bulletin_export_xlsx):
            with CaptureQueriesContext(connection) as captured:
                make(bulletin=bulletin)
            counts.append(len(captured))
        return counts

    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)
        few = queries(bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START))
        for n in range(40):
            make_unit(f"测试招商分局{n:02d}", kind=UnitKind.BRANCH, parent=bureau.bureau)
        bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
        assert bulletin.lines.count() == 45
        many = queries(bulletin)
    assert many == few
    assert max(few) <= 8


def test_both_documents_say_how_the_units_were_ranked(bulletin, tmp_path):
    """The ranks follow 功效系数法 with tie rules: the Word document and the PDF carry the same
    method note as the page (方法说明), and every rank placed by a tie rule is marked ※."""
    tied = [line for line in bulletin.lines.all() if line.rank_tie]
    assert tied, "the seed has units with equal scores"
    document = read_docx(bulletin)
    paragraphs = [p.text for p in document.paragraphs]
    assert "方法说明" in paragraphs
    assert any(p.startswith("排名按功效系数法计算") for p in paragraphs)
    # One line per tie rule, naming the units it placed (not one line per unit).
    rules = {line.rank_tie for line in tied}
    assert sum(p.startswith("※") for p in paragraphs) == len(rules)
    assert all(line.label in "".join(paragraphs) for line in tied)
    with time_machine.travel(TODAY, tick=False):
        text = pdf_text(bulletin_pdf(bulletin=bulletin), tmp_path)
    assert "方法说明" in text and "功效系数法" in text
    # Each mark in the table, each rule below it, and the rule's own mention of the mark.
    assert text.count("※") == len(tied) + len(rules) + 1
