"""Filters of the agreements app's API lists: the same names as the other apps' (sync high-water
mark ``updated_after``, the project)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from officers.filters import UnitSubtreeFilter, UpdatedAfterFilter

from .choices import AgreementKind
from .models import Agreement


class AgreementFilter(django_filters.FilterSet):
    project = django_filters.NumberFilter(field_name="project_id", label=_("项目"))
    kind = django_filters.MultipleChoiceFilter(choices=AgreementKind.choices, label=_("协议类型"))
    unit = UnitSubtreeFilter(field_name="project__unit")
    signed_on = django_filters.DateFromToRangeFilter(label=_("签订日期范围"))
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = Agreement
        fields = ["project", "kind", "unit", "signed_on", "updated_after"]
