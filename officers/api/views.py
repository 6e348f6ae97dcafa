"""Read-only API of the officers app: units, officers, targets, each inside the caller's scope."""

from __future__ import annotations

from rest_framework import mixins

from promo.api import ScopedViewSet

from ..filters import OfficerFilter, TargetFilter, UnitFilter
from ..selectors import officers_visible_to, targets_visible_to, units_visible_to
from .serializers import OfficerSerializer, TargetSerializer, UnitSerializer


class UnitViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Units (单位) the caller may see: the whole bureau for a chief, else their sub-tree."""

    read_serializer_class = UnitSerializer
    filterset_class = UnitFilter
    ordering_fields = ("id", "name")

    def visible(self):
        return units_visible_to(self.request.user)


class OfficerViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Officers (干部) of the units the caller may see."""

    read_serializer_class = OfficerSerializer
    filterset_class = OfficerFilter
    ordering_fields = ("id", "username")

    def visible(self):
        return officers_visible_to(self.request.user).select_related("unit")


class TargetViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Annual targets (目标任务) of visible units and their officers."""

    read_serializer_class = TargetSerializer
    filterset_class = TargetFilter
    ordering_fields = ("id", "year", "updated_at")

    def visible(self):
        return targets_visible_to(self.request.user).select_related("unit", "officer")
