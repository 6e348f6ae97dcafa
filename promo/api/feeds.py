"""The deletion feed: what a mirror must remove — deleted records, and records that left
the caller's scope or ``?unit=`` filter (docs/decisions/0012-scope-change-journal.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
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

from promo.api.errors import ResyncRequired
from promo.api.filters import as_utc

DELETED = "deleted"
OUT_OF_SCOPE = "out_of_scope"


class TombstoneSerializer(serializers.Serializer):
    """A record the mirror must remove (墓碑): deleted, or no longer in the caller's scope."""

    id = serializers.IntegerField(
        read_only=True, help_text="事件编号（墓碑与可见范围变动各自递增）"
    )
    object_id = serializers.IntegerField(read_only=True, help_text="应删除的记录编号")
    deleted_at = serializers.DateTimeField(read_only=True, help_text="删除或移出可见范围的时间")
    source_system = serializers.CharField(
        read_only=True, help_text="被删除记录的来源系统（out_of_scope 时为空）"
    )
    external_id = serializers.CharField(
        read_only=True, help_text="被删除记录的外部编号（out_of_scope 时为空）"
    )
    op = serializers.ChoiceField(
        choices=[("remove", "remove")], read_only=True, help_text="镜像方的操作：删除本地副本"
    )
    reason = serializers.ChoiceField(
        choices=[(DELETED, DELETED), (OUT_OF_SCOPE, OUT_OF_SCOPE)],
        read_only=True,
        help_text="deleted：记录已删除；out_of_scope：记录仍在，但已不在您的可见范围或 unit 筛选内",
    )


def _tombstone(event: Any) -> dict[str, Any]:
    return {
        "id": event.pgh_id,
        "object_id": event.id,
        "deleted_at": event.pgh_created_at,
        "source_system": getattr(event, "source_system", "") or "",
        "external_id": getattr(event, "external_id", "") or "",
        "op": "remove",
        "reason": DELETED,
    }


def _left(change: Any) -> dict[str, Any]:
    # Named by id only: promo describes nothing outside the caller's scope (its external key
    # included), and a mirror that had the record knows it by its id.
    return {
        "id": change.id,
        "object_id": change.object_id,
        "deleted_at": change.at,
        "source_system": "",
        "external_id": "",
        "op": "remove",
        "reason": OUT_OF_SCOPE if change.alive else DELETED,
    }


class DeletionFeedMixin:
    """``GET <list>/deleted/?deleted_after=``: what a mirror of the list must remove.

    Two parts, walked one after the other by one cursor: the tombstones of deleted rows (every
    tracked model keeps a delete event, django-pghistory, holding the row as it was), then —
    for a list whose records move between scopes (``scope_model``) — the records the journal
    of scope changes (``promo.ScopeChange``) says may have left the caller's scope, which the
    caller does not see now. Which entries a caller gets is the visibility rule's business
    (``visible_tombstones``, ``scope_removals``, ``scope_reset_at``: e.g.
    ``officers.api.feeds.ScopedDeletionFeedMixin``). With the list's ``updated_after`` it lets
    a client mirror creates, updates, deletions and scope changes exactly.
    """

    # "<app_label>.<model_name>" as the scope triggers journal it; None: no scope changes are
    # journaled for this list (and its feed takes no ?unit=).
    scope_model: str | None = None
    # The feed answers 410 resync_required after a change of the caller's whole scope.
    answers_resync = False

    def deletion_events(self) -> QuerySet:
        from django.apps import apps

        model = self.read_serializer_class.Meta.model  # type: ignore[attr-defined]
        events = apps.get_model(model._meta.app_label, f"{model.__name__}Event")
        return self.visible_tombstones(events.objects.filter(pgh_label="delete"))

    def visible_tombstones(self, events: QuerySet) -> QuerySet:
        """The caller's share of the delete events: the visibility rule, named by the app."""
        raise NotImplementedError(f"{type(self).__name__} must name who sees its tombstones")

    def scope_removals(self, since: datetime | None, unit_ids: list[int] | None) -> QuerySet:
        """Journaled scope changes of records the caller no longer sees (or that left the
        ``?unit=`` sub-tree ``unit_ids``), each annotated ``alive``; the visibility rule's."""
        raise NotImplementedError(f"{type(self).__name__} must name who sees its scope changes")

    def scope_reset_at(self, since: datetime, *, filtered: bool) -> datetime | None:
        """When the caller's scope last changed as a whole after ``since``, if it did."""
        return None

    def tombstones_in_units(self, events: QuerySet, unit_ids: list[int]) -> QuerySet:
        raise NotImplementedError(f"{type(self).__name__} takes no unit filter")

    def feed_unit_ids(self, raw: str) -> list[int]:
        """``?unit=``: the unit's sub-tree, as the list's own filter takes it."""
        raise NotImplementedError(f"{type(self).__name__} takes no unit filter")

    def known_query_params(self) -> set[str]:
        known = super().known_query_params()  # type: ignore[misc]
        if self.action == "deleted" and self.scope_model:  # type: ignore[attr-defined]
            known.add("unit")
        return known

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "deleted_after",
                OpenApiTypes.DATETIME,
                OpenApiParameter.QUERY,
                description="只返回此时间（含）之后删除或移出可见范围的记录。",
            )
        ],
        responses=TombstoneSerializer(many=True),
        description="镜像方应删除的记录：先是已删除记录的墓碑（reason=deleted，按删除顺序），"
        "再是仍存在、但已移出您的可见范围或 unit 筛选的记录（reason=out_of_scope）。"
        "同一记录可能出现多次，也可能包括您从未收到过的记录，忽略即可。"
        "您的可见范围整体变化（所在单位、角色或组织架构调整）后答 410 resync_required：请从头完整同步。",
    )
    @action(
        detail=False,
        methods=["get"],
        filter_backends=[],
        filterset_class=None,
        cursor_ordering=("part", "id"),
        extra_query_params=("deleted_after",),
    )
    def deleted(self, request: Request) -> Response:
        since = _deleted_after(request.query_params.get("deleted_after"))
        raw_unit = request.query_params.get("unit")
        unit_ids = self.feed_unit_ids(raw_unit) if raw_unit is not None else None
        if since is not None:
            # A copy built before the caller's scope changed as a whole cannot be mended by
            # removals: what entered it never moved its updated_at.
            changed_at = self.scope_reset_at(since, filtered=unit_ids is not None)
            if changed_at is not None:
                raise ResyncRequired(extra={"scope_changed_at": _iso(changed_at)})
        tombstones = self.deletion_events()
        if unit_ids is not None:
            tombstones = self.tombstones_in_units(tombstones, unit_ids)
        if since is not None:
            tombstones = tombstones.filter(pgh_created_at__gte=since)
        parts: list[tuple[QuerySet, str]] = [(tombstones, "pgh_id")]
        if self.scope_model:
            parts.append((self.scope_removals(since, unit_ids), "id"))
        page = self.paginator.paginate_parts(parts, request)  # type: ignore[attr-defined]
        rows = [_tombstone(row) if part == 0 else _left(row) for part, row in page]
        data = TombstoneSerializer(rows, many=True).data
        return self.get_paginated_response(data)  # type: ignore[attr-defined]


def _deleted_after(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        since = parse_datetime(raw)
    except ValueError:
        since = None
    if since is None:
        raise exceptions.ValidationError({"deleted_after": [_("请输入有效的时间。")]})
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    return as_utc(since, "deleted_after")


def _iso(value: datetime) -> str:
    return serializers.DateTimeField().to_representation(value)
