"""Serializers of the officers app's API: units, officers, targets (read) and API clients."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from promo.api.models import ApiClient
from promo.api.serializers import (
    FieldsMixin,
    RefSerializer,
    VisiblePrimaryKeyRelatedField,
    WriteSerializer,
)

from ..models import DISPLAY_NAME_FIELDS, Officer, Target, Unit, officer_display_name
from ..selectors import org_officers_visible_to


class OfficerRefSerializer(RefSerializer):
    """An officer as ``{"id", "name"}``."""

    name = serializers.CharField(source="display_name", read_only=True, help_text="姓名")

    name_attribute = "display_name"
    name_columns = DISPLAY_NAME_FIELDS
    name_of = staticmethod(officer_display_name)


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


class ApiClientSerializer(FieldsMixin, serializers.ModelSerializer):
    """API client (接口客户端): never its token, only the prefix that identifies it."""

    officer = OfficerRefSerializer(read_only=True, help_text="代表干部：客户端按其可见范围读写")
    revoked_by = OfficerRefSerializer(read_only=True, allow_null=True, help_text="吊销人")
    rotated_by = OfficerRefSerializer(read_only=True, allow_null=True, help_text="轮换人")

    class Meta:
        model = ApiClient
        fields = [
            "id",
            "name",
            "officer",
            "access",
            "token_prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "rotated_at",
            "rotated_by",
            "previous_valid_until",
            "revoked_at",
            "revoked_by",
            # Granted in the admin by whoever manages API clients (docs/api.md, issue #16).
            "reads_personal_data",
            "personal_data_set_at",
        ]
        read_only_fields = ["reads_personal_data", "personal_data_set_at"]


class ApiClientCreatedSerializer(ApiClientSerializer):
    """The new client with its token: the only time the token is shown."""

    token = serializers.CharField(read_only=True, help_text="接口令牌，只显示这一次，请妥善保存")

    class Meta(ApiClientSerializer.Meta):
        fields = [*ApiClientSerializer.Meta.fields, "token"]


class ApiClientWriteSerializer(WriteSerializer):
    """Register a system: its name, the officer it acts as, read or read-write."""

    officer = VisiblePrimaryKeyRelatedField(org_officers_visible_to, help_text="代表干部编号")

    class Meta:
        model = ApiClient
        fields = ["name", "officer", "access"]
        validators: list[Any] = []
