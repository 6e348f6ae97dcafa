"""The API's one error format: domain errors and DRF's mapped to a stable ``code``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from promo.core.errors import DomainError

_DRF_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


# The one answer to any write that collides with an existing record, whether a database rule
# caught it or the record lies outside the caller's scope: the words never say which, so a
# caller cannot learn that another unit's record (an external key, a name) exists.
CONFLICT_MESSAGE = gettext_lazy(
    "该请求与已有记录冲突（如来源系统与外部编号已被使用），未做任何修改。"
)


class PreconditionFailed(DomainError):
    """``If-Match`` names a version of the record that is no longer current."""

    code = "precondition_failed"
    status = 412
    default_message = gettext_lazy("记录已被修改，请重新读取后再提交。")


class IdempotencyKeyReused(DomainError):
    """The same ``Idempotency-Key`` came with a different request."""

    code = "idempotency_key_reused"
    status = 422
    default_message = gettext_lazy("该 Idempotency-Key 已用于另一个请求，请换一个新的键。")


class BulkRejected(DomainError):
    """At least one row of a bulk write failed; no row was written."""

    code = "bulk_rejected"
    status = 400
    default_message = gettext_lazy(
        "部分记录有误，全部未写入；请按 fields 中的行号和字段修正后重试。"
    )


class UnknownQueryParameter(DomainError):
    """A list was asked with a query parameter it does not know (a misspelt filter)."""

    code = "unknown_parameter"
    status = 400
    default_message = gettext_lazy("未知的查询参数；可用的参数见 /api/schema/。")

    def __init__(self, names: list[str]) -> None:
        message = gettext_lazy("未知的查询参数，请对照接口文档修正。")
        super().__init__(field_errors={name: [message] for name in names})


class OrderingNotWalkable(DomainError):
    """A cursor came with an ordering by a field that can change while a client walks."""

    code = "ordering_not_walkable"
    status = 400
    default_message = gettext_lazy(
        "按可变字段排序的列表只提供第一页：记录在翻页期间被修改就会被跳过或重复。"
        "请按 id 或 created_at 排序，或带 updated_after 按更新时间翻页，再自行排序。"
    )


class ResyncRequired(DomainError):
    """A deletion feed was asked since a time after which the caller's scope changed as a
    whole (another unit or role, a unit moved in the tree): removals cannot mend the copy."""

    code = "resync_required"
    status = 410
    default_message = gettext_lazy(
        "您的可见范围已整体变化（所在单位、角色或组织架构调整），增量同步无法补齐；"
        "请从头完整同步一次，之后的 deleted_after 不早于 scope_changed_at。"
    )


# One bulk request stays one transaction of bounded size.
BULK_MAX_ROWS = 1000


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(key): [str(v) for v in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every error as ``{"code", "message", "fields"?}`` with the right status."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    body: dict[str, Any] = {"code": code}
    if isinstance(exc, exceptions.ValidationError):
        body["message"] = _("提交的数据有误，请检查标出的字段。")
        fields = _flatten(exc.detail)
        if fields:
            body["fields"] = fields
        elif isinstance(exc.detail, list):
            body["message"] = " ".join(str(d) for d in exc.detail)
    else:
        body["message"] = str(getattr(exc, "detail", exc))
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and isinstance(
        exc, exceptions.Throttled
    ):
        body["retry_after"] = exc.wait  # type: ignore[attr-defined]  # DRF sets it; the stubs omit it
    response.data = body
    return response


@csrf_exempt  # answers 404 to every method; CSRF would turn a POST into an HTML 403
def not_found(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Any other URL under /api/: a 404 in the API's error format, not an HTML page."""

    return JsonResponse(
        {"code": "not_found", "message": _("没有这个接口地址；请对照 /api/schema/。")},
        status=404,
    )
