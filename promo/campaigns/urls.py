"""The campaigns' pages (mounted at /campaigns/ by promo/web_urls.py)."""

from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/export.xlsx", views.campaign_export, name="export"),
    path("<int:pk>/screen/", views.campaign_screen, name="screen"),
]
