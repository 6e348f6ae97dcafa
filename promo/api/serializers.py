"""Base serializers of the API: field selection, strict writes, references, bulk results."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import exceptions, serializers
from rest_framework.request import Request

from promo.core.visibility import found_through


def wanted_fields(request: Request | None, names: Iterable[str]) -> list[str] | None:
    """The names ``?fields=a,b`` keeps, in the serializer's order; None when it is absent.

    An unknown name is the caller's mistake: a 400 with the names, never a silent drop.
    """
    if request is None or request.method != "GET":
        return None
    raw = request.query_params.get("fields")
    if not raw:
        return None
    names = list(names)
    wanted = {name.strip() for name in raw.split(",") if name.strip()}
    unknown = wanted - set(names)
    if unknown:
        raise exceptions.ValidationError(
            {"fields": [_("未知字段：%(names)s。") % {"names": ", ".join(sorted(unknown))}]}
        )
    return [name for name in names if name in wanted]


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

    def __init__(
        self,
        selector: Callable[[Any], QuerySet],
        first_try: Callable[[Any], QuerySet] | None = None,
        **kwargs: Any,
    ) -> None:
        # ``first_try``: a subset of ``selector``'s rows, cheaper to ask, asked first (the
        # common case); nothing found there, ``selector`` decides.
        self.selector = selector
        self.first_try = first_try
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        return self.selector(request.user if request else None)

    def to_internal_value(self, data: Any) -> Any:
        request = self.context.get("request")
        instance = None
        # Only a key as such (not a boolean, not text other than digits): anything else is the
        # selector's lookup's to refuse, with its error.
        is_key = (isinstance(data, int) and not isinstance(data, bool)) or (
            isinstance(data, str) and data.isascii() and data.isdigit()
        )
        if self.first_try is not None and request is not None and is_key:
            instance = self.first_try(request.user).filter(pk=data).first()
        if instance is None:
            instance = super().to_internal_value(data)
        # The service re-checks the scope (services are the rule); this lookup already made
        # that check with the same selector, so it is noted on the row for this request.
        found_through(instance, self.selector, request.user if request else None)
        return instance

    def use_pk_only_optimization(self) -> bool:
        return False


class RefSerializer(serializers.Serializer):
    """A related record as ``{"id", "name"}``."""

    id = serializers.IntegerField(read_only=True, help_text="编号")
    name = serializers.CharField(read_only=True, help_text="名称")

    name_attribute = "name"
    # How promo.api.rows reads the name without an instance: the related row's columns, and
    # the function of them that gives ``name_attribute``.
    name_columns: tuple[str, ...] = ("name",)
    name_of = staticmethod(lambda name: None if name is None else str(name))

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # The declared fields' output, read directly: nested in every row of every list (a
        # lead carries five), DRF's field-by-field machinery cost more than the row's own
        # fields. The declared fields still give the schema.
        name = getattr(instance, self.name_attribute)
        return {"id": int(instance.pk), "name": None if name is None else str(name)}


class BulkRowResultSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="请求中的行号（从 0 开始）")
    id = serializers.IntegerField(help_text="promo 中的编号")
    created = serializers.BooleanField(help_text="true 为新登记，false 为更新")


class BulkUpsertResultSerializer(serializers.Serializer):
    """The outcome of each row of a successful bulk write."""

    results = BulkRowResultSerializer(many=True)
