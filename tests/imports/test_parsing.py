"""Reading ledgers: encodings, headers, dates and amounts as Chinese Excel users write them."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest

from promo.imports.choices import ImportKind
from promo.imports.parsing import (
    CellError,
    FileRefused,
    guess_columns,
    normalize_header,
    parse_amount,
    parse_date,
    read_table,
)
from tests.imports.files import csv_bytes, xlsx

HEADER = ["项目名称", "投资方", "总投资（万元）", "签约时间"]
ROW = ["华鑫电子产业园", "苏州华鑫电子有限公司", "1,200", "2023年5月6日"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_encoding_excel_writes_reads_the_same_chinese(encoding):
    table = read_table(
        csv_bytes([HEADER, ROW], encoding=encoding), kind=ImportKind.PROJECTS, max_rows=10
    )
    assert table.headers[0] == "项目名称"
    assert table.rows == [(2, ROW)]


def test_xlsx_header_below_a_title_row_is_found():
    data = xlsx([["2023年招商项目台账"], [], HEADER, ROW])
    table = read_table(data, kind=ImportKind.PROJECTS, max_rows=10)
    assert table.header_row == 3
    assert table.rows[0][1][0] == "华鑫电子产业园"


@pytest.mark.parametrize(
    "header,field",
    [
        ("总投资（万元）", "total_investment"),
        (" 总 投 资 (万元) *", "total_investment"),
        ("签约日期", "contract_date"),
        ("客商名称", "investor"),
        ("开工时间", "groundbreaking_actual"),
        ("统一社会信用代码", "credit_code"),
    ],
)
def test_usual_chinese_headers_are_recognised_despite_spaces_and_brackets(header, field):
    assert guess_columns([header], ImportKind.PROJECTS) == {0: field}


def test_a_saved_mapping_wins_over_the_aliases():
    columns = guess_columns(
        ["甲方", "项目"], ImportKind.PROJECTS, {normalize_header("甲方"): "investor"}
    )
    assert columns == {0: "investor", 1: "name"}


@pytest.mark.parametrize(
    "value",
    [
        "2023-05-06",
        "2023/5/6",
        "2023.5.6",
        "2023年5月6日",
        "20230506",
        45052,
        "45052",
        datetime(2023, 5, 6, 9, 30),
        date(2023, 5, 6),
        "2023-05-06 00:00:00",
        "２０２３年５月６日",
    ],
)
def test_dates_in_every_usual_form(value):
    assert parse_date(value) == date(2023, 5, 6)


@pytest.mark.parametrize("value", ["2023-02-30", "去年五月", "12", "5/6/23"])
def test_unreadable_dates_say_why(value):
    with pytest.raises(CellError):
        parse_date(value)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("1,200", "1200"),
        ("1200万元", "1200"),
        (1200, "1200"),
        (1200.5, "1200.5"),
        ("1.2亿元", "12000"),
        ("１２００", "1200"),
    ],
)
def test_amounts_in_every_usual_form(value, expected):
    assert parse_amount(value) == Decimal(expected)


def test_an_amount_column_in_yi_is_converted_to_wan():
    assert parse_amount(1.5, column_unit="亿元") == Decimal("15000")


@pytest.mark.parametrize("value", ["-100", -5, "一千万", "1200元", True])
def test_negative_or_unreadable_amounts_are_refused(value):
    with pytest.raises(CellError):
        parse_amount(value)


def test_empty_file_is_refused():
    with pytest.raises(FileRefused, match="空"):
        read_table(b"", kind=ImportKind.PROJECTS, max_rows=10)


def test_random_bytes_are_refused_as_not_a_table():
    import random

    data = random.Random(7).randbytes(200_000)
    with pytest.raises(FileRefused, match="无法识别"):
        read_table(data, kind=ImportKind.PROJECTS, max_rows=10)


def test_a_broken_xlsx_is_refused():
    with pytest.raises(FileRefused, match="损坏"):
        read_table(b"PK\x03\x04" + b"junk" * 100, kind=ImportKind.PROJECTS, max_rows=10)


def _rewritten(data: bytes, member: str, change) -> bytes:
    """The xlsx with one of its zip members changed by ``change(bytes) -> bytes``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            target.writestr(info, change(body) if info.filename == member else body)
    return out.getvalue()


