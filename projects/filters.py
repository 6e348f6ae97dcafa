"""FilterSets of the projects app: the same filters drive the UI lists and the API lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from leads.choices import SourceChannel
from leads.filters import DatePickerRange, UnitIdsSubtreeFilter, WithoutSubunitsFilter
from officers.filters import UnitSubtreeFilter, UpdatedAfterFilter
from promo.core.choices import Industry, Region
from promo.core.services import today

from .choices import ProblemKind, ProblemStatus, SizeClass, Stage
from .models import (
    InvestmentProgress,
    Problem,
    Project,
    ServiceVisit,
    progress_reported_between,
)


def overdue_q(day: date) -> Q:
    """The next milestone's planned date has passed (节点逾期) and it was not reached."""
    return (
        Q(stage=Stage.SIGNED, groundbreaking_planned__lt=day)
        | Q(stage=Stage.GROUNDBREAKING, completed_planned__lt=day)
        | Q(stage=Stage.COMPLETED, producing_planned__lt=day)
    )


# The traffic lights (红黄灯) are the reports app's: a project's light is the worst of its open
# alerts and its problems' (promo.reports.selectors.project_lights). Reports sits above
# projects (imports point one way), so it hands its rule in when it starts
# (promo.reports.apps); projects holds only the filter's name and choices.
LIGHT_CHOICES = (("red", _("红灯")), ("yellow", _("黄灯")), ("green", _("绿灯")))
_light_rule: Callable[[str], Q] | None = None


def register_light_rule(rule: Callable[[str], Q]) -> None:
    """Set the condition of a light on projects (called once, by the reports app)."""
    global _light_rule
    _light_rule = rule


def light_q(level: str) -> Q:
    """The projects whose light is ``level`` (red / yellow / green), by the reports' rule."""
    if _light_rule is None:
        raise RuntimeError("no traffic-light rule: promo.reports is not installed")
    return _light_rule(level)


class ProjectFilter(django_filters.FilterSet):
    # distinct=False: these filter the project's own columns and cannot duplicate rows;
    # django-filter's default DISTINCT over every selected column made PostgreSQL sort all
    # matching projects before taking a page (the province list: ~150 ms).
    stage = django_filters.MultipleChoiceFilter(
        choices=Stage.choices, distinct=False, label=_("阶段")
    )
    unit = UnitIdsSubtreeFilter(field_name="unit", own_only_flag="without_subunits")
    without_subunits = WithoutSubunitsFilter()
    size_class = django_filters.MultipleChoiceFilter(
        choices=SizeClass.choices, distinct=False, label=_("规模")
    )
    industry = django_filters.MultipleChoiceFilter(
        choices=Industry.choices, distinct=False, label=_("行业")
    )
    contract_date = django_filters.DateFromToRangeFilter(
        label=_("签约日期范围"), widget=DatePickerRange
    )
    groundbreaking_actual = django_filters.DateFromToRangeFilter(
        label=_("实际开工日期范围"), widget=DatePickerRange
    )
    # The cockpit's and bulletin's 新入统 / 新入规 link here with their period.
    in_statistics_actual = django_filters.DateFromToRangeFilter(
        label=_("实际入统日期范围"), widget=DatePickerRange
    )
    above_size_actual = django_filters.DateFromToRangeFilter(
        label=_("实际入规日期范围"), widget=DatePickerRange
    )
    investor = django_filters.NumberFilter(field_name="investor_id", label=_("投资方"))
    investor_region = django_filters.MultipleChoiceFilter(
        field_name="investor__region",
        choices=Region.choices,
        distinct=False,
        label=_("投资方国别/地区"),
    )
    source_channel = django_filters.MultipleChoiceFilter(
        field_name="lead__source_channel",
        choices=SourceChannel.choices,
        distinct=False,
        label=_("信息来源"),
    )
    signed_investment_min = django_filters.NumberFilter(
        field_name="signed_investment", lookup_expr="gte", label=_("签约总投资不少于(万元)")
    )
    progress_month = django_filters.DateFromToRangeFilter(
        method="filter_progress_month", label=_("填报投资进度的月份"), widget=DatePickerRange
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("节点逾期"))
    # The cockpit's 红灯项目 count links here (light=red).
    light = django_filters.ChoiceFilter(
        choices=LIGHT_CHOICES, method="filter_light", label=_("灯色"), empty_label="—"
    )
    # The list page's search box; the export and the API take it too.
    q = django_filters.CharFilter(
        method="filter_q", label=_("搜索项目或投资方名称"), max_length=100
    )
    source_system = django_filters.CharFilter(label=_("来源系统"), max_length=40)
    external_id = django_filters.CharFilter(label=_("外部编号"), max_length=100)
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = Project
        fields = [
            "stage",
            "unit",
            "without_subunits",
            "size_class",
            "industry",
            "contract_date",
            "groundbreaking_actual",
            "in_statistics_actual",
            "above_size_actual",
            "investor",
            "investor_region",
            "source_channel",
            "signed_investment_min",
            "progress_month",
            "overdue",
            "light",
            "q",
            "source_system",
            "external_id",
            "updated_after",
        ]

    def filter_progress_month(self, qs: QuerySet, name: str, value) -> QuerySet:
        """Projects with monthly progress for a month in the range (the arrived-FDI set)."""
        if not value or (value.start is None and value.stop is None):
            return qs
        return qs.filter(progress_reported_between(value.start, value.stop))

    def filter_overdue(self, qs: QuerySet, name: str, value) -> QuerySet:
        if value is None:
            return qs
        late = overdue_q(today())
        return qs.filter(late) if value else qs.exclude(late)

    def filter_light(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(light_q(value)) if value else qs

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(name__icontains=value) | Q(investor__name__icontains=value))


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


class ServiceVisitFilter(django_filters.FilterSet):
    """Service visits (企业服务走访) for the API's list and its sync."""

    project = django_filters.NumberFilter(field_name="project_id", label=_("项目"))
    visited_on = django_filters.DateFromToRangeFilter(label=_("走访日期范围"))
    has_expansion_plan = django_filters.BooleanFilter(label=_("有增资扩产计划"))
    source_system = django_filters.CharFilter(label=_("来源系统"), max_length=40)
    external_id = django_filters.CharFilter(label=_("外部编号"), max_length=100)
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = ServiceVisit
        fields = [
            "project",
            "visited_on",
            "has_expansion_plan",
            "source_system",
            "external_id",
            "updated_after",
        ]


class ProgressFilter(django_filters.FilterSet):
    month = django_filters.DateFromToRangeFilter(label=_("月份范围"))

    class Meta:
        model = InvestmentProgress
        fields = ["month"]
