"""The cockpit's tables as XLSX sheets (built by promo.core.exports); amounts are numbers, so
the office can sum them, shown grouped (``#,##0``, or ``#,##0.00`` when there are cents: the
exact form of promo.core.amounts, as the page prints them)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from promo.core import amounts
from promo.core.exports import Cell, Sheet
from promo.reports.choices import Figure

from .selectors import COCKPIT_FIGURES, CockpitFilters


def _number(value: Any) -> Any:
    # openpyxl writes Decimal as text-free numbers only via float/int; keep counts as int.
    if isinstance(value, Decimal):
        return float(value)
    return value


def _amount(value: Any) -> Any:
    """An amount cell: the exact number, grouped by its number format."""
    if value is None:
        return None
    return Cell(value, number_format=amounts.number_format(value))


def _figures(ctx: dict[str, Any]) -> list[list[Any]]:
    header = [_("单位")]
    for figure in COCKPIT_FIGURES:
        label = str(Figure(figure).label)
        header += [label, _("%(figure)s 去年同期") % {"figure": label}]
    rows = [header]
    for row in [*ctx["rows"], *ctx["own_rows"], ctx["total"]]:
        line = [row.name]
        for cell in row.cells:
            if cell["is_amount"]:
                line += [_amount(cell["value"]), _amount(cell["last_year"])]
            else:
                line += [_number(cell["value"]), _number(cell["last_year"])]
        rows.append(line)
    return rows


def _targets(ctx: dict[str, Any]) -> list[list[Any]]:
    rows = [[_("单位"), _("指标"), _("年度目标"), _("已完成"), _("完成率(%)")]]
    for row in [*ctx["rows"], ctx["total"]]:
        for t in row.targets:
            percent = round(float(t["percent"]), 1) if t["percent"] is not None else None
            rows.append(
                [row.name, str(t["label"]), _amount(t["target"]), _amount(t["done"]), percent]
            )
    return rows


def _projects(ctx: dict[str, Any]) -> list[list[Any]]:
    rows = [
        [
            _("单位"),
            _("合同外资(万美元)"),
            _("到账外资(万美元)"),
            _("千万元以上在建项目(个)"),
            _("亿元以上重点项目(个)"),
            _("重点项目总投资(万元)"),
            _("重点项目累计完成投资(万元)"),
            _("投资完成率(%)"),
            _("节点逾期项目(个)"),
        ]
    ]
    for row in [*ctx["rows"], *ctx["own_rows"], ctx["total"]]:
        p = row.projects
        rate = round(float(p["key_rate"]), 1) if p["key_rate"] is not None else None
        rows.append(
            [
                row.name,
                _amount(p["contracted_fdi"]),
                _amount(p["arrived_fdi"]),
                p["building_10m"],
                p["key_count"],
                _amount(p["key_total"]),
                _amount(p["key_invested"]),
                rate,
                p["overdue"],
            ]
        )
    return rows


def _scores(ctx: dict[str, Any]) -> list[list[Any]]:
    rows = [[_("名次"), _("单位"), _("功效系数得分"), _("扣分"), _("总分")]]
    for s in ctx["scores"]:
        rows.append(
            [
                s["rank"],
                s["row"].name,
                _number(s["weighted"]),
                _number(s["deduction"]),
                _number(s["total"]),
            ]
        )
    return rows


def _funnel(ctx: dict[str, Any]) -> list[list[Any]]:
    """The period's funnel: each stage's leads, the conversion from the previous stage (%)
    and the median days it took; then the leads dropped and rejected in the period."""
    funnel = ctx["funnel"]
    rows: list[list[Any]] = [[_("阶段"), _("条数"), _("转化率(%)"), _("中位天数")]]
    for step in funnel["steps"]:
        rate, days = step["conversion"], step["days"]
        rows.append(
            [
                str(step["label"]),
                step["count"],
                round(rate, 1) if rate is not None else None,
                round(days, 1) if days is not None else None,
            ]
        )
    rows += [[str(c["label"]), c["count"], None, None] for c in funnel["closed"]]
    return rows


def _overdue(ctx: dict[str, Any]) -> list[list[Any]]:
    rows = [[_("项目"), _("单位"), _("逾期节点"), _("计划日期"), _("逾期天数"), _("总投资(万元)")]]
    for p in ctx["overdue"]:
        rows.append(
            [
                p.name,
                p.unit.name,
                str(p.next_label),
                p.due_on,
                p.days_overdue,
                _amount(p.total_investment),
            ]
        )
    return rows


TABLES: dict[str, tuple[str, Callable[[dict[str, Any]], list[list[Any]]]]] = {
    "figures": ("五项指标", _figures),
    "targets": ("目标完成", _targets),
    "projects": ("项目与外资", _projects),
    "scores": ("综合评分", _scores),
    "funnel": ("信息漏斗", _funnel),
    "overdue": ("节点逾期", _overdue),
}


def sheets(table: str, ctx: dict[str, Any], filters: CockpitFilters) -> list[Sheet]:
    """One cockpit table as a sheet: its name and period on top, then its header, bold."""
    title, build = TABLES[table]
    period = f"{filters.period.start:%Y-%m-%d} ~ {filters.period.end:%Y-%m-%d}"
    return [Sheet(title=title, heading=f"{title}  {period}", rows=build(ctx), bold_rows=1)]


def filename(table: str, filters: CockpitFilters) -> str:
    return f"dashboard-{table}-{filters.period.start:%Y%m%d}-{filters.period.end:%Y%m%d}.xlsx"
