"""The league table as XLSX sheets (built by promo.core.exports): amounts and scores are
numbers, so the office can sum them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from promo.core.exports import Sheet
from promo.dashboard.exports import _number

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


def sheets(campaign: Campaign, table: dict[str, Any]) -> list[Sheet]:
    """The units' league, and the officers' when they are ranked: the campaign and its window
    on top, then the header, bold."""
    window = table["window"]
    title = f"{campaign.name}  {window.start:%Y-%m-%d} ~ {window.end:%Y-%m-%d}  " + _(
        "统计至 %(day)s"
    ) % {"day": f"{window.counted_end:%Y-%m-%d}"}
    out = [
        Sheet(
            title=_("单位排名")[:31],
            heading=title,
            rows=[
                _header(table["metrics"], _("单位")),
                *_lines(table["units"], lambda u: u.short_name or u.name),
            ],
            bold_rows=1,
        )
    ]
    if table["officers_ranked"]:
        people = [[*_header(table["officer_metrics"], _("干部")), _("单位")]]
        for row, line in zip(
            table["officers"],
            _lines(table["officers"], lambda o: o.display_name),
            strict=True,
        ):
            unit = row["subject"].unit
            people.append([*line, unit.short_name or unit.name])
        out.append(Sheet(title=_("干部排名")[:31], heading=title, rows=people, bold_rows=1))
    return out


def xlsx_filename(campaign: Campaign) -> str:
    return f"campaign-{campaign.pk}-{campaign.start:%Y%m%d}-{campaign.end:%Y%m%d}.xlsx"
