from django.apps import AppConfig


class PromoConfig(AppConfig):
    name = "promo"
    default_auto_field = "django.db.models.BigAutoField"
