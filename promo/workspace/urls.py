"""The officer's home page, the header's search box, and what a form's draft asks before it
is restored."""

from django.urls import path

from promo.workspace import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("submissions/<uuid:key>/", views.submission_state, name="submission_state"),
]
