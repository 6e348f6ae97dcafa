from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in, lockout, sessions and the security log."""

    name = "promo.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
