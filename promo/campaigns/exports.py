"""The league table as XLSX: amounts and scores are numbers, so the office can sum them."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from promo.dashboard.exports import XLSX, _number

from .models import Campaign


def _header(metrics: list[dict[str, Any]], who: str) -> list[Any]:
    line: list[Any] = [_("名次"), who]
    for metric in metrics:
        label = str(metric["label"])
        line += [label, _("%(figure)s 得分") % {"figure": label}]
    return [*line, _("综合得分")]


def _lines(rows: list[dict[str, Any]], name) -> list[list[Any]]:
    lines = []
    for row in rows:
        line: list[Any] = [row["rank"], name(row["subject"])]
        for cell in row["cells"]:
            line += [_number(cell["value"]), _number(cell["score"])]
        lines.append([*line, _number(row["total"])])
    return lines


def build_workbook(campaign: Campaign, table: dict[str, Any]) -> bytes:
    book = Workbook()
    window = table["window"]
    title = f"{campaign.name}  {window.start:%Y-%m-%d} ~ {window.end:%Y-%m-%d}  " + _(
        "统计至 %(day)s"
    ) % {"day": f"{window.counted_end:%Y-%m-%d}"}
    units = book.active
    units.title = _("单位排名")[:31]
    units.append([title])
    units.append(_header(table["metrics"], _("单位")))
    for line in _lines(table["units"], lambda u: u.short_name or u.name):
        units.append(line)
    sheets = [units]
    if table["officers_ranked"]:
        people = book.create_sheet(_("干部排名")[:31])
        people.append([title])
        people.append([*_header(table["officer_metrics"], _("干部")), _("单位")])
        for row, line in zip(
            table["officers"],
            _lines(table["officers"], lambda o: o.display_name),
            strict=True,
        ):
            unit = row["subject"].unit
            people.append([*line, unit.short_name or unit.name])
        sheets.append(people)
    for sheet in sheets:
        sheet["A1"].font = Font(bold=True)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_filename(campaign: Campaign) -> str:
    return f"campaign-{campaign.pk}-{campaign.start:%Y%m%d}-{campaign.end:%Y%m%d}.xlsx"


__all__ = ["XLSX", "build_workbook", "xlsx_filename"]
