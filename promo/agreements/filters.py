"""Filters of the agreements app's API lists: the same names as the other apps' (sync high-water
mark ``updated_after``, the project), and ``cohort`` as the bulletin groups agreements."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from officers.filters import UnitSubtreeFilter, UpdatedAfterFilter

from .choices import AgreementKind
from .models import Agreement
from .selectors import cohort_projects


class YearFilter(django_filters.NumberFilter):
    """A calendar year (1–9999, whole): anything else is the field's error, 400 in the API."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 9999)
        super().__init__(*args, **kwargs)


class AgreementFilter(django_filters.FilterSet):
    project = django_filters.NumberFilter(field_name="project_id", label=_("项目"))
    kind = django_filters.MultipleChoiceFilter(choices=AgreementKind.choices, label=_("协议类型"))
    unit = UnitSubtreeFilter(field_name="project__unit")
    signed_on = django_filters.DateFromToRangeFilter(label=_("签订日期范围"))
    # The bulletin's signing-year table (签约年度: the year of the project's first agreement).
    cohort = YearFilter(method="filter_cohort", label=_("签约年度"))
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = Agreement
        fields = ["project", "kind", "unit", "signed_on", "cohort", "updated_after"]

    def filter_cohort(self, queryset: QuerySet[Agreement], name: str, value: int) -> Any:
        return queryset.filter(project_id__in=cohort_projects(int(value)))
