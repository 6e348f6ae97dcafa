"""The last sign of life of each background part of promo."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """Heartbeat (运行心跳): when one part (the worker, beat) last showed it was working.

    Written by the ``promo.operations.tasks.heartbeat`` task, which beat sends every
    ``PROMO_HEARTBEAT_SECONDS`` and the worker runs; read by the operations page and by the
    compose health check of beat (``manage.py heartbeat --check beat``).
    """

    name = models.CharField(_("部件"), max_length=40, primary_key=True)
    seen_at = models.DateTimeField(_("最近心跳"))
    detail = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("运行心跳")
        verbose_name_plural = _("运行心跳")

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
