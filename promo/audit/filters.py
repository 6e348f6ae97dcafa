"""The audit page's filters (time, actor, action, outcome), shared by the list and its export."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from promo.audit.choices import Action, Outcome
from promo.audit.models import AuditEntry


class AuditEntryFilter(django_filters.FilterSet):
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("起始日期"))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("截止日期"))
    actor = django_filters.CharFilter(
        field_name="actor_username", lookup_expr="iexact", label=_("用户名")
    )
    action = django_filters.ChoiceFilter(choices=Action.choices, label=_("操作"))
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label=_("结果"))

    class Meta:
        model = AuditEntry
        fields = ["since", "until", "actor", "action", "outcome"]
