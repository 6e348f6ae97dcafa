"""The deletion feed: tombstones from the history, scoped like the lists."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from promo.api.filters import as_utc


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
    Which tombstones the caller sees is the visibility rule's business (``visible_tombstones``,
    e.g. ``officers.api.feeds.ScopedDeletionFeedMixin``). With the list's ``updated_after``
    it lets a client mirror creates, updates and deletions exactly.
    """

    def deletion_events(self) -> QuerySet:
        from django.apps import apps

        model = self.read_serializer_class.Meta.model  # type: ignore[attr-defined]
        events = apps.get_model(model._meta.app_label, f"{model.__name__}Event")
        return self.visible_tombstones(events.objects.filter(pgh_label="delete"))

    def visible_tombstones(self, events: QuerySet) -> QuerySet:
        """The caller's share of the delete events: the visibility rule, named by the app."""
        raise NotImplementedError(f"{type(self).__name__} must name who sees its tombstones")

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
        extra_query_params=("deleted_after",),
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
            if timezone.is_naive(since):
                since = timezone.make_aware(since)
            qs = qs.filter(pgh_created_at__gte=as_utc(since, "deleted_after"))
        page = self.paginate_queryset(qs)  # type: ignore[attr-defined]
        data = TombstoneSerializer(page, many=True).data
        return self.get_paginated_response(data)  # type: ignore[attr-defined]
