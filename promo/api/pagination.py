"""Keyset cursor pagination: every walk sees each row once, at any depth."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from promo.api.errors import OrderingNotWalkable
from promo.api.filters import as_utc

# Orderings a cursor may walk: keys that never change after a record is created (``id``,
# ``created_at``), and ``updated_at`` ascending, where a change only moves a record past the
# cursor (it comes again, with its newest state) and never back before it. Any other key (a
# name, a date, an amount, ``-updated_at``) moves when the record is edited: a record edited
# while a client walks jumps over the cursor into the pages already read and is skipped.
WALKABLE_ORDERINGS = frozenset({"id", "-id", "created_at", "-created_at", "updated_at"})


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

    Only ``WALKABLE_ORDERINGS`` take a cursor. Another ordering answers its first page (the
    top ``page_size`` rows, e.g. the largest amounts) with a ``next`` link that is refused
    with ``ordering_not_walkable``: a walk in that order cannot keep its promise, and a loud
    refusal is better than a copy that silently lacks a record renamed during the walk.
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

    def decode_cursor(
        self, raw: str, ordering: tuple[str, ...], model: type[models.Model] | None = None
    ) -> list[Any]:
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
        if model is None:
            return values
        try:
            return [
                _cursor_field_value(model, term.lstrip("-"), value)
                for term, value in zip(ordering, values, strict=True)
            ]
        except (DjangoValidationError, ValueError, TypeError, ArithmeticError) as exc:
            # The cursor is opaque but travels through the client's hands: a value that is not
            # one the column can hold would fail in the query (a 500); it is a bad cursor.
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("无效的游标。")]}
            ) from exc

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
            if self.ordering[0] not in WALKABLE_ORDERINGS:
                raise OrderingNotWalkable(
                    field_errors={
                        self.cursor_query_param: [
                            _("该排序不能翻页，可用：id、created_at（含倒序）或 updated_at。")
                        ]
                    }
                )
            queryset = queryset.filter(
                self.after(self.ordering, self.decode_cursor(raw, self.ordering, queryset.model))
            )
        rows = list(queryset[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.last = rows[-1] if rows else None
        return rows

    def paginate_parts(
        self, parts: Sequence[tuple[QuerySet, str]], request: Request
    ) -> list[tuple[int, Any]]:
        """Walk several querysets one after the other, each by its own increasing integer key
        (``(queryset, key)``): the page's rows as ``(part index, row)``.

        The cursor is ``(part, key)`` of the last row, so each part keeps the keyset promise of
        a one-queryset walk (the deletion feed: tombstones, then scope changes).
        """
        self.request = request
        self.ordering = ("part", "id")
        size = self.get_page_size(request)
        start_part, start_key = 0, None
        raw = request.query_params.get(self.cursor_query_param)
        if raw:
            values = self.decode_cursor(raw, self.ordering)
            # Opaque, but it travelled through the client's hands: two integers, a known part.
            if not all(type(v) is int and abs(v) < 2**63 for v in values):
                raise exceptions.ValidationError({self.cursor_query_param: [_("无效的游标。")]})
            start_part, start_key = values
            if not 0 <= start_part < len(parts):
                raise exceptions.ValidationError({self.cursor_query_param: [_("无效的游标。")]})
        rows: list[tuple[int, Any]] = []
        for index in range(start_part, len(parts)):
            queryset, key = parts[index]
            if index == start_part and start_key is not None:
                queryset = queryset.filter(**{f"{key}__gt": start_key})
            wanted = size + 1 - len(rows)
            rows += [(index, row) for row in queryset.order_by(key)[:wanted]]
            if len(rows) > size:
                break
        self.has_next = len(rows) > size
        rows = rows[:size]
        if rows:
            index, row = rows[-1]
            self.last = {"part": index, "id": getattr(row, parts[index][1])}
        else:
            self.last = None
        return rows

    def get_next_link(self) -> str | None:
        if not self.has_next or self.last is None:
            return None
        # A row is a model instance, or a dict of columns (promo.api.rows).
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
                    "description": (
                        "排序字段，前加 - 为倒序；默认按 id 倒序，带 updated_after 时按更新时间正序。"
                        "只有 id、created_at（含倒序）和 updated_at 正序可以翻页；按其他字段排序"
                        "只提供第一页，其 next 地址答 400 ordering_not_walkable（记录在翻页期间"
                        "被修改会被跳过）。"
                    ),
                    "schema": {
                        "type": "string",
                        "enum": [v for f in fields for v in (f, f"-{f}")],
                    },
                }
            )
        return params


def _cursor_field_value(model: type[models.Model], name: str, value: Any) -> Any:
    """``value`` as the column ``name`` holds it, or ValueError: a cursor's values are only the
    JSON scalars ``encode_cursor`` writes, within the column's range, without NUL bytes."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a cursor value: {value!r}")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL byte in a cursor value")
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return value  # an annotation: PostgreSQL compares it as given
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if isinstance(field, models.DateTimeField):
        parsed = field.to_python(value) if isinstance(value, str) else None
        if parsed is None or parsed.tzinfo is None:
            raise ValueError(f"not an aware time: {value!r}")
        return as_utc(parsed, "cursor")
    if isinstance(field, models.DateField):
        if not isinstance(value, str):
            raise ValueError(f"not a date: {value!r}")
        return field.to_python(value)
    if isinstance(field, models.DecimalField):
        amount = field.to_python(value)
        if not amount.is_finite() or abs(amount) >= Decimal(10) ** (
            field.max_digits - field.decimal_places
        ):
            raise ValueError(f"out of range: {value!r}")
        return amount
    if isinstance(field, models.IntegerField):
        if isinstance(value, float):
            raise ValueError(f"not an integer: {value!r}")
        number = field.to_python(value)
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"out of range: {value!r}")
        return number
    if not isinstance(value, str):
        raise ValueError(f"not text: {value!r}")
    return value


def _has_field(queryset: QuerySet, name: str) -> bool:
    return any(f.name == name for f in queryset.model._meta.get_fields())
