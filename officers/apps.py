from django.apps import AppConfig


class OfficersConfig(AppConfig):
    name = "officers"
    default_auto_field = "django.db.models.BigAutoField"
