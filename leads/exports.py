"""The lead and visit lists' export columns and rows (导出), read like their pages."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict

from leads.models import Lead, Visit
from leads.selectors import lead_list_for, visit_list_for
from officers.models import Officer
from promo.core.exports import Column

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
    """The visit list page's rows for these query parameters, unpaged."""
    return visit_list_for(officer, params)[1]


def leads_for_export(officer: Officer, params: QueryDict) -> QuerySet[Lead]:
    """The lead list page's rows for these query parameters, unpaged."""
    return lead_list_for(officer, params)[2]
