"""The agreement ledger's export (协议履约台账, 导出): one row per investor commitment of the
agreements the list page shows, with its status as the page computes it.

Every column names its database fields (annotations included), so a large export reads tuples
(``promo.core.exports.table_rows``) and becomes an export job like the other lists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, QueryDict

from officers.models import Officer
from officers.selectors import units_visible_to
from promo.core.exports import column

from .choices import AgreementKind, Metric, TermStatus
from .models import Term
from .selectors import AGREEMENT_FILTERS, agreement_list, terms_with_status

TERM_COLUMNS = (
    column("系统编号", "pk"),
    column("项目名称", "agreement__project__name"),
    column("责任单位", "agreement__project__unit__name"),
    column("协议名称", "agreement__title"),
    column("协议类型", "agreement__kind", labels=AgreementKind.choices),
    column("签订日期", "agreement__signed_on"),
    column("承诺事项", "metric", labels=Metric.choices),
    column("承诺值", "target"),
    column("承诺期限", "due_on"),
    column("期限内核实值", "due_value"),
    column("履约状态", "status", labels=TermStatus.choices),
    column("豁免理由", "waived_reason"),
)


def terms_for_export(officer: Officer, params: QueryDict) -> QuerySet[Any]:
    """The commitments of the agreements the list page shows for these parameters (its
    ``status``, ``unit`` and ``project``), in the page's order, each with its status."""
    status = params.get("status", "")
    unit = None
    value = str(params.get("unit", "") or "")
    if value:
        unit = units_visible_to(officer).filter(pk=int(value)).first() if value.isdigit() else None
        if unit is None:
            raise Http404
    agreements = agreement_list(
        officer, status=status if status in AGREEMENT_FILTERS else "", unit=unit
    )
    project = str(params.get("project", "") or "")
    if project:
        if not project.isdigit():
            raise Http404
        agreements = agreements.filter(project_id=int(project))
    terms = Term.objects.filter(agreement__in=agreements.values("pk"))
    return terms_with_status(terms).order_by(
        "-agreement__signed_on", "-agreement_id", "due_on", "id"
    )
