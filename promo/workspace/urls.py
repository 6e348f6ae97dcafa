"""The officer's home page, what a form's draft asks before it is restored, and the phone
app's service worker and manifest (served from the root: a worker's scope is its folder)."""

from django.urls import path

from promo.workspace import views

urlpatterns = [
    path("", views.home, name="home"),
    path("submissions/<uuid:key>/", views.submission_state, name="submission_state"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
