"""The cockpit's pages (mounted at /dashboard/ by promo/web_urls.py)."""

from django.urls import path

from . import targets, views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="index"),
    path("export/<slug:table>.xlsx", views.export, name="export"),
    path("targets/", targets.summary, name="targets"),
    path("targets/<int:unit_id>/<slug:metric>/", targets.breakdown, name="target_breakdown"),
]
