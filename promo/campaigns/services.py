"""Writes of the campaigns app: create and change a campaign (chiefs and administrators only)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from officers import permissions
from officers.models import Officer, Unit
from promo.core.audit import audited
from promo.core.errors import PermissionDenied, rule
from promo.core.services import lock_visible

from .choices import CampaignFigure
from .models import Campaign, CampaignMetric
from .selectors import campaigns_visible_to

MAX_WEIGHT = Decimal("1000")


def _ensure_bureau_level(actor: Officer) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise PermissionDenied()
    if not permissions.may_manage_campaigns(actor):
        raise PermissionDenied(_("只有局领导或系统管理员可以设置专项活动。"))


def parse_metrics(
    metrics: Mapping[str, Any] | Iterable[Mapping[str, Any] | tuple[Any, Any]] | str,
) -> dict[str, Decimal]:
    """``{figure: weight}``, ``[{"figure": …, "weight": …}]``, ``[(figure, weight)]`` or
    ``"signed_amount:30,signed_count:20"`` → ``{figure: weight}``; refuses bad input."""
    if isinstance(metrics, str):
        pairs: list[tuple[Any, Any]] = []
        for part in metrics.split(","):
            if part.strip():
                name, _sep, text = part.strip().partition(":")
                pairs.append((name.strip(), text.strip()))
    elif isinstance(metrics, Mapping):
        pairs = list(metrics.items())
    else:
        pairs = []
        for item in metrics:
            if isinstance(item, Mapping):
                pairs.append((item.get("figure"), item.get("weight")))
            else:
                figure, weight = item
                pairs.append((figure, weight))
    parsed: dict[str, Decimal] = {}
    for figure, weight in pairs:
        if figure not in CampaignFigure.values:
            raise rule("metrics", _("未知指标：%(figure)s。") % {"figure": figure})
        if figure in parsed:
            raise rule("metrics", _("指标重复：%(figure)s。") % {"figure": figure})
        try:
            value = Decimal(str(weight))
        except (InvalidOperation, ValueError):
            raise rule("metrics", _("权重须为数字。")) from None
        if not value.is_finite() or value <= 0 or value > MAX_WEIGHT:
            raise rule("metrics", _("权重须大于 0 且不超过 1000。"))
        parsed[figure] = value.quantize(Decimal("0.01"))
    if not parsed:
        raise rule("metrics", _("请至少设置一项排名指标。"))
    return parsed


def _check_fields(name: str, start: Any, end: Any, unit: Any) -> str:
    name = (name or "").strip()
    if not name:
        raise rule("name", _("请填写活动名称。"))
    if len(name) > 100:
        raise rule("name", _("活动名称不超过 100 个字。"))
    if not isinstance(start, date):
        raise rule("start", _("请填写开始日期。"))
    if not isinstance(end, date):
        raise rule("end", _("请填写结束日期。"))
    if end < start:
        raise rule("end", _("结束日期不能早于开始日期。"))
    if not isinstance(unit, Unit) or unit.pk is None:
        raise rule("unit", _("请选择参赛范围。"))
    return name


def _write_metrics(campaign: Campaign, weights: dict[str, Decimal]) -> None:
    campaign.metrics.exclude(figure__in=list(weights)).delete()
    existing = {m.figure: m for m in campaign.metrics.all()}
    for figure, weight in weights.items():
        metric = existing.get(figure)
        if metric is None:
            CampaignMetric.objects.create(campaign=campaign, figure=figure, weight=weight)
        elif metric.weight != weight:
            metric.weight = weight
            metric.save(update_fields=["weight"])


def campaign_create(
    *,
    actor: Officer,
    name: str,
    start: date,
    end: date,
    unit: Unit,
    metrics: Mapping[str, Any] | Iterable[Any] | str,
    rank_officers: bool = True,
    is_active: bool = True,
) -> Campaign:
    """Launch a campaign (发起专项活动): its window, the units taking part, weighted metrics."""
    _ensure_bureau_level(actor)
    name = _check_fields(name, start, end, unit)
    weights = parse_metrics(metrics)
    with transaction.atomic(), audited(actor, "campaign_create"):
        campaign = Campaign.objects.create(
            name=name,
            start=start,
            end=end,
            unit=unit,
            rank_officers=bool(rank_officers),
            is_active=bool(is_active),
            created_by=actor,
        )
        _write_metrics(campaign, weights)
    return campaign


_EDITABLE = ("name", "start", "end", "unit", "rank_officers", "is_active")


def campaign_update(
    *, actor: Officer, campaign: Campaign, reason: str = "", **changes: Any
) -> Campaign:
    """Change a campaign: any of name, start, end, unit, rank_officers, is_active, metrics
    (metrics replace the whole list)."""
    _ensure_bureau_level(actor)
    unknown = set(changes) - {*_EDITABLE, "metrics"}
    if unknown:
        raise rule(sorted(unknown)[0], _("该项不可修改。"))
    weights = parse_metrics(changes.pop("metrics")) if "metrics" in changes else None
    with transaction.atomic(), audited(actor, reason or "campaign_update"):
        locked = lock_visible(campaigns_visible_to(actor), campaign)
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.name = _check_fields(locked.name, locked.start, locked.end, locked.unit)
        fields = [*changes, "updated_at"] if changes else []
        if "name" not in fields and fields:
            fields.append("name")
        if fields:
            locked.save(update_fields=fields)
        if weights is not None:
            _write_metrics(locked, weights)
            if not fields:
                locked.save(update_fields=["updated_at"])
    return locked
