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
  read as ``values()`` rows in one query (``Among``) and built by the child serializer's own plan, which may
  nest again (an agreement's commitments and their measured values).

A field the plan cannot read raises ImproperlyConfigured when the plan is first made, never a
wrong value. Detail views, writes and the OpenAPI schema still use the serializer itself;
tests/api/test_list_rows_api.py checks on seeded data that every list row equals the
serializer's rendering of the same record, field by field, whatever ``?fields=`` asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import F, ForeignKey, QuerySet
from rest_framework import ISO_8601, serializers
from rest_framework.request import Request
from rest_framework.settings import api_settings

from promo.api.serializers import RefSerializer, wanted_fields
from promo.core.expressions import InArray, array_literal


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
    """A nested list read for the whole page: ``read(keys, columns)`` gives the page's
    children as ``values(*columns)`` rows in the order the serializer gives them, each carrying
    ``parent`` (a column, or a lookup through a join) equal to the key of its row — an
    ``Among(queryset, parent).values``, or a read of stored figures with a fallback;
    ``serializer`` is the child's read serializer, whose own plan builds them. Compiled to a
    ``FromBatch``."""

    serializer: type[serializers.Serializer]
    parent: str
    read: Callable[[list[Any], list[str]], Iterable[dict[str, Any]]]
    key: str = "id"

    def batch(self) -> FromBatch:
        plan = RowPlan.of(self.serializer, ())
        names, parent = plan.names, self.parent

        def load(keys: list[Any], viewer: Any) -> dict[Any, list[dict]]:
            rows = list(self.read(keys, plan.columns(names, [parent])))
            found: dict[Any, list[dict]] = {}
            for row, built in zip(rows, plan.render(rows, names, viewer), strict=True):
                found.setdefault(row[parent], []).append(built)
            return found

        return FromBatch(load, key=self.key, for_viewer=True)


# The id the statement of an ``Among`` is compiled with, replaced by a page's keys at each read.
_PLACEHOLDER = -1


@dataclass(frozen=True)
class _Statement:
    """A compiled ``values()`` read: its SQL and parameters (the keys' array at ``at``), the
    names of its columns and their converters (as the compiler gives them)."""

    sql: str
    params: tuple[Any, ...]
    at: int
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Any, Any]], ...]


class Among:
    """The rows of ``queryset`` whose ``field`` is one of a page's keys, as
    ``queryset.filter(field in keys).values(*columns)`` gives them, in its order.

    Compiled once per set of columns, then run with the keys as the statement's one array
    parameter: Django compiling the same statement again for every page (the joins and
    status expressions of an agreement's commitments and promises) was about a sixth of a page
    of agreements. The converters are the compiler's own (decimals of expressions, JSON);
    each read passes them the connection of the thread that runs it. Give it a queryset that
    does not change (one built per day when it holds the day)."""

    def __init__(self, queryset: QuerySet[Any], field: str) -> None:
        self.queryset = queryset
        self.field = field
        self._statements: dict[tuple[str, ...], _Statement] = {}

    def _statement(self, columns: tuple[str, ...]) -> _Statement:
        statement = self._statements.get(columns)
        if statement is None:
            query = (
                self.queryset.filter(InArray(F(self.field), [_PLACEHOLDER])).values(*columns).query
            )
            compiler = query.get_compiler(self.queryset.db)
            sql, params = compiler.as_sql()
            placeholder = array_literal([_PLACEHOLDER])
            [at] = [i for i, param in enumerate(params) if param == placeholder]
            names = tuple(
                query.selected
                or (*query.extra_select, *query.values_select, *query.annotation_select)
            )  # as ValuesIterable names them
            selected = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
            converters = tuple(compiler.get_converters(selected).items())
            statement = _Statement(sql, tuple(params), at, names, converters)
            self._statements[columns] = statement
        return statement

    def values(self, keys: Collection[int], columns: Sequence[str]) -> list[dict[str, Any]]:
        if not keys:
            return []
        statement = self._statement(tuple(columns))
        params = list(statement.params)
        params[statement.at] = array_literal(keys)
        connection = connections[self.queryset.db]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            # Lists, so the converters may replace their values in place.
            rows = (
                [list(row) for row in cursor.fetchall()]
                if statement.converters
                else cursor.fetchall()
            )
        names = statement.names
        for position, (functions, expression) in statement.converters:
            for row in rows:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
        return [dict(zip(names, row, strict=True)) for row in rows]


def _identity(value: Any) -> Any:
    return value


# DRF fields whose to_representation gives back a database value of the right type unchanged
# (CharField: str(str); IntegerField: int(int); BooleanField: a bool stays itself).
_UNCHANGED = (serializers.CharField, serializers.IntegerField, serializers.BooleanField)


@dataclass(frozen=True)
class _Inline:
    """A converter written into the text of the function that builds a page's rows (see
    ``RowPlan._builder``): for a value of exactly the type named ``kind`` the expression
    ``fast`` of the value ``v`` (and ``{zone}``, the page's current time zone), DRF's own
    ``to_representation`` for any other — an enum member, a string where a date was expected,
    a naive datetime. A Python call per value was most of what these cost: a page of 50
    agreements writes about 1,230 datetimes, 660 dates, 900 choices and 620 big ids.

    ``extra`` is a further condition for ``fast`` (an aware datetime, a zone to convert to).
    The expressions are DRF's own for those values: a choice whose keys are all strings
    gives back a string as itself (``choice_strings_to_values.get(str(v), v)``); a big
    integer not written as a string is ``int(v)``; an ISO date is ``v.isoformat()``; an aware
    datetime is ``v.astimezone(zone).isoformat()`` with "+00:00" written "Z"."""

    kind: str
    fast: str
    field: serializers.Field
    extra: str = ""

    def argument(self) -> tuple[Any, Callable[[Any], Any]]:
        """The page's argument: the zone where the expressions name it (looked up once a
        page, where DRF looks it up for every value) and the fallback."""
        zoned = "{zone}" in self.fast + self.extra
        zone = self.field.default_timezone() if zoned else None  # type: ignore[attr-defined]
        return zone, self.field.to_representation


