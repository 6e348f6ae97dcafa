from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Operations (运行状况): heartbeats of the worker and beat, and the administrators' page."""

    name = "promo.operations"
    label = "operations"
    verbose_name = _("运行状况")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from promo.operations import signals  # noqa: F401 - connects the worker's start-up
