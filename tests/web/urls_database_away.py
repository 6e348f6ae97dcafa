"""Test-only URLs: promo's own, plus views that fail as if the database had gone away."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from promo import urls as promo_urls


def page_without_database(request):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


@api_view(["GET"])
@permission_classes([AllowAny])
def api_without_database(request):
    raise InterfaceError("connection already closed")


def page_with_a_bug(request):
    raise ValueError("a plain bug")


urlpatterns = [
    path("test-db-away/", page_without_database),
    path("api/test-db-away/", api_without_database),
    path("test-bug/", page_with_a_bug),
    path("api/test-bug/", page_with_a_bug),
    *promo_urls.urlpatterns,
]
handler500 = promo_urls.handler500
