from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The chiefs' cockpit (领导驾驶舱): figures, targets, scoring and exports."""

    name = "promo.dashboard"
    label = "dashboard"
    verbose_name = "驾驶舱"
