"""REST API routes: /api/v1/ (one router per app, each in <app>/api/urls.py) and the schema."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("v1/", include("officers.api.urls")),
    path("v1/", include("leads.api.urls")),
    path("v1/", include("projects.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
