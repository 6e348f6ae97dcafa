"""The lead and visit lists' export columns and rows (导出), read like their pages.

Every lead column names its database fields, so a large lead export reads tuples
(``promo.core.exports.table_rows``); a choice column shows its label, translated once per
export. A visit's officers are a many-to-many, read from instances (prefetched).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict

from leads.models import Lead, Visit
from leads.selectors import lead_list_for, visit_list_for
from officers.models import Officer
from promo.core.exports import Column, column


def _choices(model, name: str):
    return model._meta.get_field(name).flatchoices


def _external_id(external_id: str, source_system: str) -> str:
    return external_id if source_system == "import" else ""


LEAD_COLUMNS = (
    column("系统编号", "pk"),
    column("外部编号", "external_id", also=("source_system",), combine=_external_id),
    column("项目名称", "name"),
    column("投资方", "investor__name"),
    column("统一社会信用代码", "investor__credit_code"),
    column("行业", "industry", labels=_choices(Lead, "industry")),
    column("预计总投资(万元)", "estimated_amount"),
    column("预计外资(万美元)", "estimated_fdi"),
    column("信息来源", "source_channel", labels=_choices(Lead, "source_channel")),
    column("产业链定位", "chain_role", labels=_choices(Lead, "chain_role")),
    column("状态", "status", labels=_choices(Lead, "status")),
    column("责任单位", "unit__name"),
    column("首次接触日期", "first_contact_on"),
    column("最近跟进日期", "last_activity_on"),
    column("项目概况", "description"),
)

VISIT_COLUMNS = (
    column("系统编号", "pk"),
    column("走访日期", "visited_on"),
    column("类型", "kind", labels=_choices(Visit, "kind")),
    column("客商", "investor__name"),
    Column("项目信息", lambda o: o.lead.name if o.lead_id else ""),
    column("登记单位", "unit__name"),
    Column("参加干部", lambda o: "、".join(p.display_name for p in o.present)),
    column("城市", "city"),
    column("洽谈内容", "summary"),
    column("下一步", "next_step"),
    column("下一步期限", "next_step_due"),
)


def visits_for_export(officer: Officer, params: QueryDict) -> QuerySet[Visit]:
    """The visit list page's rows for these query parameters, unpaged."""
    return visit_list_for(officer, params)[1]


def leads_for_export(officer: Officer, params: QueryDict) -> QuerySet[Lead]:
    """The lead list page's rows for these query parameters, unpaged."""
    return lead_list_for(officer, params)[2]
