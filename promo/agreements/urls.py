"""The agreements' pages (mounted at /agreements/ by promo/urls.py)."""

from django.urls import path

from . import views

app_name = "agreements"

urlpatterns = [
    path("", views.agreement_list, name="list"),
    path("promises/", views.promise_list, name="promises"),
    path("terms/", views.term_list, name="terms"),
    path("new/<int:project_pk>/", views.agreement_new, name="new"),
    path("<int:pk>/", views.agreement_detail, name="detail"),
    path("<int:pk>/<slug:action>/", views.agreement_action, name="action"),
]
