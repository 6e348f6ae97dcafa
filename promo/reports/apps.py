from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "promo.reports"
    label = "reports"
    verbose_name = _("通报与汇报")
    default_auto_field = "django.db.models.BigAutoField"
