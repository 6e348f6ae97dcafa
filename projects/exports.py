"""The project list's export columns and rows (导出), read like its page."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict

from officers.models import Officer
from projects.models import Project
from projects.selectors import project_list_for
from promo.core.exports import Column

PROJECT_COLUMNS = (
    Column("系统编号", lambda o: o.pk),
    Column("外部编号", lambda o: o.external_id if o.source_system == "import" else ""),
    Column("项目名称", lambda o: o.name),
    Column("投资方", lambda o: o.investor.name),
    Column("统一社会信用代码", lambda o: o.investor.credit_code),
    Column("行业", lambda o: o.get_industry_display()),
    Column("签约日期", lambda o: o.contract_date),
    # The page's 总投资 column: today's, or as of the list's investment_as_of.
    Column("总投资(万元)", lambda o: getattr(o, "shown_total", o.total_investment)),
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


def projects_for_export(officer: Officer, params: QueryDict) -> QuerySet[Project]:
    """The project list page's rows for these query parameters, unpaged."""
    return project_list_for(officer, params)[2]
