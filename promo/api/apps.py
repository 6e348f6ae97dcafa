from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API's base pieces and its records (API clients, idempotency records).

    The label stays ``promo``, under which these models and their migrations were created
    before the move into ``promo/api/`` (docs/decisions/0007-app-labels-kept.md): no table,
    migration row or content type changes.
    """

    name = "promo.api"
    label = "promo"
    verbose_name = "API"
    default_auto_field = "django.db.models.BigAutoField"
