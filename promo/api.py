"""API base pieces shared by every app's API.

One error format, keyset cursor pagination, ``?fields=`` trimming, strict write serializers,
object lookup inside the caller's visibility scope, and the error responses of the schema.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.decorators import action
from rest_framework.pagination import BasePagination
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from officers.models import officer_display_name
from promo.api_rows import wanted_fields
from promo.errors import Conflict, DomainError

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
        body["retry_after"] = exc.wait
    response.data = body
    return response


# --- Pagination -------------------------------------------------------------------------------


def _cursor_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class StableCursorPagination(BasePagination):
    """Keyset cursor pagination: the cursor holds the last row's sort key, never an offset.

    The page after a cursor is ``WHERE (key, id) > (last key, last id)``, so rows inserted,
    updated or deleted while a client walks the list never shift the pages it has yet to read:
    every row that existed for the whole walk is seen exactly once.

    Ordering: ``-id`` (newest first) by default; ``updated_at, id`` when the client syncs with
    ``?updated_after=`` (a changed row moves to the end, so the walk picks it up again); or one
    of the view's ``ordering_fields`` via ``?ordering=`` with ``id`` as the tie-breaker.
    """

    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"
    default_ordering: tuple[str, ...] = ("-id",)
    sync_ordering: tuple[str, ...] = ("updated_at", "id")
    sync_trigger_param = "updated_after"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError as exc:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("请输入一个整数。")]}
            ) from exc
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("每页条数须在 1 到 %(max)d 之间。") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        fixed = getattr(view, "cursor_ordering", None)
        if fixed:
            return tuple(fixed)
        requested = request.query_params.get(self.ordering_query_param)
        if requested:
            allowed = tuple(getattr(view, "ordering_fields", ()))
            if requested.lstrip("-") not in allowed:
                raise exceptions.ValidationError(
                    {
                        self.ordering_query_param: [
                            _("不支持的排序字段，可选：%(fields)s。")
                            % {"fields": ", ".join(allowed) or "-"}
                        ]
                    }
                )
            if requested.lstrip("-") == "id":
                return (requested,)
            tie = "-id" if requested.startswith("-") else "id"
            return (requested, tie)
        if self.sync_trigger_param in request.query_params and _has_field(queryset, "updated_at"):
            return self.sync_ordering
        return self.default_ordering

    def decode_cursor(self, raw: str, ordering: tuple[str, ...]) -> list[Any]:
        try:
            padded = raw + "=" * (-len(raw) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            keys, values = data["o"], data["v"]
        except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error) as exc:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("无效的游标。")]}
            ) from exc
        if list(keys) != list(ordering) or not isinstance(values, list) or len(values) != len(keys):
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("游标与当前排序不符，请从第一页重新开始。")]}
            )
        return values

    @staticmethod
    def encode_cursor(ordering: Sequence[str], values: Sequence[Any]) -> str:
        data = {"o": list(ordering), "v": [_cursor_value(v) for v in values]}
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @staticmethod
    def after(ordering: Sequence[str], values: Sequence[Any]) -> Q:
        """Rows strictly after ``values`` in ``ordering`` (a lexicographic keyset condition)."""
        condition = Q()
        equal = Q()
        for term, value in zip(ordering, values, strict=True):
            field = term.lstrip("-")
            lookup = "lt" if term.startswith("-") else "gt"
            condition |= equal & Q(**{f"{field}__{lookup}": value})
            equal &= Q(**{field: value})
        return condition

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.ordering = self.get_ordering(request, queryset, view)
        size = self.get_page_size(request)
        queryset = queryset.order_by(*self.ordering)
        raw = request.query_params.get(self.cursor_query_param)
        if raw:
            queryset = queryset.filter(
                self.after(self.ordering, self.decode_cursor(raw, self.ordering))
            )
        rows = list(queryset[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.last = rows[-1] if rows else None
        return rows

    def get_next_link(self) -> str | None:
        if not self.has_next or self.last is None:
            return None
        # A row is a model instance, or a dict of columns (promo.api_rows).
        last = self.last
        read = last.__getitem__ if isinstance(last, dict) else functools.partial(getattr, last)
        values = [read(term.lstrip("-")) for term in self.ordering]
        params = self.request.query_params.copy()
        params[self.cursor_query_param] = self.encode_cursor(self.ordering, values)
        base = self.request.build_absolute_uri(self.request.path)
        return f"{base}?{urlencode(sorted(params.lists()), doseq=True)}"

    def get_paginated_response(self, data: Any) -> Response:
        return Response(OrderedDict([("next", self.get_next_link()), ("results", data)]))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "下一页的地址；为 null 表示已到最后一页。",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "上一页响应中 next 地址携带的游标（不透明字符串）。",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"每页条数，1–{self.max_page_size}，默认 {self.page_size}。",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
        fields = tuple(getattr(view, "ordering_fields", ()))
        if fields and not getattr(view, "cursor_ordering", None):
            params.append(
                {
                    "name": self.ordering_query_param,
                    "required": False,
                    "in": "query",
                    "description": "排序字段，前加 - 为倒序；默认按 id 倒序，带 updated_after 时按更新时间正序。",
                    "schema": {
                        "type": "string",
                        "enum": [v for f in fields for v in (f, f"-{f}")],
                    },
                }
            )
        return params


def _has_field(queryset: QuerySet, name: str) -> bool:
    return any(f.name == name for f in queryset.model._meta.get_fields())


# --- Serializers ------------------------------------------------------------------------------


class FieldsMixin:
    """``?fields=id,name`` keeps only the named fields of a read serializer (top level)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = getattr(self, "context", {}).get("request")
        wanted = wanted_fields(request, self.fields)  # type: ignore[attr-defined]
        if wanted is None:
            return
        for name in set(self.fields) - set(wanted):  # type: ignore[attr-defined]
            self.fields.pop(name)  # type: ignore[attr-defined]


