"""URL configuration of promo."""

from django.contrib import admin
from django.urls import path

admin.site.site_header = "promo 招商引资管理平台"
admin.site.site_title = "promo"
admin.site.index_title = "管理后台"

urlpatterns = [
    path("admin/", admin.site.urls),
]