def _decimal_string(field: serializers.DecimalField) -> Callable[[Any], Any]:
    """DRF's DecimalField output as a string, without quantizing a value that already has the
    field's decimal places and fits its digits (every amount read from its column): then
    ``str`` is what DRF writes (no exponent form at two places) — 850 values a page of
    agreements, each through a context copy and a quantize in DRF."""
    exponent = -int(field.decimal_places)
    digits = field.max_digits
    fallback = field.to_representation

    def convert(value: Any) -> Any:
        if type(value) is Decimal:
            shape = value.as_tuple()
            if shape.exponent == exponent and (digits is None or len(shape.digits) <= digits):
                return str(value)
        return fallback(value)

    return convert


def _converter(field: serializers.Field) -> Any:
    if type(field) in _UNCHANGED:
        return _identity
    if (
        type(field) is serializers.DecimalField
        and field.decimal_places is not None
        and 0 < field.decimal_places <= 6
        and getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        and not field.localize
        and not field.normalize_output
    ):
        return _decimal_string(field)
    if (
        type(field) is serializers.DateTimeField
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        and not hasattr(field, "timezone")
    ):
        return _Inline(
            "datetime",
            '(t[:-6] + "Z" if (t := v.astimezone({zone}).isoformat()).endswith("+00:00") else t)',
            field,
            extra="{zone} is not None and v.tzinfo is not None",
        )
    if (
        type(field) is serializers.DateField
        and getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601
    ):
        return _Inline("date", "v.isoformat()", field)
    if type(field) is serializers.ChoiceField and all(
        type(key) is str for key in field.choice_strings_to_values.values()
    ):
        return _Inline("str", "v", field)
    if type(field) is serializers.BigIntegerField and not getattr(
        field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING
    ):
        return _Inline("int", "v", field)
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
        self.label = serializer_class.__name__
        self._builders: dict[tuple[str, ...], Callable[..., list[dict]]] = {}
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
        # What each field needs from this page (a converter bound to the zone, a batch read
        # for the page, the names of references read by id), in field order: the batches'
        # queries run in the order the serializer lists its fields.
        arguments = [self._arguments(self.how[name], rows, viewer) for name in names]
        return self._builder(tuple(names))(rows, *arguments)

    def _builder(self, names: tuple[str, ...]) -> Callable[..., list[dict]]:
        """A function building every row of a page as one dict display, made once per set of
        fields: the generic loop (a comprehension calling one closure per field) took twice
        as long for the ~600 nested rows of a page of agreements. Its text holds only field
        and column names (``repr``), never a value of a row."""
        built = self._builders.get(names)
        if built is None:
            items = [
                f"{name!r}: {self._expression(self.how[name], f'a{i}')}"
                for i, name in enumerate(names)
            ]
            arguments = "".join(f", a{i}" for i in range(len(names)))
            source = (
                f"def build(rows{arguments}):\n"
                f"    return [{{{', '.join(items)}}} for row in rows]\n"
            )
            # The types an inline converter names (_Inline.kind); str and int are builtins.
            scope: dict[str, Any] = {"date": date, "datetime": datetime}
            exec(compile(source, f"<rows of {self.label}>", "exec"), scope)
            built = self._builders[names] = scope["build"]
        return built

    @staticmethod
    def _expression(how: tuple[Any, ...], a: str) -> str:
        """The Python expression of one field for ``row``, its page's argument named ``a``."""
        kind = how[0]
        if kind == "column":
            column = repr(how[1])
            convert = how[2]
            if convert is _identity:
                return f"row[{column}]"
            if isinstance(convert, _Inline):
                # The argument is (zone, fallback); ``v`` and ``t`` are the builder's locals.
                zone = f"{a}[0]"
                fast = convert.fast.format(zone=zone)
                condition = f"type(v) is {convert.kind}"
                if convert.extra:
                    condition += f" and {convert.extra.format(zone=zone)}"
                return (
                    f"(None if (v := row[{column}]) is None"
                    f" else ({fast} if {condition} else {a}[1](v)))"
                )
            return f"(None if row[{column}] is None else {a}(row[{column}]))"
        if kind == "ref":
            ref: _Ref = how[1]
            key = repr(ref.key)
            if ref.by_id:
                name = f"{a}.get(row[{key}])"
            else:
                name = f"{a}({', '.join(f'row[{c!r}]' for c in ref.columns[1:])})"
            return f'(None if row[{key}] is None else {{"id": row[{key}], "name": {name}}})'
        if kind == "columns":
            return f"{a}(row)"
        key = repr(how[1].key)
        return f"({a}[0][row[{key}]] if row[{key}] in {a}[0] else {a}[1]())"

    @staticmethod
    def _arguments(how: tuple[Any, ...], rows: Sequence[dict[str, Any]], viewer: Any) -> Any:
        """What the field's expression reads besides the row, for this page."""
        kind = how[0]
        if kind == "column":
            convert = how[2]
            return convert.argument() if isinstance(convert, _Inline) else convert
        if kind == "ref":
            ref: _Ref = how[1]
            return ref.names_by_id(rows) if ref.by_id else ref.name_of
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
        return found, batch.missing


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
