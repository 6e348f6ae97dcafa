"""The lead and visit lists' export columns and rows (导出), read like their pages.

Every lead column names its database fields, so a large lead export reads tuples
(``promo.core.exports.table_rows``); a choice column shows its label, translated once per
export. A visit's officers (a many-to-many) are one annotation, their names joined in SQL.
"""

from __future__ import annotations

from django.contrib.postgres.aggregates import StringAgg
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.http import QueryDict

from leads.models import Lead, Visit
from leads.selectors import lead_list_for, visit_list_for
from officers.models import Officer
from promo.core.exports import column


def _choices(model, name: str):
    return model._meta.get_field(name).flatchoices


def _external_id(external_id: str, source_system: str) -> str:
    return external_id if source_system == "import" else ""


def _or_blank(value: str | None) -> str:
    return value or ""


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
    column("项目信息", "lead__name", combine=_or_blank),
    column("登记单位", "unit__name"),
    column("参加干部", "present_names", combine=_or_blank),
    column("城市", "city"),
    column("洽谈内容", "summary"),
    column("下一步", "next_step"),
    column("下一步期限", "next_step_due"),
)


def _present_names() -> Subquery:
    """The visit's officers' names (Officer.display_name in SQL), joined by 、 in id order."""
    name = Coalesce(
        NullIf("officer__full_name", Value("")),
        NullIf(Trim(Concat("officer__first_name", Value(" "), "officer__last_name")), Value("")),
        "officer__username",
    )
    present = (
        Visit.officers.through.objects.filter(visit_id=OuterRef("pk"))
        .values("visit_id")
        .annotate(names=StringAgg(name, "、", order_by="officer_id"))
        .values("names")
    )
    return Subquery(present)


def visits_for_export(officer: Officer, params: QueryDict) -> QuerySet[Visit]:
    """The visit list page's rows for these query parameters, unpaged, each with its
    officers' names (``present_names``)."""
    return visit_list_for(officer, params)[1].annotate(present_names=_present_names())


def leads_for_export(officer: Officer, params: QueryDict) -> QuerySet[Lead]:
    """The lead list page's rows for these query parameters, unpaged."""
    return lead_list_for(officer, params)[2]
