"""REST API routes: /api/v1/ (one router per app, each in <app>/api/urls.py) and the schema."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from promo.api.errors import not_found

urlpatterns = [
    path("v1/", include("officers.api.urls")),
    path("v1/", include("leads.api.urls")),
    path("v1/", include("projects.api.urls")),
    path("v1/", include("promo.agreements.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: an unknown API URL answers in the API's error format, not as an HTML page.
    re_path(r"", not_found),  # matches any rest of the path, newlines included
]
