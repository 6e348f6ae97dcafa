"""FilterSets of the projects app: the same filters drive the UI lists and the API lists."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from officers.filters import UnitSubtreeFilter, UpdatedAfterFilter
from promo.choices import Industry

from .choices import ProblemKind, ProblemStatus, SizeClass, Stage
from .models import InvestmentProgress, Problem, Project


class ProjectFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, label=_("阶段"))
    unit = UnitSubtreeFilter(field_name="unit")
    size_class = django_filters.MultipleChoiceFilter(choices=SizeClass.choices, label=_("规模"))
    industry = django_filters.MultipleChoiceFilter(choices=Industry.choices, label=_("行业"))
    contract_date = django_filters.DateFromToRangeFilter(label=_("签约日期范围"))
    investor = django_filters.NumberFilter(field_name="investor_id", label=_("投资方"))
    source_system = django_filters.CharFilter(label=_("来源系统"), max_length=40)
    external_id = django_filters.CharFilter(label=_("外部编号"), max_length=100)
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = Project
        fields = [
            "stage",
            "unit",
            "size_class",
            "industry",
            "contract_date",
            "investor",
            "source_system",
            "external_id",
            "updated_after",
        ]


class ProblemFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ProblemStatus.choices, label=_("状态"))
    kind = django_filters.MultipleChoiceFilter(choices=ProblemKind.choices, label=_("问题类型"))
    project = django_filters.NumberFilter(field_name="project_id", label=_("项目"))
    owner_unit = UnitSubtreeFilter(field_name="owner_unit")
    due_on = django_filters.DateFromToRangeFilter(label=_("办结期限范围"))
    escalated = django_filters.BooleanFilter(
        field_name="escalated_at", lookup_expr="isnull", exclude=True, label=_("已二次催办升级")
    )
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = Problem
        fields = ["status", "kind", "project", "owner_unit", "due_on", "escalated", "updated_after"]


class ProgressFilter(django_filters.FilterSet):
    month = django_filters.DateFromToRangeFilter(label=_("月份范围"))

    class Meta:
        model = InvestmentProgress
        fields = ["month"]
