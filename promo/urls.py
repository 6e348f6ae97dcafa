"""URL configuration of promo: the officers' web pages, the REST API and the admin.

Each app has its own urls.py; this file only assembles them.
"""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from promo.core import health

admin.site.site_header = _("promo 招商引资管理平台")
admin.site.site_title = "promo"
admin.site.index_title = _("管理后台")

urlpatterns = [
    # Probes for compose and load balancers: no sign-in, no session, not in the API schema.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # REST API (one router per app, assembled in promo/api/urls.py).
    path("api/", include("promo.api.urls")),
    # Officers' web pages.
    path("", include("promo.workspace.urls")),
    path("", include("promo.accounts.urls")),
    # projects first: it serves /leads/<id>/sign/, which leads' /leads/<id>/<action>/ would take.
    path("", include("projects.urls")),
    path("", include("leads.urls")),
    path("imports/", include("promo.imports.urls")),
    path("dashboard/", include("promo.dashboard.urls")),
    path("reports/", include("promo.reports.urls")),
    path("operations/", include("promo.operations.urls")),
    path("audit/", include("promo.audit.urls")),
    path("campaigns/", include("promo.campaigns.urls")),
    path("agreements/", include("promo.agreements.urls")),
]

# A lost database connection is answered with a friendly 503 (Retry-After), not a bare 500.
handler500 = "promo.core.health.server_error"
