"""Choices of the projects app, with the stage and problem transition tables beside them."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    SIGNED = "signed", _("签约")
    GROUNDBREAKING = "groundbreaking", _("开工")
    COMPLETED = "completed", _("竣工")
    PRODUCING = "producing", _("投产")


# Stages in order; a project moves one step at a time and never back. Producing is terminal.
STAGE_ORDER: tuple[str, ...] = (
    Stage.SIGNED,
    Stage.GROUNDBREAKING,
    Stage.COMPLETED,
    Stage.PRODUCING,
)
STAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.SIGNED: frozenset({Stage.GROUNDBREAKING}),
    Stage.GROUNDBREAKING: frozenset({Stage.COMPLETED}),
    Stage.COMPLETED: frozenset({Stage.PRODUCING}),
    Stage.PRODUCING: frozenset(),
}


def stage_can_transition(from_stage: str, to_stage: str) -> bool:
    return to_stage in STAGE_TRANSITIONS.get(from_stage, frozenset())


def next_stage(stage: str) -> str | None:
    targets = STAGE_TRANSITIONS.get(stage, frozenset())
    return next(iter(targets)) if targets else None


# Size classes used everywhere, in 万元: 千万元以上 and 亿元以上 (key projects).
TEN_MILLION = Decimal("1000")
HUNDRED_MILLION = Decimal("10000")


class SizeClass(models.TextChoices):
    SMALL = "small", _("千万元以下")
    TEN_MILLION = "10m", _("千万元以上")
    HUNDRED_MILLION = "100m", _("亿元以上")


class ParkKind(models.TextChoices):
    ECONOMIC_ZONE = "economic_zone", _("经济开发区")
    HIGH_TECH_ZONE = "high_tech_zone", _("高新区")
    CHEMICAL_PARK = "chemical_park", _("化工园区")
    INDUSTRIAL_AREA = "industrial_area", _("工业小区")
    OTHER = "other", _("其他")


class ProblemKind(models.TextChoices):
    LAND_QUOTA = "land_quota", _("用地指标")
    POWER = "power", _("电力")
    LABOUR = "labour", _("用工")
    FINANCING = "financing", _("融资")
    PLANNING_APPROVAL = "planning_approval", _("规划审批")
    LAND_APPROVAL = "land_approval", _("土地审批")
    EIA_APPROVAL = "eia_approval", _("环评审批")
    CONSTRUCTION_PERMIT = "construction_permit", _("施工许可")
    OTHER = "other", _("其他")


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("待办理")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已办结")


PROBLEM_TRANSITIONS: dict[str, frozenset[str]] = {
    ProblemStatus.OPEN: frozenset({ProblemStatus.IN_PROGRESS, ProblemStatus.RESOLVED}),
    ProblemStatus.IN_PROGRESS: frozenset({ProblemStatus.RESOLVED}),
    ProblemStatus.RESOLVED: frozenset(),
}


def problem_can_transition(from_status: str, to_status: str) -> bool:
    return to_status in PROBLEM_TRANSITIONS.get(from_status, frozenset())


class Milestone(models.TextChoices):
    """The milestones after signing (签约后节点): they run beside the stages, not in their place."""

    REGISTERED = "registered", _("注册")
    LAND_GRANTED = "land_granted", _("供地")
    IN_STATISTICS = "in_statistics", _("入统")
    ABOVE_SIZE = "above_size", _("入规")


# The order they are shown in. Only one is ordered against another: an enterprise becomes
# 规上 (入规) only once it is in the statistics (入统), never before.
MILESTONE_ORDER: tuple[str, ...] = (
    Milestone.REGISTERED,
    Milestone.LAND_GRANTED,
    Milestone.IN_STATISTICS,
    Milestone.ABOVE_SIZE,
)
MILESTONE_REQUIRES: dict[str, str] = {Milestone.ABOVE_SIZE: Milestone.IN_STATISTICS}


class MilestoneAction(models.TextChoices):
    RECORDED = "recorded", _("首次登记")
    CORRECTED = "corrected", _("更正日期")
    WITHDRAWN = "withdrawn", _("撤销")
