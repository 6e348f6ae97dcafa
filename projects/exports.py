"""The project list's export columns and rows (导出), read like its page.

Every column names its database fields, so a large export reads tuples
(``promo.core.exports.table_rows``); a choice column shows its label, translated once per
export.
"""

from __future__ import annotations

from django.db.models import Field, QuerySet
from django.http import QueryDict

from officers.models import Officer
from projects.models import Project
from projects.selectors import project_list_for
from promo.core.exports import column


def _choices(name: str):
    field = Project._meta.get_field(name)
    assert isinstance(field, Field)
    return field.flatchoices


def _external_id(external_id: str, source_system: str) -> str:
    return external_id if source_system == "import" else ""


PROJECT_COLUMNS = (
    column("系统编号", "pk"),
    column("外部编号", "external_id", also=("source_system",), combine=_external_id),
    column("项目名称", "name"),
    column("投资方", "investor__name"),
    column("统一社会信用代码", "investor__credit_code"),
    column("行业", "industry", labels=_choices("industry")),
    column("签约日期", "contract_date"),
    # The page's 总投资 column: today's, or as of the list's investment_as_of (an annotation
    # of project_list_for).
    column("总投资(万元)", "shown_total"),
    column("注册资本(万元)", "registered_capital"),
    column("合同外资(万美元)", "contracted_fdi"),
    column("到账外资(万美元)", "arrived_fdi"),
    column("用地(亩)", "land_area"),
    column("累计完成投资(万元)", "invested_to_date"),
    column("规模", "size_class", labels=_choices("size_class")),
    column("阶段", "stage", labels=_choices("stage")),
    column("计划开工", "groundbreaking_planned"),
    column("实际开工", "groundbreaking_actual"),
    column("计划竣工", "completed_planned"),
    column("实际竣工", "completed_actual"),
    column("计划投产", "producing_planned"),
    column("实际投产", "producing_actual"),
    # The milestones after signing (issue #20): the 新入统 / 新入规 lists export with them.
    column("实际注册", "registered_actual"),
    column("项目公司统一社会信用代码", "company_credit_code"),
    column("实际供地", "land_granted_actual"),
    column("实际入统", "in_statistics_actual"),
    column("实际入规", "above_size_actual"),
    column("落户园区", "park_name"),
    column("责任单位", "unit__name"),
)


def projects_for_export(officer: Officer, params: QueryDict) -> QuerySet[Project]:
    """The project list page's rows for these query parameters, unpaged."""
    return project_list_for(officer, params)[2]
