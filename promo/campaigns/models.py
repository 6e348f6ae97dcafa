"""Campaigns (专项活动): a time-boxed race with a league table, e.g. the 100-day race (百日赛).

A campaign names a unit (usually the bureau); the unit's active first-level units compete,
so the competitors are disjoint sub-trees and each one counts its own groups
(promo.reports.selectors.period_figures). Its officers compete too when ``rank_officers``.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .choices import CampaignFigure


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Campaign(models.Model):
    """A race (百日赛, 大干60天): a window, the units taking part and the weighted metrics."""

    name = models.CharField(_("活动名称"), max_length=100)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("参赛范围"),
        help_text=_("该单位的下一级单位参赛（通常为全局）。"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    rank_officers = models.BooleanField(_("同时排名干部"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("专项活动")
        verbose_name_plural = _("专项活动")
        ordering = ["-start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="%(app_label)s_%(class)s_end_after_start",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CampaignMetric(models.Model):
    """One metric a campaign ranks on, with its weight (权重)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("专项活动"), on_delete=models.CASCADE, related_name="metrics"
    )
    figure = models.CharField(_("指标"), max_length=30, choices=CampaignFigure.choices)
    weight = models.DecimalField(_("权重"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("活动指标")
        verbose_name_plural = _("活动指标")
        ordering = ["campaign", "-weight", "figure"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "figure"], name="%(app_label)s_%(class)s_unique_figure"
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0), name="%(app_label)s_%(class)s_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_figure_display()} × {self.weight}"
