"""Officers' web pages: each app's urls.py, assembled here."""

from django.urls import path
from django.views.generic import RedirectView

from promo import views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
]
