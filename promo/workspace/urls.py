"""The officer's home page, and what a form's draft asks before it is restored."""

from django.urls import path

from promo.workspace import views

urlpatterns = [
    path("", views.home, name="home"),
    path("submissions/<uuid:key>/", views.submission_state, name="submission_state"),
]
