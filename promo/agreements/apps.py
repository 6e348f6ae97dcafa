from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "promo.agreements"
    label = "agreements"
    verbose_name = _("投资协议")
    default_auto_field = "django.db.models.BigAutoField"
