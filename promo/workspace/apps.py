from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The officer's landing page (我的工作)."""

    name = "promo.workspace"
    label = "workspace"
    default_auto_field = "django.db.models.BigAutoField"
