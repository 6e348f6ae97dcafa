"""API list pages read with ``values()`` and rendered exactly as the read serializer would.

A 50-row page of leads spent about two thirds of its server time building model instances
(four per row, plus the prefetched ones) and walking DRF's fields one by one
(docs/performance.md). A list endpoint with ``RowsListMixin`` instead reads only the columns
its serializer shows: one query for the page, plus one per batch (a to-many field, or a
reference loaded by id to keep joins out of the page query). Each row is then built by a plan
made once per serializer class:

- a model field: its column, through the serializer field's own ``to_representation``;
- a ``RefSerializer`` (``{"id", "name"}``): the foreign key's column and the related row's name
  columns, joined, or loaded by id for the references the view lists in ``rows_by_id``;
- a ``PrimaryKeyRelatedField``: the foreign key's column;
- a method field: what the serializer's ``list_rows`` says, ``FromColumns`` (computed from the
  row) or ``FromBatch`` (one query for the whole page); with ``for_viewer`` the caller (the
  officer the page is for) is passed too, for a field that says what *they* may do;
- a nested list (``many=True``): ``Nested`` in ``list_rows`` — the children of the whole page
  read with ``values()`` in one query and built by the child serializer's own plan, which may
  nest again (an agreement's commitments and their measured values).

A field the plan cannot read raises ImproperlyConfigured when the plan is first made, never a
wrong value. Detail views, writes and the OpenAPI schema still use the serializer itself;
tests/api/test_list_rows_api.py checks on seeded data that every list row equals the
serializer's rendering of the same record, field by field, whatever ``?fields=`` asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import ForeignKey, QuerySet
from rest_framework import ISO_8601, serializers
from rest_framework.request import Request
from rest_framework.settings import api_settings

from promo.api.serializers import RefSerializer, wanted_fields


@dataclass(frozen=True)
class FromColumns:
    """A method field computed from columns of the row itself: ``build(row)``, or with
    ``for_viewer`` ``build(row, viewer)``."""

    columns: tuple[str, ...]
    build: Callable[..., Any]
    for_viewer: bool = False


@dataclass(frozen=True)
class FromBatch:
    """A method field read for the whole page at once: ``load(keys)`` returns ``{key: value}``.

    ``key`` is the row's column the batch is keyed on (the row's id by default); a row whose key
    is missing from the answer gets ``missing()``. With ``for_viewer``: ``load(keys, viewer)``.
    """

    load: Callable[..., dict[Any, Any]]
    key: str = "id"
    missing: Callable[[], Any] = list
    for_viewer: bool = False


@dataclass(frozen=True)
class Nested:
    """A nested list read for the whole page: ``children(keys)`` is the queryset of the page's
    children in the order the serializer gives them, each carrying ``parent`` (a column, or a
    lookup through a join) equal to the key of its row; ``serializer`` is the child's read
    serializer, whose own plan builds them. Compiled to a ``FromBatch``.

    A list that reads its children another way (stored figures, with a fallback) gives
    ``read(keys, columns)`` instead: the rows as ``children(keys).values(*columns)`` would
    give them, in the same order within each parent."""

    serializer: type[serializers.Serializer]
    children: Callable[[list[Any]], QuerySet] | None
    parent: str
    key: str = "id"
    read: Callable[[list[Any], list[str]], Iterable[dict[str, Any]]] | None = None

    def __post_init__(self) -> None:
        if (self.children is None) == (self.read is None):
            raise ImproperlyConfigured("Nested: give either children or read")

    def rows(self, keys: list[Any], columns: list[str]) -> list[dict[str, Any]]:
        if self.read is not None:
            return list(self.read(keys, columns))
        assert self.children is not None
        return list(self.children(keys).values(*columns))

    def batch(self) -> FromBatch:
        plan = RowPlan.of(self.serializer, ())
        names, parent = plan.names, self.parent

        def load(keys: list[Any], viewer: Any) -> dict[Any, list[dict]]:
            rows = self.rows(keys, plan.columns(names, [parent]))
            found: dict[Any, list[dict]] = {}
            for row, built in zip(rows, plan.render(rows, names, viewer), strict=True):
                found.setdefault(row[parent], []).append(built)
            return found

        return FromBatch(load, key=self.key, for_viewer=True)


def _identity(value: Any) -> Any:
    return value


# DRF fields whose to_representation gives back a database value of the right type unchanged
# (CharField: str(str); IntegerField: int(int); BooleanField: a bool stays itself).
_UNCHANGED = (serializers.CharField, serializers.IntegerField, serializers.BooleanField)


class _DateTimeISO:
    """DRF's ISO 8601 DateTimeField output, with the current time zone looked up per page.

    DRF looks the zone up for every value (a context-local read each time); for an aware
    value that is ``value.astimezone(zone).isoformat()`` with "+00:00" written "Z".
    """

    def __init__(self, field: serializers.DateTimeField) -> None:
        self.field = field

    def bind(self) -> Callable[[Any], Any]:
        zone = self.field.default_timezone()
        fallback = self.field.to_representation
        if zone is None:
            return fallback

        def convert(value: Any) -> Any:
            if not isinstance(value, datetime) or value.tzinfo is None:
                return fallback(value)
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return convert


def _converter(field: serializers.Field) -> Any:
    if type(field) in _UNCHANGED:
        return _identity
    if (
        type(field) is serializers.DateTimeField
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        and not hasattr(field, "timezone")
    ):
        return _DateTimeISO(field)
    return field.to_representation


class _Ref:
    """How a ``RefSerializer`` field is read: its key column and its related name columns."""

    def __init__(self, name: str, field: Any, model_field: ForeignKey, by_id: bool) -> None:
        self.name = name
        self.key = model_field.attname
        self.related = model_field.related_model
        self.name_columns = tuple(field.name_columns)
        self.name_of = field.name_of
        self.by_id = by_id
        self.columns = (
            (self.key,)
            if by_id
            else (self.key, *(f"{model_field.name}__{c}" for c in self.name_columns))
        )

    def names_by_id(self, rows: Sequence[dict[str, Any]]) -> dict[Any, str]:
        ids = {row[self.key] for row in rows if row[self.key] is not None}
        if not ids:
            return {}
        found = (
            self.related._base_manager.filter(pk__in=ids)
            .order_by()
            .values_list("pk", *self.name_columns)
        )
        return {pk: self.name_of(*names) for pk, *names in found}


class RowPlan:
    """How to build a serializer's rows from ``values()``: columns, batches and getters."""

    _plans: dict[tuple[type, tuple[str, ...]], RowPlan] = {}

    @classmethod
    def of(cls, serializer_class: type[serializers.Serializer], by_id: Sequence[str]) -> RowPlan:
        key = (serializer_class, tuple(by_id))
        plan = cls._plans.get(key)
        if plan is None:
            plan = cls._plans[key] = cls(serializer_class, by_id)
        return plan

    def __init__(self, serializer_class: type[serializers.Serializer], by_id: Sequence[str]):
        model = serializer_class.Meta.model  # type: ignore[attr-defined]
        specials: dict[str, FromColumns | FromBatch | Nested] = getattr(
            serializer_class, "list_rows", {}
        )
        self.names: list[str] = []
        # name -> ("column", column, convert) | ("ref", _Ref) | ("columns", FromColumns)
        # | ("batch", FromBatch)
        self.how: dict[str, tuple[Any, ...]] = {}
        for name, field in serializer_class().fields.items():
            self.names.append(name)
            if name in specials:
                special = specials[name]
                if isinstance(special, Nested):
                    special = special.batch()
                kind = "columns" if isinstance(special, FromColumns) else "batch"
                self.how[name] = (kind, special)
                continue
            source = field.source
            if "." in source or source == "*":
                raise ImproperlyConfigured(f"{serializer_class.__name__}.{name}: no column plan")
            if isinstance(field, RefSerializer):
                model_field = model._meta.get_field(source)
                if not isinstance(model_field, ForeignKey):
                    raise ImproperlyConfigured(f"{serializer_class.__name__}.{name}: not a key")
                self.how[name] = ("ref", _Ref(name, field, model_field, source in by_id))
            elif isinstance(field, serializers.PrimaryKeyRelatedField):
                self.how[name] = ("column", model._meta.get_field(source).attname, _identity)
            elif isinstance(
                field,
                serializers.SerializerMethodField
                | serializers.BaseSerializer
                | serializers.ManyRelatedField
                | serializers.RelatedField,
            ):
                # A to-many, a nested serializer, a method or another kind of relation: no
                # single column holds it.
                raise ImproperlyConfigured(
                    f"{serializer_class.__name__}.{name}: say in list_rows how to read it"
                )
            else:
                self.how[name] = ("column", source, _converter(field))

    def columns(self, names: Sequence[str], extra: Iterable[str] = ()) -> list[str]:
        """The ``values()`` columns the named fields need, plus ``extra`` (sort keys)."""
        wanted: dict[str, None] = dict.fromkeys(["id", *extra])
        for name in names:
            how = self.how[name]
            if how[0] == "column":
                wanted[how[1]] = None
            elif how[0] == "ref":
                wanted.update(dict.fromkeys(how[1].columns))
            elif how[0] == "columns":
                wanted.update(dict.fromkeys(how[1].columns))
            else:
                wanted[how[1].key] = None
        return list(wanted)

    def render(
        self, rows: Sequence[dict[str, Any]], names: Sequence[str], viewer: Any = None
    ) -> list[dict]:
        """The serializer's representation of each row, for the named fields in order, as
        ``viewer`` (the caller) is shown it."""
        getters: list[tuple[str, Callable[[dict[str, Any]], Any]]] = []
        for name in names:
            how = self.how[name]
            getters.append((name, self._getter(how, rows, viewer)))
        return [{name: get(row) for name, get in getters} for row in rows]

    @staticmethod
    def _getter(how: tuple[Any, ...], rows: Sequence[dict[str, Any]], viewer: Any) -> Callable:
        kind = how[0]
        if kind == "column":
            column, convert = how[1], how[2]
            if isinstance(convert, _DateTimeISO):
                convert = convert.bind()
            if convert is _identity:
                return lambda row: row[column]
            return lambda row: None if row[column] is None else convert(row[column])
        if kind == "ref":
            ref: _Ref = how[1]
            key = ref.key
            if ref.by_id:
                names = ref.names_by_id(rows)
                return lambda row: (
                    None if row[key] is None else {"id": row[key], "name": names.get(row[key])}
                )
            columns = ref.columns[1:]
            name_of = ref.name_of
            return lambda row: (
                None
                if row[key] is None
                else {"id": row[key], "name": name_of(*(row[c] for c in columns))}
            )
        if kind == "columns":
            spec: FromColumns = how[1]
            if spec.for_viewer:
                build = spec.build
                return lambda row: build(row, viewer)
            return spec.build
        batch: FromBatch = how[1]
        keys = list(dict.fromkeys(row[batch.key] for row in rows if row[batch.key] is not None))
        if not keys:
            found = {}
        else:
            found = batch.load(keys, viewer) if batch.for_viewer else batch.load(keys)
        missing = batch.missing
        return lambda row: found[row[batch.key]] if row[batch.key] in found else missing()


class RowsListMixin:
    """``list()`` from ``values()`` rows, rendered by the read serializer's ``RowPlan``.

    ``rows_by_id`` names the references read by id in one more query instead of a join: each
    optional relation joined into the page query multiplied PostgreSQL's planning time.
    """

    rows_by_id: tuple[str, ...] = ()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        plan = RowPlan.of(self.read_serializer_class, self.rows_by_id)  # type: ignore[attr-defined]
        names = wanted_fields(request, plan.names) or plan.names
        queryset: QuerySet = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        # The cursor's next link is built from the last row: its sort keys are columns too.
        ordering = self.paginator.get_ordering(request, queryset, self)  # type: ignore[attr-defined]
        sort_keys = [term.lstrip("-") for term in ordering]
        queryset = queryset.select_related(None).prefetch_related(None)
        rows = self.paginate_queryset(  # type: ignore[attr-defined]
            queryset.values(*plan.columns(names, sort_keys))
        )
        return self.get_paginated_response(plan.render(rows, names, request.user))  # type: ignore[attr-defined]
