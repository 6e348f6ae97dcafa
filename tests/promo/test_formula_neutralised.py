"""Issue #16 (personal data, "exports are safe to open"): one officer's export held 54 live
formulas such as =HYPERLINK(...). A text that starts like a formula (=, +, -, @, tab, carriage
return) is written so that it opens as the text it is: a text cell in XLSX, a leading
apostrophe in CSV — and promo's importer reads such a CSV back as the original text."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.test import Client

from leads.models import Lead
from promo.core.exports import Cell, Sheet, neutralised, workbook
from promo.imports.parsing import parse_text
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

# Lead names as officers or imports leave them (the services strip surrounding blanks, so a
# leading tab or carriage return is tested on the writers directly below).
TRAPS = [
    '=HYPERLINK("http://example.invalid/x","点我领取")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
]


def _export(bureau, fmt: str) -> bytes:
    me = bureau.shanghai_officer
    for name in [*TRAPS, "普通项目"]:
        make_lead(me, name=name)
    client = Client()
    client.force_login(me)
    response = client.get(f"/imports/export/leads.{fmt}")
    assert response.status_code == 200
    return response.getvalue()


def test_a_csv_export_opens_formula_like_texts_as_text(bureau):
    rows = list(csv.reader(io.StringIO(_export(bureau, "csv").decode("utf-8-sig"))))
    names = {row[2] for row in rows[1:]}
    assert names == {"'" + trap for trap in TRAPS} | {"普通项目"}
    # Read back as promo's importer reads a cell: the original text again.
    assert {parse_text(name) for name in names} == set(TRAPS) | {"普通项目"}


def test_an_xlsx_export_holds_them_as_text_cells_not_formulas(bureau):
    book = openpyxl.load_workbook(io.BytesIO(_export(bureau, "xlsx")))
    cells = [row[2] for row in book.active.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert {cell.value for cell in cells} == set(TRAPS) | {"普通项目"}
    assert Lead.objects.count() == len(TRAPS) + 1


def test_the_report_workbooks_write_them_as_text_too():
    data = workbook(
        [
            Sheet(
                title="通报",
                rows=[["单位", "说明"], ["上海办事处", TRAPS[0]], [Cell(TRAPS[3], bold=True), 12]],
                bold_rows=1,
            )
        ]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert (sheet["B2"].value, sheet["B2"].data_type) == (TRAPS[0], "s")
    assert (sheet["A3"].value, sheet["A3"].data_type) == (TRAPS[3], "s")
    assert (sheet["B3"].value, sheet["B3"].data_type) == (12, "n")


def test_a_leading_tab_or_carriage_return_is_neutralised_too():
    assert neutralised("\t=1+1") == "'\t=1+1" and neutralised("\r=1+1") == "'\r=1+1"
    assert neutralised("普通") == "普通" and neutralised(12) == 12
    sheet = openpyxl.load_workbook(
        io.BytesIO(workbook([Sheet(title="x", rows=[["\t=1+1"]])]))
    ).active
    assert (sheet["A1"].value, sheet["A1"].data_type) == ("\t=1+1", "s")


def test_an_apostrophe_before_ordinary_text_is_kept():
    assert parse_text("'abc") == "'abc"
    assert parse_text("'=1+1") == "=1+1"
