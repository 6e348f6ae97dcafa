"""Ledger files generated in code: XLSX through openpyxl, CSV in the encodings Excel writes."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl


def xlsx(
    rows: list[list[Any]], *, title: str = "Sheet1", extra_sheets: dict | None = None
) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name, sheet_rows in (extra_sheets or {}).items():
        other = workbook.create_sheet(name)
        for row in sheet_rows:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)
