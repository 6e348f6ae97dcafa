"""Query-parameter helpers shared by the apps' API filters, and the API's filter backend."""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import UTC
from typing import Any

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


@functools.cache
def filter_params(filterset_class: Any) -> dict[str, frozenset[str]]:
    """Each filter of a FilterSet with the query parameters it reads: its name, or for a range
    filter its pair (``visited_on_after``/``visited_on_before``, ``amount_min``/``amount_max``)."""
    params: dict[str, frozenset[str]] = {}
    for name, filter_ in filterset_class.base_filters.items():
        # The widget names the parameters; read from the class, no form is built.
        widget = filter_.extra.get("widget") or filter_.field_class.widget
        suffixes = getattr(widget, "suffixes", None) or ("",)
        params[name] = frozenset(f"{name}_{suffix}" if suffix else name for suffix in suffixes)
    return params


@functools.cache
def filter_query_params(filterset_class: Any) -> frozenset[str]:
    """The query parameters a FilterSet reads (:func:`filter_params`), all together."""
    return frozenset().union(*filter_params(filterset_class).values())


def named_filters(filterset_class: Any, present: Collection[str]) -> dict[str, Any]:
    """The FilterSet's filters that read one of the ``present`` query parameters."""
    params = filter_params(filterset_class)
    return {
        name: filter_
        for name, filter_ in filterset_class.base_filters.items()
        if not params[name].isdisjoint(present)
    }


class NamedFiltersBackend(DjangoFilterBackend):
    """django-filter's backend, binding only the filters the request names.

    A FilterSet deep-copies every filter it declares and builds a form field and a form class
    for each on every request: for the lead list's 28 filters, ~3 ms of a ~25 ms API read
    (issue #19's API lists) to apply one. A filter the query string does not name changes no
    row — a missing parameter is an empty value, which every filter of promo's lets through
    (tests/api/test_filter_backend.py checks each API FilterSet) — so the FilterSet here holds
    the named ones alone: the same rows, the same errors for a bad value (only a named filter
    can have one; an unknown parameter is refused before, ``ScopedViewSet.initial``). The
    browsable API's filter form still shows them all.
    """

    def get_filterset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        kwargs = self.get_filterset_kwargs(request, queryset, view)
        filterset = filterset_class.__new__(filterset_class)
        # FilterSet.__init__ copies ``self.base_filters``: the instance's own, named ones.
        filterset.base_filters = named_filters(filterset_class, kwargs["data"].keys())
        filterset.__init__(**kwargs)
        return filterset

    def to_html(self, request: Any, queryset: Any, view: Any) -> Any:
        # The browsable API's filter form: every filter, rendered by django-filter's backend.
        return DjangoFilterBackend().to_html(request, queryset, view)


def as_utc(value, name: str):
    """An aware datetime in UTC, as PostgreSQL takes it.

    ISO 8601 allows offsets PostgreSQL refuses (-18:58 is valid Python, a DataError in SQL),
    and a time near year 1 may not convert at all: both are the caller's bad input.
    """
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValidationError({name: [_("时间超出范围。")]}) from exc
