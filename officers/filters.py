"""FilterSets of the officers app, shared by the UI lists and the API, plus the sub-tree filter."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from promo.api.filters import as_utc

from .choices import Role, TargetMetric, UnitKind
from .models import Officer, Target, Unit


class UnitSubtreeFilter(django_filters.NumberFilter):
    """``?unit=<id>``: rows of that unit and all its sub-units (a prefix match on Unit.path).

    A unit id the database does not know yields an empty list, like any other filter value.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("单位（含下级单位）"))
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value):
        if value in (None, ""):
            return qs
        path = Unit.objects.filter(pk=int(value)).values_list("path", flat=True).first()
        if path is None:
            return qs.none()
        return qs.filter(**{f"{self.field_name}__path__startswith": path})


class UpdatedAfterFilter(django_filters.IsoDateTimeFilter):
    """``?updated_after=<ISO time>``: rows changed at or after that moment (sync high-water mark).

    ``>=`` rather than ``>``: a client re-reads the rows of its last timestamp instead of
    missing one written in the same microsecond; upserting them again is harmless.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        kwargs.setdefault("label", _("更新时间不早于"))
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value):
        return super().filter(qs, as_utc(value, "updated_after"))


class UnitFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices, label=_("类型"))
    parent = django_filters.NumberFilter(field_name="parent_id", label=_("上级单位"))
    is_active = django_filters.BooleanFilter(label=_("启用"))

    class Meta:
        model = Unit
        fields = ["kind", "parent", "is_active"]


class OfficerFilter(django_filters.FilterSet):
    unit = UnitSubtreeFilter(field_name="unit")
    role = django_filters.ChoiceFilter(choices=Role.choices, label=_("角色"))
    is_active = django_filters.BooleanFilter(label=_("在用"))

    class Meta:
        model = Officer
        fields = ["unit", "role", "is_active"]


class TargetFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("年度"))
    metric = django_filters.ChoiceFilter(choices=TargetMetric.choices, label=_("指标"))
    unit = UnitSubtreeFilter(field_name="unit")
    officer = django_filters.NumberFilter(field_name="officer_id", label=_("干部"))
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = Target
        fields = ["year", "metric", "unit", "officer", "updated_after"]
