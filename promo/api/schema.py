"""OpenAPI schema pieces: the error format, common headers and the token scheme."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
)
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error format of the API."""

    code = serializers.CharField(help_text="稳定的机器可读错误代码，如 transition_not_allowed。")
    message = serializers.CharField(help_text="按 Accept-Language 给出的说明。")
    # DRF pops declared fields from the class, so this does not shadow Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="字段名 → 该字段的错误信息。",
    )


_ERROR_DESCRIPTIONS = {
    400: gettext_lazy(
        "输入有误（code: invalid, malformed_request, rule_violation, unknown_parameter, "
        "ordering_not_walkable）"
    ),
    401: gettext_lazy("未登录（code: not_authenticated）"),
    403: gettext_lazy("无权执行（code: permission_denied）"),
    404: gettext_lazy("不存在或不在您的可见范围内（code: not_found）"),
    409: gettext_lazy(
        "状态不允许或疑似重复（code: transition_not_allowed, duplicate_suspected, "
        "duplicate_in_unit, conflict）"
    ),
    410: gettext_lazy(
        "您的可见范围已整体变化，请从头完整同步（code: resync_required，附 scope_changed_at）"
    ),
    412: gettext_lazy("If-Match 与当前版本不符（code: precondition_failed）"),
    422: gettext_lazy("Idempotency-Key 已用于另一个请求（code: idempotency_key_reused）"),
    429: gettext_lazy("请求过于频繁，见 Retry-After（code: throttled）"),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Error responses for ``extend_schema(responses=...)``."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=str(_ERROR_DESCRIPTIONS[code]))
        for code in codes
    }


class PromoAutoSchema(AutoSchema):
    """Adds the headers and error responses every operation can give, in the one error format."""

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="重试安全：同一键、同一请求体的重复 POST 返回首次结果且不再写入；"
                    "同一键、不同请求体返回 422。键在 24 小时后失效。",
                )
            )
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and "{id}" in self.path:
            params.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="乐观并发：填读取时得到的 ETag；记录已被他人修改时返回 412。",
                )
            )
        if self._is_deletion_feed() and getattr(self.view, "scope_model", None):
            params.append(
                OpenApiParameter(
                    "unit",
                    OpenApiTypes.INT,
                    OpenApiParameter.QUERY,
                    description="单位（含下级单位），与列表的 unit 相同：另列出移出该单位的记录"
                    "（reason=out_of_scope）。",
                )
            )
        if self.method == "GET" and "{id}" in self.path:
            params.append(
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="填读取时得到的 ETag；记录未变时返回 304。",
                )
            )
        return params

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = [401, 403, 429]
        if "{" in self.path:
            codes.append(404)
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append(400)
        if self.method == "POST":
            codes.append(422)
        if self._is_deletion_feed() and getattr(self.view, "answers_resync", False):
            codes.append(410)
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and "{id}" in self.path:
            codes.append(412)
        for code in codes:
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=str(_ERROR_DESCRIPTIONS[code])),
                    str(code),
                    direction=direction,
                )
        return dict(sorted(responses.items()))

    def _is_deletion_feed(self) -> bool:
        return self.method == "GET" and getattr(self.view, "action", None) == "deleted"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the bearer token in the OpenAPI schema."""

    target_class = "promo.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "接口客户端令牌：Authorization: Bearer promo_…；由局领导创建，只显示一次。",
        }
