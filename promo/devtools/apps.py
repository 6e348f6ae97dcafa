from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Demo bureau, scale seeding, the bench and the embedded servers."""

    name = "promo.devtools"
    label = "devtools"
    default_auto_field = "django.db.models.BigAutoField"
