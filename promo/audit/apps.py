from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """Security audit (安全审计): the append-only, hash-chained application audit trail."""

    name = "promo.audit"
    label = "audit"
    verbose_name = _("安全审计")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from promo.audit import receivers  # noqa: F401 - connects the events it records
