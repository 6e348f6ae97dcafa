from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel every app may use: errors, audit, env, service helpers, base models."""

    name = "promo.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"
