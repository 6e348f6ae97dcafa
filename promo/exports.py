"""Export of a list page (导出): the same filters and visibility as the page, to XLSX or CSV.

Headers are the Chinese words the ledgers use, so an exported file can be edited and
imported again (promo.imports recognises every header written here); amounts are numbers,
not strings; CSV carries a UTF-8 BOM so Excel on a Chinese Windows opens it correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse, QueryDict
from django.utils import timezone

from leads.filters import LeadFilter
from leads.forms import LeadSearchForm
from leads.models import Lead, Visit
from leads.selectors import lead_list
from officers.models import Assignment, Officer
from projects.filters import ProjectFilter
from projects.forms import ProjectFilterForm
from projects.models import Project
from projects.selectors import project_list


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


LEAD_COLUMNS = (
    Column("系统编号", lambda o: o.pk),
    Column("外部编号", lambda o: o.external_id if o.source_system == "import" else ""),
    Column("项目名称", lambda o: o.name),
    Column("投资方", lambda o: o.investor.name),
    Column("统一社会信用代码", lambda o: o.investor.credit_code),
    Column("行业", lambda o: o.get_industry_display()),
    Column("预计总投资(万元)", lambda o: o.estimated_amount),
    Column("预计外资(万美元)", lambda o: o.estimated_fdi),
    Column("信息来源", lambda o: o.get_source_channel_display()),
    Column("产业链定位", lambda o: o.get_chain_role_display()),
    Column("状态", lambda o: o.get_status_display()),
    Column("责任单位", lambda o: o.unit.name),
    Column("首次接触日期", lambda o: o.first_contact_on),
    Column("最近跟进日期", lambda o: o.last_activity_on),
    Column("项目概况", lambda o: o.description),
)

PROJECT_COLUMNS = (
    Column("系统编号", lambda o: o.pk),
    Column("外部编号", lambda o: o.external_id if o.source_system == "import" else ""),
    Column("项目名称", lambda o: o.name),
    Column("投资方", lambda o: o.investor.name),
    Column("统一社会信用代码", lambda o: o.investor.credit_code),
    Column("行业", lambda o: o.get_industry_display()),
    Column("签约日期", lambda o: o.contract_date),
    Column("总投资(万元)", lambda o: o.total_investment),
    Column("注册资本(万元)", lambda o: o.registered_capital),
    Column("合同外资(万美元)", lambda o: o.contracted_fdi),
    Column("到账外资(万美元)", lambda o: o.arrived_fdi),
    Column("用地(亩)", lambda o: o.land_area),
    Column("累计完成投资(万元)", lambda o: o.invested_to_date),
    Column("规模", lambda o: o.get_size_class_display()),
    Column("阶段", lambda o: o.get_stage_display()),
    Column("计划开工", lambda o: o.groundbreaking_planned),
    Column("实际开工", lambda o: o.groundbreaking_actual),
    Column("计划竣工", lambda o: o.completed_planned),
    Column("实际竣工", lambda o: o.completed_actual),
    Column("计划投产", lambda o: o.producing_planned),
    Column("实际投产", lambda o: o.producing_actual),
    Column("落户园区", lambda o: o.park_name),
    Column("责任单位", lambda o: o.unit.name),
)


VISIT_COLUMNS = (
    Column("系统编号", lambda o: o.pk),
    Column("走访日期", lambda o: o.visited_on),
    Column("类型", lambda o: o.get_kind_display()),
    Column("客商", lambda o: o.investor.name),
    Column("项目信息", lambda o: o.lead.name if o.lead_id else ""),
    Column("登记单位", lambda o: o.unit.name),
    Column("参加干部", lambda o: "、".join(p.display_name for p in o.present)),
    Column("城市", lambda o: o.city),
    Column("洽谈内容", lambda o: o.summary),
    Column("下一步", lambda o: o.next_step),
    Column("下一步期限", lambda o: o.next_step_due),
)


def visits_for_export(officer: Officer, params: QueryDict) -> QuerySet[Visit]:
    """The visit list page's rows for these query parameters (VisitFilter), unpaged."""
    from leads.views_visits import filtered_visits

    return filtered_visits(officer, params)[1]


def leads_for_export(officer: Officer, params: QueryDict) -> QuerySet[Lead]:
    """The lead list page's rows for these query parameters (LeadFilter + search), unpaged."""
    base = lead_list(officer)
    filterset = LeadFilter(params or None, queryset=base)
    qs = filterset.qs if filterset.is_bound else base
    if filterset.is_bound and not filterset.is_valid():
        return qs.none()
    search = LeadSearchForm(params or None)
    sort = LeadSearchForm.SORTS["-created"]
    if search.is_valid():
        q = search.cleaned_data["q"].strip()
        if q:
            qs = qs.filter(
                Q(name__icontains=q)
                | Q(investor__name__icontains=q)
                | Q(investor__name_en__icontains=q)
            )
        if search.cleaned_data["mine"]:
            qs = qs.filter(
                Exists(Assignment.objects.filter(lead_id=OuterRef("pk"), officer_id=officer.pk))
            )
        sort = LeadSearchForm.SORTS.get(search.cleaned_data["sort"] or "-created", sort)
    return qs.order_by(*sort)


def projects_for_export(officer: Officer, params: QueryDict) -> QuerySet[Project]:
    """The project list page's rows for these query parameters, unpaged."""
    base = project_list(officer)
    filterset = ProjectFilter(params or None, queryset=base)
    qs = filterset.qs if filterset.is_bound else base
    if filterset.is_bound and not filterset.is_valid():
        return qs.none()
    form = ProjectFilterForm(params or None)
    if form.is_valid():
        if form.cleaned_data["size"]:
            qs = qs.filter(size_class__in=form.cleaned_data["size"])
        q = form.cleaned_data["q"].strip()
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(investor__name__icontains=q))
    return qs.order_by("-contract_date", "-id")


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A number in the sheet, not text: sums and filters work in Excel.
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _rows(columns: Iterable[Column], objects: Iterable[Any]):
    for obj in objects:
        yield [_cell(column.value(obj)) for column in columns]


def to_xlsx(columns: tuple[Column, ...], objects: Iterable[Any], *, title: str) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    sheet.append([c.header for c in columns])
    for row in _rows(columns, objects):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(columns: tuple[Column, ...], objects: Iterable[Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    for row in _rows(columns, objects):
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row]
        )
    return buffer.getvalue().encode("utf-8-sig")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(
    columns: tuple[Column, ...], objects: Iterable[Any], *, title: str, fmt: str
) -> HttpResponse:
    """The rows as an XLSX or CSV attachment named ``<title>-<local time>.<fmt>``."""
    if fmt == "xlsx":
        response = HttpResponse(to_xlsx(columns, objects, title=title), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(to_csv(columns, objects), content_type="text/csv; charset=utf-8")
    name = f"{title}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{fmt}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
