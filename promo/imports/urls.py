"""Officers' pages of the imports app (mounted at /imports/ by promo/web_urls.py)."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.batch_list, name="list"),
    path("new/", views.batch_new, name="new"),
    path("<int:pk>/", views.batch_detail, name="detail"),
    path("<int:pk>/progress/", views.batch_progress, name="progress"),
    path("<int:pk>/confirm/", views.batch_confirm, name="confirm"),
    path("<int:pk>/mapping/", views.batch_mapping, name="mapping"),
    path("template/<str:kind>.xlsx", views.ledger_template, name="template"),
    path("export/<str:what>.<str:fmt>", views.export, name="export"),
    path("exports/", views.export_jobs, name="exports"),
    path("exports/<int:pk>/", views.export_job, name="export_job"),
    path("exports/<int:pk>/progress/", views.export_job_progress, name="export_job_progress"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
]