class StrictFieldsMixin:
    """Refuse fields the serializer does not know, instead of silently ignoring a typo."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - {n for n, f in self.fields.items() if not f.read_only}  # type: ignore[attr-defined]
            if unknown:
                raise exceptions.ValidationError(
                    {name: [_("未知字段。")] for name in sorted(unknown)}
                )
        return super().to_internal_value(data)  # type: ignore[misc]


# Long free text is still bounded: a 10 MB "summary" is a mistake or an attack, not a visit.
MAX_TEXT_LENGTH = 20_000


class WriteSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Validates input shape (types, lengths, choices) from the model; services apply the rules.

    Never saved: the view passes ``validated_data`` to a service.
    """

    def build_standard_field(self, field_name: str, model_field: models.Field) -> Any:
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, models.TextField):
            field_kwargs.setdefault("max_length", MAX_TEXT_LENGTH)
        return field_class, field_kwargs

    def save(self, **kwargs: Any) -> Any:  # pragma: no cover - guard
        raise NotImplementedError("Writes go through a service, not serializer.save().")


class ActionSerializer(StrictFieldsMixin, serializers.Serializer):
    """Body of a verb action (transition, advance, resolve…)."""

    def save(self, **kwargs: Any) -> Any:  # pragma: no cover - guard
        raise NotImplementedError("Writes go through a service, not serializer.save().")


