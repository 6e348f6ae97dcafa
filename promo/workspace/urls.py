"""The officer's home page."""

from django.urls import path

from promo.workspace import views

urlpatterns = [
    path("", views.home, name="home"),
]
