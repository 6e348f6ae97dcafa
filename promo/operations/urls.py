"""The operations page."""

from django.urls import path

from promo.operations import views

app_name = "operations"

urlpatterns = [
    path("", views.status, name="status"),
]
