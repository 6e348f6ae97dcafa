"""Officers' web pages: each app's urls.py, assembled here."""

from django.urls import include, path

from promo import views, views_language

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("language/", views_language.set_language, name="set_language"),
    path("", include("leads.urls")),
    path("", include("projects.urls")),
    path("imports/", include("promo.imports.urls")),
    path("dashboard/", include("promo.dashboard.urls")),
    path("reports/", include("promo.reports.urls")),
    path("campaigns/", include("promo.campaigns.urls")),
]
