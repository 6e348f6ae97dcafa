"""The audit administrator's pages."""

from django.urls import path

from promo.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.entry_list, name="list"),
    path("export.<str:fmt>", views.entry_export, name="export"),
]
