"""promo: an investment-promotion CRM (招商引资 CRM)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
