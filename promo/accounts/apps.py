from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in, lockout, sessions and the security log."""

    name = "promo.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The sign-in signals' receivers (failures counted for the lockout, the session's
        # touch at sign-in) live beside the middleware; connect them when the app loads, not
        # when the first request happens to import the middleware (a worker, a shell or a test
        # signing someone in before any request would miss them).
        from . import security  # noqa: F401
