from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "promo.reports"
    label = "reports"
    verbose_name = _("通报与汇报")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The project list's 灯色 filter reads the lights by this app's one rule.
        from projects.filters import register_light_rule

        from .selectors import project_light_q

        register_light_rule(project_light_q)