@extend_schema_field(OpenApiTypes.INT)
class VisiblePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key accepted only if the caller may see the row (unknown or hidden: 400)."""

    def __init__(self, selector: Callable[[Any], QuerySet], **kwargs: Any) -> None:
        self.selector = selector
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        return self.selector(request.user if request else None)

    def use_pk_only_optimization(self) -> bool:
        return False


class RefSerializer(serializers.Serializer):
    """A related record as ``{"id", "name"}``."""

    id = serializers.IntegerField(read_only=True, help_text="编号")
    name = serializers.CharField(read_only=True, help_text="名称")

    name_attribute = "name"
    # How promo.api_rows reads the name without an instance: the related row's columns, and
    # the function of them that gives ``name_attribute``.
    name_columns: tuple[str, ...] = ("name",)
    name_of = staticmethod(lambda name: None if name is None else str(name))

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # The declared fields' output, read directly: nested in every row of every list (a
        # lead carries five), DRF's field-by-field machinery cost more than the row's own
        # fields. The declared fields still give the schema.
        name = getattr(instance, self.name_attribute)
        return {"id": int(instance.pk), "name": None if name is None else str(name)}


class OfficerRefSerializer(RefSerializer):
    """An officer as ``{"id", "name"}``."""

    name = serializers.CharField(source="display_name", read_only=True, help_text="姓名")

    name_attribute = "display_name"
    name_columns = ("full_name", "first_name", "last_name", "username")
    name_of = staticmethod(officer_display_name)


class BulkRowResultSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="请求中的行号（从 0 开始）")
    id = serializers.IntegerField(help_text="promo 中的编号")
    created = serializers.BooleanField(help_text="true 为新登记，false 为更新")


class BulkUpsertResultSerializer(serializers.Serializer):
    """The outcome of each row of a successful bulk write."""

    results = BulkRowResultSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    """The one error format of the API."""

    code = serializers.CharField(help_text="稳定的机器可读错误代码，如 transition_not_allowed。")
    message = serializers.CharField(help_text="按 Accept-Language 给出的说明。")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="字段名 → 该字段的错误信息。",
    )


_ERROR_DESCRIPTIONS = {
    400: gettext_lazy("输入有误（code: invalid, malformed_request, rule_violation）"),
    401: gettext_lazy("未登录（code: not_authenticated）"),
    403: gettext_lazy("无权执行（code: permission_denied）"),
    404: gettext_lazy("不存在或不在您的可见范围内（code: not_found）"),
    409: gettext_lazy(
        "状态不允许或疑似重复（code: transition_not_allowed, duplicate_suspected, conflict）"
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


# --- API clients (other government systems) ---------------------------------------------------

TOKEN_PREFIX = "promo_"


def _hash_token(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough, no password-style stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()


def api_client_create(*, actor: Any, name: str, officer: Any, access: str) -> tuple[Any, str]:
    """Register an API client (接口客户端) and return it with its token, shown this once."""
    import secrets

    from promo.errors import PermissionDenied, rule
    from promo.models import ApiClient, ApiClientAccess

    if not actor.sees_whole_bureau:
        raise PermissionDenied(gettext_lazy("只有局领导或系统管理员可以管理接口客户端。"))
    name = (name or "").strip()
    if not name:
        raise rule("name", gettext_lazy("请填写系统名称。"))
    if access not in ApiClientAccess.values:
        raise rule("access", gettext_lazy("请选择权限。"))
    if not officer.is_active:
        raise rule("officer", gettext_lazy("该干部账号已停用。"))
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(
                name=name,
                officer=officer,
                access=access,
                token_prefix=prefix,
                token_hash=_hash_token(token),
                created_by=actor,
            )
    except IntegrityError as exc:
        raise rule("name", gettext_lazy("已有同名的接口客户端。")) from exc
    return client, token


def api_client_revoke(*, actor: Any, client: Any) -> Any:
    """Revoke an API client's token (吊销): its next call is refused."""
    from promo.errors import PermissionDenied

    if not actor.sees_whole_bureau:
        raise PermissionDenied(gettext_lazy("只有局领导或系统管理员可以管理接口客户端。"))
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    return client


def api_clients_visible_to(officer: Any) -> QuerySet:
    """API clients are bureau-level configuration: only chiefs and administrators see them."""
    from promo.models import ApiClient

    if not getattr(officer, "is_authenticated", False) or not officer.sees_whole_bureau:
        return ApiClient.objects.none()
    return ApiClient.objects.select_related("officer")


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer promo_<prefix>_<secret>``: the client acts as its officer."""

    keyword = "Bearer"
    # last_used_at is written at most once a minute: a busy sync must not write on every call.
    touch_interval = timedelta(minutes=1)

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        from promo.models import ApiClient

        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme != self.keyword or not token.startswith(TOKEN_PREFIX):
            return None
        prefix = token.removeprefix(TOKEN_PREFIX).split("_", 1)[0]
        client = (
            ApiClient.objects.select_related("officer", "officer__unit")
            .filter(token_prefix=prefix)
            .first()
        )
        if client is None or not hmac.compare_digest(client.token_hash, _hash_token(token)):
            raise exceptions.AuthenticationFailed(_("无效的接口令牌。"))
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("接口令牌已被吊销。"))
        if not client.officer.is_active:
            raise exceptions.AuthenticationFailed(_("接口客户端代表的干部账号已停用。"))
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > self.touch_interval:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return client.officer, client

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiClientAccessPermission(BasePermission):
    """A read-only client may only read; browser sessions are not limited here."""

    message = gettext_lazy("该接口客户端只有只读权限。")

    def has_permission(self, request: Request, view: Any) -> bool:
        from promo.models import ApiClient, ApiClientAccess

        client = request.auth
        if isinstance(client, ApiClient) and client.access != ApiClientAccess.READ_WRITE:
            return request.method in SAFE_METHODS
        return True


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the bearer token in the OpenAPI schema."""

    target_class = "promo.api.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "接口客户端令牌：Authorization: Bearer promo_…；由局领导创建，只显示一次。",
        }


# --- Views ------------------------------------------------------------------------------------


# How long an Idempotency-Key is remembered: long enough for any retry loop, short enough to purge.
IDEMPOTENCY_TTL = timedelta(hours=24)


def etag_for(instance: models.Model) -> str | None:
    """A strong ETag from the row's identity and ``updated_at`` (bumped by every service write)."""
    stamp = getattr(instance, "updated_at", None)
    if stamp is None:
        return None
    raw = f"{instance._meta.label}:{instance.pk}:{stamp.isoformat()}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


