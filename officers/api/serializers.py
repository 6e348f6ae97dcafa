"""Read serializers of the officers app: units, officers and targets are read-only over the API."""

from __future__ import annotations

from rest_framework import serializers

from promo.api import FieldsMixin, OfficerRefSerializer, RefSerializer

from ..models import Officer, Target, Unit


class UnitSerializer(FieldsMixin, serializers.ModelSerializer):
    """Unit (单位): a node of the org tree."""

    parent = serializers.IntegerField(
        source="parent_id", read_only=True, allow_null=True, help_text="上级单位编号"
    )

    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "kind", "parent", "path", "city", "is_active"]
        extra_kwargs = {"path": {"help_text": "物化路径，如 /1/4/；下级单位的路径以上级路径开头。"}}


class OfficerSerializer(FieldsMixin, serializers.ModelSerializer):
    """Officer (干部): name, unit and role; no credentials."""

    name = serializers.CharField(source="display_name", read_only=True, help_text="姓名")
    unit = RefSerializer(read_only=True, allow_null=True, help_text="所在单位")

    class Meta:
        model = Officer
        fields = ["id", "username", "name", "unit", "role", "title", "is_full_time", "is_active"]


class TargetSerializer(FieldsMixin, serializers.ModelSerializer):
    """Target (目标任务): an annual figure owed by a unit or an officer."""

    unit = RefSerializer(read_only=True, allow_null=True, help_text="单位（下达到单位时）")
    officer = OfficerRefSerializer(
        read_only=True, allow_null=True, help_text="干部（下达到个人时）"
    )

    class Meta:
        model = Target
        fields = ["id", "year", "metric", "value", "unit", "officer", "updated_at"]
