"""The base ViewSet: rows from a visibility selector, writes in one transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from rest_framework import serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from promo.api.errors import CONFLICT_MESSAGE, PreconditionFailed, UnknownQueryParameter
from promo.api.etags import _etag_matches, etag_for
from promo.api.filters import filter_query_params
from promo.api.idempotency import run_once
from promo.api.pagination import StableCursorPagination
from promo.api.parsers import BoundedJSONParser
from promo.api.serializers import FieldsMixin
from promo.core.errors import Conflict


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
    # Query parameters a list takes besides its FilterSet's and the pagination's (an action's
    # own, such as the deletion feed's deleted_after); any other one is refused.
    extra_query_params: tuple[str, ...] = ()
    # Pagination (StableCursorPagination), throttling, authentication and permissions are
    # DRF's defaults, set in REST_FRAMEWORK (settings).
    # No OPTIONS metadata: the OpenAPI schema is the description (and DRF's metadata calls
    # get_object() for PUT, which fails on routes without an id).
    metadata_class = None
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # ViewSetMixin.as_view has bound this request's handlers (self.post = self.create…);
        # every writing handler runs in one transaction, guarded by Idempotency-Key/If-Match.
        for method in ("post", "put", "patch", "delete"):
            handler = getattr(self, method, None)
            if handler is not None:
                setattr(self, method, functools.partial(self._write, handler))
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD") and not self.detail:
            unknown = sorted(set(request.query_params) - self.known_query_params())
            if unknown:
                # A misspelt filter (?stauts=signed) silently ignored would answer every row:
                # a mirror or a report built on it would be wrong without anyone noticing.
                raise UnknownQueryParameter(unknown)

    def known_query_params(self) -> set[str]:
        """The query parameters this list understands: its FilterSet's (a range filter as
        its ``_after``/``_before`` or ``_min``/``_max`` pair), the cursor pagination's,
        ``?fields=`` where the read serializer trims, and the action's own."""
        known = set(self.extra_query_params)
        paginator = self.paginator
        if isinstance(paginator, StableCursorPagination):
            known |= {paginator.cursor_query_param, paginator.page_size_query_param}
            if self.ordering_fields and not self.cursor_ordering:
                known.add(paginator.ordering_query_param)
        if self.action == "list" and issubclass(self.read_serializer_class, FieldsMixin):
            known.add("fields")  # ?fields=id,name trims the rows (also promo.api.rows)
        filterset_class = self.filterset_class if self.filter_backends else None
        if filterset_class is not None:
            known |= filter_query_params(filterset_class)
        return known

    def _write(
        self, handler: Callable[..., Response], request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        try:
            with transaction.atomic():
                if key is None:
                    return handler(request, *args, **kwargs)
                return run_once(key, handler, request, *args, **kwargs)
        except IntegrityError as exc:
            # Safety net, after the whole transaction rolled back: a database constraint the
            # service did not check first (e.g. an external id already used) is the caller's
            # conflict to resolve, never a 500.
            raise Conflict(CONFLICT_MESSAGE) from exc

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

    def written_response(self, instance: models.Model, status_code: int = 201) -> Response:
        """Render a row a service has just written, as it is in memory: for a write whose
        service returns the row with every relation the read serializer shows already set."""
        data = self.read_serializer_class(instance, context=self.get_serializer_context()).data
        etag = etag_for(instance)
        return Response(data, status=status_code, headers={"ETag": etag} if etag else None)

    def read_response(self, instance: models.Model, status_code: int = 200) -> Response:
        """Render a row as the read serializer sees it, freshly loaded inside the scope."""
        fresh = self.get_queryset().get(pk=instance.pk)
        data = self.read_serializer_class(fresh, context=self.get_serializer_context()).data
        etag = etag_for(fresh)
        return Response(data, status=status_code, headers={"ETag": etag} if etag else None)
