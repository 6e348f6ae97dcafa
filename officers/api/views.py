"""API of the officers app: units, officers, targets (read-only, inside the caller's scope),
and the API clients other government systems call with."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from officers.api.feeds import ScopedDeletionFeedMixin
from promo.api.clients import (
    api_client_create,
    api_client_revoke,
    api_client_rotate,
    api_clients_visible_to,
)
from promo.api.models import ApiClient
from promo.api.schema import error_responses
from promo.api.viewsets import ScopedViewSet
from promo.core.errors import PermissionDenied

from .. import permissions
from ..filters import OfficerFilter, TargetFilter, UnitFilter
from ..selectors import org_officers_visible_to, org_units_visible_to, targets_visible_to
from .serializers import (
    ApiClientCreatedSerializer,
    ApiClientSerializer,
    ApiClientWriteSerializer,
    OfficerSerializer,
    TargetSerializer,
    UnitSerializer,
)


class UnitViewSet(mixins.ListModelMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Units (单位) the caller may see: the whole bureau for a chief, else their sub-tree."""

    read_serializer_class = UnitSerializer
    tombstone_unit_field = "id"
    filterset_class = UnitFilter
    ordering_fields = ("id", "name")

    def visible(self):
        return org_units_visible_to(self.request.user)


class OfficerViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Officers (干部) of the units the caller may see."""

    read_serializer_class = OfficerSerializer
    filterset_class = OfficerFilter
    ordering_fields = ("id", "username")

    def visible(self):
        return org_officers_visible_to(self.request.user).select_related("unit")


class TargetViewSet(mixins.ListModelMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Annual targets (目标任务) of visible units and their officers."""

    read_serializer_class = TargetSerializer
    filterset_class = TargetFilter
    ordering_fields = ("id", "year", "updated_at")

    def visible(self):
        return targets_visible_to(self.request.user).select_related("unit", "officer")


class ApiClientViewSet(mixins.ListModelMixin, ScopedViewSet):
    """API clients (接口客户端) of other government systems; the security administrator only.

    Managed from a browser session: a token cannot mint or revoke tokens.
    """

    read_serializer_class = ApiClientSerializer
    write_serializer_class = ApiClientWriteSerializer
    ordering_fields = ("id", "name")
    filterset_class = None

    def visible(self):
        return api_clients_visible_to(self.request.user)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.auth, ApiClient):
            raise PermissionDenied(_("接口客户端不能管理接口客户端，请登录后操作。"))

    def _refuse_unless_manager(self):
        # promo.api.clients sits below officers and checks the officer's own attribute; this
        # view is above and asks the predicate first (docs/decisions/0011).
        if not permissions.may_manage_api_clients(self.request.user):
            raise PermissionDenied(_("只有安全管理员可以管理接口客户端。"))

    @extend_schema(
        request=ApiClientWriteSerializer,
        responses={201: ApiClientCreatedSerializer, **error_responses(400, 403)},
        description="登记接口客户端；响应中的 token 只显示这一次，库中只存其哈希。",
    )
    def create(self, request, *args, **kwargs):
        self._refuse_unless_manager()
        data = self.validated(ApiClientWriteSerializer)
        client, token = api_client_create(actor=request.user, **data)
        body = ApiClientCreatedSerializer(client, context=self.get_serializer_context()).data
        return Response({**body, "token": token}, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: ApiClientSerializer, **error_responses(403, 404)},
        description="吊销令牌：该客户端之后的调用一律返回 401。",
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        client = self.get_object()
        self._refuse_unless_manager()
        client = api_client_revoke(actor=request.user, client=client)
        return self.read_response(client)

    @extend_schema(
        request=None,
        responses={200: ApiClientCreatedSerializer, **error_responses(403, 404, 409)},
        description=(
            "轮换令牌：响应中的新 token 只显示这一次；旧令牌在 PROMO_API_TOKEN_OVERLAP_HOURS 内仍可用，"
            "之后失效。已吊销的客户端返回 409。"
        ),
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        client = self.get_object()
        self._refuse_unless_manager()
        client, token = api_client_rotate(actor=request.user, client=client)
        body = ApiClientCreatedSerializer(client, context=self.get_serializer_context()).data
        return Response({**body, "token": token})
