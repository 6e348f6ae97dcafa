"""Officers' pages of the reports app, mounted at /reports/ by promo/urls.py."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("notices/", views.notice_list, name="notices"),
    path("notices/read-all/", views.notices_read_all, name="notices_read_all"),
    path("notices/<int:pk>/read/", views.notice_read, name="notice_read"),
    path("system-notices/<int:pk>/read/", views.system_notice_read, name="system_notice_read"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("agreements/", views.agreement_analysis, name="agreement_analysis"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin"),
    path("bulletins/<int:pk>/xlsx/", views.bulletin_xlsx, name="bulletin_xlsx"),
    path("bulletins/<int:pk>/docx/", views.bulletin_docx, name="bulletin_docx"),
    path("bulletins/<int:pk>/pdf/", views.bulletin_pdf, name="bulletin_pdf"),
    path("bulletins/<int:pk>/publish/", views.bulletin_publish, name="bulletin_publish"),
]
