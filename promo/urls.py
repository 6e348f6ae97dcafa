"""URL configuration of promo: the officers' web pages, the REST API and the admin."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("promo 招商引资管理平台")
admin.site.site_title = "promo"
admin.site.index_title = _("管理后台")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # REST API (one router per app, assembled in promo/api_urls.py).
    path("api/", include("promo.api_urls")),
    # Officers' web pages (promo/web_urls.py includes each app's urls.py).
    path("", include("promo.web_urls")),
]