DTD = (
    b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c SYSTEM "file:///etc/passwd">]>'
)


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_an_xlsx_declaring_a_dtd_is_refused_before_it_is_parsed(member):
    """等保 (issue #16): a DTD inside a spreadsheet is how entity expansion ("billion laughs")
    and external entities (XXE) reach an XML parser; no Excel writes one, so it is refused."""
    data = xlsx([HEADER, ROW])

    def with_dtd(body: bytes) -> bytes:
        if body.startswith(b"<?xml"):
            declaration, _end, rest = body.partition(b"?>")
            return declaration + b"?>" + DTD + rest
        return DTD + body

    hostile = _rewritten(data, member, with_dtd)
    with zipfile.ZipFile(io.BytesIO(hostile)) as archive:
        assert DTD in archive.read(member)
    with pytest.raises(FileRefused, match="DTD"):
        read_table(hostile, kind=ImportKind.PROJECTS, max_rows=10)
    # The same file without the declaration reads.
    assert read_table(data, kind=ImportKind.PROJECTS, max_rows=10).rows


def test_an_xlsx_that_unpacks_to_far_more_than_a_ledger_is_refused(settings):
    """A zip bomb: a small upload whose members unpack to gigabytes."""
    settings.PROMO_IMPORT_MAX_UNPACKED_MB = 1
    buffer = io.BytesIO(xlsx([HEADER, ROW]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * 2_000_000)
    data = buffer.getvalue()
    assert len(data) < 100_000
    with pytest.raises(FileRefused, match="1 MB"):
        read_table(data, kind=ImportKind.PROJECTS, max_rows=10)


def test_a_sheet_whose_xml_breaks_while_read_is_refused_as_damaged():
    """openpyxl reads a sheet's rows lazily: broken XML surfaced as a ParseError, a crash."""
    data = _rewritten(
        xlsx([HEADER, ROW]), "xl/worksheets/sheet1.xml", lambda body: body + b"<junk/>"
    )
    with pytest.raises(FileRefused, match="损坏"):
        read_table(data, kind=ImportKind.PROJECTS, max_rows=10)


def test_wrong_sheet_name_lists_the_sheets():
    data = xlsx([HEADER, ROW], title="项目台账")
    with pytest.raises(FileRefused, match="项目台账"):
        read_table(data, kind=ImportKind.PROJECTS, sheet="走访记录", max_rows=10)


def test_the_sheet_with_a_recognisable_header_is_chosen():
    data = xlsx([["说明：本表由办公室填写"]], title="封面", extra_sheets={"台账": [HEADER, ROW]})
    assert read_table(data, kind=ImportKind.PROJECTS, max_rows=10).sheet_name == "台账"


def test_a_sheet_without_any_known_header_is_refused():
    data = xlsx([["甲", "乙"], [1, 2]])
    with pytest.raises(FileRefused, match="表头"):
        read_table(data, kind=ImportKind.PROJECTS, max_rows=10)


def test_merged_header_cells_are_refused_with_the_column():
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["项目名称", "投资方", "计划节点", None])
    sheet.append(["华鑫", "华鑫电子", "2024-01-01", "2025-01-01"])
    sheet.merge_cells("C1:D1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(FileRefused, match="合并单元格"):
        read_table(buffer.getvalue(), kind=ImportKind.PROJECTS, max_rows=10)


def test_too_many_rows_are_refused():
    with pytest.raises(FileRefused, match="上限"):
        read_table(csv_bytes([HEADER, ROW, ROW, ROW]), kind=ImportKind.PROJECTS, max_rows=2)


def test_formula_cells_without_a_value_are_found():
    data = xlsx([HEADER, ["华鑫", "华鑫电子", "=1000+200", "2023-05-06"]])
    table = read_table(data, kind=ImportKind.PROJECTS, max_rows=10)
    assert table.formulas_without_value == {(2, 2)}


def test_totals_rows_and_notes_under_the_table_are_left_out_and_named():
    rows = [
        HEADER,
        ROW,
        ["注塑件生产项目", "", "", ""],  # a real (incomplete) row: kept, the dry run says why
        ["小计", "", "=SUM(C2:C3)", ""],
        [" 合 计 ", None, 99999, None],
        ["注：总投资单位为万元。"],
        ["填表人：张明      审核人：王强"],
    ]
    for data in (xlsx(rows), csv_bytes(rows, encoding="gb18030")):
        table = read_table(data, kind=ImportKind.PROJECTS, max_rows=10)
        assert [number for number, _row in table.rows] == [2, 3]
        assert table.skipped == [4, 5, 6, 7]
