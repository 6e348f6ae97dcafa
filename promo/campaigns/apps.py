from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "promo.campaigns"
    label = "campaigns"
    verbose_name = _("专项活动")
    default_auto_field = "django.db.models.BigAutoField"