class OfficerRateThrottle(UserRateThrottle):
    """A request budget per caller, counted in the Redis cache; 429 with Retry-After when spent.

    The caller is the API client when a token is used (each system has its own budget), else
    the signed-in officer.
    """

    scope = "officer"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client_id = getattr(request.auth, "token_prefix", None)
        if client_id is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"client-{client_id}"}
        return super().get_cache_key(request, view)


class ScopedViewSet(viewsets.GenericViewSet):
    """A ViewSet whose rows come from a visibility selector, read and written apart.

    ``visible()`` returns the selector's queryset for the caller (with the list's
    ``select_related``/``prefetch_related``); a row outside it is a 404, never a 403, so an
    integrator cannot even learn it exists. Writes validate with ``write_serializer_class``
    and call a service; the answer is always rendered by ``read_serializer_class``.
    """

    read_serializer_class: type[serializers.BaseSerializer]
    write_serializer_class: type[serializers.BaseSerializer] | None = None
    ordering_fields: tuple[str, ...] = ("id",)
    filterset_class: Any = None
    # Set by a route that walks in one fixed order (the deletion feed): ?ordering= is ignored.
    cursor_ordering: tuple[str, ...] | None = None
    pagination_class = StableCursorPagination
    # No OPTIONS metadata: the OpenAPI schema is the description (and DRF's metadata calls
    # get_object() for PUT, which fails on routes without an id).
    metadata_class = None
    throttle_classes = [OfficerRateThrottle]
    # Browser sessions and API client tokens both work; a read-only client cannot write.
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, ApiClientAccessPermission]
    # Throttle, pagination, authentication and permissions are set here, not as DRF defaults:
    # see REST_FRAMEWORK in settings.

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # ViewSetMixin.as_view has bound this request's handlers (self.post = self.create…);
        # every writing handler runs in one transaction, guarded by Idempotency-Key/If-Match.
        for method in ("post", "put", "patch", "delete"):
            handler = getattr(self, method, None)
            if handler is not None:
                setattr(self, method, functools.partial(self._write, handler))
        return super().dispatch(request, *args, **kwargs)

    def _write(
        self, handler: Callable[..., Response], request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        try:
            with transaction.atomic():
                if key is None:
                    return handler(request, *args, **kwargs)
                return self._idempotent(key, handler, request, *args, **kwargs)
        except IntegrityError as exc:
            # Safety net, after the whole transaction rolled back: a database constraint the
            # service did not check first (e.g. an external id already used) is the caller's
            # conflict to resolve, never a 500.
            raise Conflict(
                _("该请求与已有记录冲突（如来源系统与外部编号已被使用），未做任何修改。")
            ) from exc

    def _idempotent(
        self,
        key: str,
        handler: Callable[..., Response],
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> Response:
        """Run a POST once per key: a retry with the same body gets the first answer."""
        from promo.models import IdempotencyRecord

        key = key.strip()
        if not key or len(key) > 255:
            raise exceptions.ValidationError(
                {"Idempotency-Key": [_("Idempotency-Key 须为 1 到 255 个字符。")]}
            )
        canonical = json.dumps(
            [request.method, request.get_full_path(), request.data],
            sort_keys=True,
            default=str,
            ensure_ascii=False,
        )
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        mine = IdempotencyRecord.objects.filter(officer=request.user, key=key)
        mine.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
        try:
            # Claim the key first: a concurrent retry blocks on this row until we commit,
            # then finds the stored answer instead of writing a second time.
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    officer=request.user,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=0,
                    response_body={},
                )
        except IntegrityError:
            record = mine.get()
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused() from None
            return Response(
                record.response_body,
                status=record.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        # An error propagates: the transaction, claim included, rolls back and a retry runs anew.
        response = handler(request, *args, **kwargs)
        record.status_code = response.status_code
        record.response_body = response.data
        record.save(update_fields=["status_code", "response_body"])
        return response

    def get_object(self) -> Any:
        instance = super().get_object()
        expected = self.request.headers.get("If-Match")
        if self.request.method in SAFE_METHODS or expected is None:
            return instance
        # Lock before comparing, inside the request's transaction: nobody can write between
        # the check and the service call.
        locked = type(instance).objects.select_for_update(of=("self",)).get(pk=instance.pk)
        current = etag_for(locked)
        if current is not None and not _etag_matches(expected, current):
            raise PreconditionFailed(extra={"etag": current})
        return instance

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        etag = etag_for(instance)
        if etag is not None:
            if_none_match = request.headers.get("If-None-Match")
            if if_none_match and _etag_matches(if_none_match, etag):
                return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        data = self.get_serializer(instance).data
        return Response(data, headers={"ETag": etag} if etag else None)

    def visible(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation has no officer; the model is all it needs.
            return self.read_serializer_class.Meta.model.objects.none()  # type: ignore[attr-defined]
        return self.visible()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action in ("create", "update", "partial_update") and self.write_serializer_class:
            return self.write_serializer_class
        return self.read_serializer_class

    def validated(self, serializer_class: type[serializers.BaseSerializer], **kwargs: Any) -> Any:
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def read_response(self, instance: models.Model, status_code: int = 200) -> Response:
        """Render a row as the read serializer sees it, freshly loaded inside the scope."""
        fresh = self.get_queryset().get(pk=instance.pk)
        data = self.read_serializer_class(fresh, context=self.get_serializer_context()).data
        etag = etag_for(fresh)
        return Response(data, status=status_code, headers={"ETag": etag} if etag else None)


class TombstoneSerializer(serializers.Serializer):
    """A deleted record (墓碑): enough for a mirror to delete its copy."""

    id = serializers.IntegerField(
        source="pgh_id", read_only=True, help_text="删除事件编号（递增，供游标使用）"
    )
    object_id = serializers.IntegerField(source="id", read_only=True, help_text="被删除记录的编号")
    deleted_at = serializers.DateTimeField(
        source="pgh_created_at", read_only=True, help_text="删除时间"
    )
    source_system = serializers.SerializerMethodField(help_text="被删除记录的来源系统")
    external_id = serializers.SerializerMethodField(help_text="被删除记录的外部编号")

    def get_source_system(self, event: Any) -> str:
        return getattr(event, "source_system", "") or ""

    def get_external_id(self, event: Any) -> str:
        return getattr(event, "external_id", "") or ""


class DeletionFeedMixin:
    """``GET <list>/deleted/?deleted_after=``: tombstones of deleted rows, from the history.

    Every tracked model keeps a delete event (django-pghistory) holding the row as it was.
    The feed shows the tombstones whose last state lay in the caller's units
    (``tombstone_unit_field`` of the snapshot); chiefs see all. With the list's
    ``updated_after`` it lets a client mirror creates, updates and deletions exactly.
    """

    tombstone_unit_field: str | None = "unit_id"

    def deletion_events(self) -> QuerySet:
        from django.apps import apps

        from officers.selectors import scope_for

        model = self.read_serializer_class.Meta.model  # type: ignore[attr-defined]
        events = apps.get_model(model._meta.app_label, f"{model.__name__}Event")
        qs = events.objects.filter(pgh_label="delete")
        scope = scope_for(self.request.user)  # type: ignore[attr-defined]
        if scope.is_everything or self.tombstone_unit_field is None:
            return qs if scope.officer_id is not None else qs.none()
        if scope.own_records_only:
            if any(f.name == "created_by" for f in events._meta.get_fields()):
                return qs.filter(created_by_id=scope.officer_id)
            return qs.none()
        return qs.filter(**{f"{self.tombstone_unit_field}__in": scope.unit_ids})

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "deleted_after",
                OpenApiTypes.DATETIME,
                OpenApiParameter.QUERY,
                description="只返回此时间（含）之后删除的记录。",
            )
        ],
        responses=TombstoneSerializer(many=True),
        description="已删除记录的墓碑，按删除顺序排列；镜像方据此删除本地副本。",
    )
    @action(
        detail=False,
        methods=["get"],
        filter_backends=[],
        filterset_class=None,
        cursor_ordering=("pgh_id",),
    )
    def deleted(self, request: Request) -> Response:
        qs = self.deletion_events()
        raw = request.query_params.get("deleted_after")
        if raw:
            from django.utils.dateparse import parse_datetime

            try:
                since = parse_datetime(raw)
            except ValueError:
                since = None
            if since is None:
                raise exceptions.ValidationError({"deleted_after": [_("请输入有效的时间。")]})
            from officers.filters import as_utc

            if timezone.is_naive(since):
                since = timezone.make_aware(since)
            qs = qs.filter(pgh_created_at__gte=as_utc(since, "deleted_after"))
        page = self.paginate_queryset(qs)  # type: ignore[attr-defined]
        data = TombstoneSerializer(page, many=True).data
        return self.get_paginated_response(data)  # type: ignore[attr-defined]


@csrf_exempt  # answers 404 to every method; CSRF would turn a POST into an HTML 403
def not_found(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Any other URL under /api/: a 404 in the API's error format, not an HTML page."""

    return JsonResponse(
        {"code": "not_found", "message": _("没有这个接口地址；请对照 /api/schema/。")},
        status=404,
    )
