"""Projects from signing to production, their investment progress and their problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Case, DateField, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from leads.normalize import search_text
from promo.core.choices import Industry
from promo.core.models import APPEND_ONLY, SyncedModel, TrailEvent

from .choices import (
    HUNDRED_MILLION,
    MILESTONE_ORDER,
    TEN_MILLION,
    Milestone,
    MilestoneAction,
    ParkKind,
    ProblemKind,
    ProblemStatus,
    SizeClass,
    Stage,
    problem_can_transition,
    stage_can_transition,
)
from .scope_triggers import PROJECT_TRIGGERS


def size_class_for(total_investment: Decimal) -> str:
    if total_investment >= HUNDRED_MILLION:
        return SizeClass.HUNDRED_MILLION
    if total_investment >= TEN_MILLION:
        return SizeClass.TEN_MILLION
    return SizeClass.SMALL


_MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "default": Decimal("0")}


# A project's figures and milestones computed from its column values, for an instance
# (``Project`` below) and for a ``values()`` row alike (projects.api: the list's rows).


def completion_rate_of(invested_to_date: Decimal, total_investment: Decimal) -> Decimal | None:
    """投资完成率 (%): investment completed to date over total investment; None without a total."""
    if not total_investment:
        return None
    return (invested_to_date / total_investment * 100).quantize(Decimal("0.1"))


# The columns the milestone dates are read from: the signing's date is the contract date.
STAGE_DATE_COLUMNS = (
    "contract_date",
    *(
        f"{stage}_{kind}"
        for stage in Stage
        if stage != Stage.SIGNED
        for kind in ("planned", "actual")
    ),
)


# The milestones after signing (注册 / 供地 / 入统 / 入规): a planned and an actual date each,
# columns ``<milestone>_planned`` and ``<milestone>_actual`` (projects.services writes them).
MILESTONE_DATE_COLUMNS = tuple(
    f"{milestone}_{kind}" for milestone in MILESTONE_ORDER for kind in ("planned", "actual")
)


def planned_date_in(column: Callable[[str], Any], stage: str) -> date | None:
    """A stage's planned date (倒排节点), ``column(name)`` giving a column's value; none for 签约."""
    return None if stage == Stage.SIGNED else column(f"{stage}_planned")


def actual_date_in(column: Callable[[str], Any], stage: str) -> date | None:
    """A stage's actual date, ``column(name)`` giving a column's value; 签约's is the contract date."""
    return column("contract_date" if stage == Stage.SIGNED else f"{stage}_actual")


def next_milestone_due() -> Case:
    """The planned date of a project's next milestone: 开工 for a signed project, 竣工 once under
    construction, 投产 once completed; NULL once producing. A project whose date has passed is
    late (节点逾期: ``projects.filters.overdue_q`` states the same rule as conditions). Indexed
    with the id (``projects_project_next_due``): the cockpit's most overdue milestones read it
    in order and stop after a screenful."""
    return Case(
        When(stage=Stage.SIGNED, then=F("groundbreaking_planned")),
        When(stage=Stage.GROUNDBREAKING, then=F("completed_planned")),
        When(stage=Stage.COMPLETED, then=F("producing_planned")),
        default=Value(None),
        output_field=DateField(),
    )


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["search_text"],
)
class Project(SyncedModel):
    """Project (项目): a signed investment, followed through groundbreaking and completion to production."""

    name = models.CharField(_("项目名称"), max_length=200)
    # The search box's keys of the name (leads.normalize.search_text, docs/search.md).
    search_text = models.TextField(editable=False, default="")
    lead = models.OneToOneField(
        "leads.Lead",
        verbose_name=_("来源项目信息"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project",
    )
    investor = models.ForeignKey(
        "leads.Investor",
        verbose_name=_("投资方"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="projects_created",
    )
    industry = models.CharField(_("行业"), max_length=20, choices=Industry.choices)
    park_kind = models.CharField(
        _("园区类型"), max_length=20, choices=ParkKind.choices, default=ParkKind.ECONOMIC_ZONE
    )
    park_name = models.CharField(_("落户园区"), max_length=100, blank=True)
    description = models.TextField(_("建设内容"), blank=True)

    # Figures that rank people: written only by projects.services, trailed by history.
    contract_date = models.DateField(_("签约日期"))
    signed_investment = models.DecimalField(_("签约总投资(万元)"), **_MONEY)
    total_investment = models.DecimalField(_("总投资(万元)"), **_MONEY)
    registered_capital = models.DecimalField(_("注册资本(万元)"), **_MONEY)
    contracted_fdi = models.DecimalField(_("合同外资(万美元)"), **_MONEY)
    arrived_fdi = models.DecimalField(_("到账外资(万美元)"), **_MONEY)
    land_area = models.DecimalField(_("用地(亩)"), max_digits=10, decimal_places=2, default=0)
    invested_to_date = models.DecimalField(_("累计完成投资(万元)"), **_MONEY)
    size_class = models.CharField(
        _("规模"), max_length=10, choices=SizeClass.choices, default=SizeClass.SMALL, editable=False
    )

    stage = models.CharField(_("阶段"), max_length=20, choices=Stage.choices, default=Stage.SIGNED)
    stage_changed_at = models.DateTimeField(_("阶段变更时间"), null=True, blank=True)
    groundbreaking_planned = models.DateField(_("计划开工"), null=True, blank=True)
    groundbreaking_actual = models.DateField(_("实际开工"), null=True, blank=True)
    completed_planned = models.DateField(_("计划竣工"), null=True, blank=True)
    completed_actual = models.DateField(_("实际竣工"), null=True, blank=True)
    producing_planned = models.DateField(_("计划投产"), null=True, blank=True)
    producing_actual = models.DateField(_("实际投产"), null=True, blank=True)

    # The milestones after signing (签约后节点), beside the stages: written only by
    # projects.services.project_milestone_record / _correct, each move an event with evidence.
    registered_planned = models.DateField(_("计划注册"), null=True, blank=True)
    registered_actual = models.DateField(_("实际注册"), null=True, blank=True)
    # The project company's 统一社会信用代码 (GB 32100-2015), checked when 注册 is recorded: the
    # company registered here is often a new subsidiary, not the investor itself.
    company_credit_code = models.CharField(
        _("项目公司统一社会信用代码"), max_length=18, blank=True, default=""
    )
    land_granted_planned = models.DateField(_("计划供地"), null=True, blank=True)
    land_granted_actual = models.DateField(_("实际供地"), null=True, blank=True)
    in_statistics_planned = models.DateField(_("计划入统"), null=True, blank=True)
    in_statistics_actual = models.DateField(_("实际入统"), null=True, blank=True)
    above_size_planned = models.DateField(_("计划入规"), null=True, blank=True)
    above_size_actual = models.DateField(_("实际入规"), null=True, blank=True)

    annual_output_value = models.DecimalField(_("年产值(万元)"), **_MONEY)
    annual_tax = models.DecimalField(_("年税收(万元)"), **_MONEY)
    jobs = models.PositiveIntegerField(_("用工人数"), default=0)

    # Aftercare (亲商服务): the officer named to serve the enterprise once it produces, who named
    # them and when — on the row, so the project's history keeps every change of envoy
    # (docs/decisions/0016-service-envoy-on-the-project.md).
    service_envoy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("企业服务专员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects_served",
    )
    service_envoy_named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("指定人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    service_envoy_named_at = models.DateTimeField(_("指定时间"), null=True, blank=True)
    # 服务绿卡: a top enterprise, visited monthly instead of at the default rhythm.
    green_card = models.BooleanField(_("服务绿卡"), default=False)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        # docs/decisions/0012-scope-change-journal.md
        triggers = PROJECT_TRIGGERS
        ordering = ["-contract_date", "-id"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(signed_investment__gte=0)
                & Q(total_investment__gte=F("signed_investment"))
                & Q(registered_capital__gte=0)
                & Q(contracted_fdi__gte=0)
                & Q(arrived_fdi__gte=0)
                & Q(land_area__gte=0)
                & Q(invested_to_date__gte=0)
                & Q(annual_output_value__gte=0)
                & Q(annual_tax__gte=0),
                name="%(app_label)s_%(class)s_figures_not_negative",
            ),
            # The size class always follows the total investment, whoever writes the row.
            models.CheckConstraint(
                condition=Q(
                    size_class=SizeClass.HUNDRED_MILLION, total_investment__gte=HUNDRED_MILLION
                )
                | Q(
                    size_class=SizeClass.TEN_MILLION,
                    total_investment__gte=TEN_MILLION,
                    total_investment__lt=HUNDRED_MILLION,
                )
                | Q(size_class=SizeClass.SMALL, total_investment__lt=TEN_MILLION),
                name="%(app_label)s_%(class)s_size_class_matches_investment",
            ),
            # Actual dates in stage order.
            models.CheckConstraint(
                condition=(
                    Q(groundbreaking_actual__isnull=True)
                    | Q(groundbreaking_actual__gte=F("contract_date"))
                )
                & (
                    Q(completed_actual__isnull=True)
                    | Q(completed_actual__gte=F("groundbreaking_actual"))
                )
                & (
                    Q(producing_actual__isnull=True)
                    | Q(producing_actual__gte=F("completed_actual"))
                ),
                name="%(app_label)s_%(class)s_actual_dates_in_stage_order",
            ),
            models.CheckConstraint(
                condition=(
                    Q(completed_planned__isnull=True)
                    | Q(groundbreaking_planned__isnull=True)
                    | Q(completed_planned__gte=F("groundbreaking_planned"))
                )
                & (
                    Q(producing_planned__isnull=True)
                    | Q(completed_planned__isnull=True)
                    | Q(producing_planned__gte=F("completed_planned"))
                ),
                name="%(app_label)s_%(class)s_planned_dates_in_stage_order",
            ),
            # The milestones after signing happen on or after the signing; 入规 only once in
            # the statistics (入统) and not before it.
            models.CheckConstraint(
                condition=(
                    Q(registered_actual__isnull=True) | Q(registered_actual__gte=F("contract_date"))
                )
                & (
                    Q(land_granted_actual__isnull=True)
                    | Q(land_granted_actual__gte=F("contract_date"))
                )
                & (
                    Q(in_statistics_actual__isnull=True)
                    | Q(in_statistics_actual__gte=F("contract_date"))
                )
                & (
                    Q(above_size_actual__isnull=True)
                    # Spelled out: a comparison with a NULL 入统 would pass a CHECK.
                    | Q(
                        in_statistics_actual__isnull=False,
                        above_size_actual__gte=F("in_statistics_actual"),
                    )
                ),
                name="%(app_label)s_%(class)s_milestones_after_signing",
            ),
            models.CheckConstraint(
                condition=Q(above_size_planned__isnull=True)
                | Q(in_statistics_planned__isnull=True)
                | Q(above_size_planned__gte=F("in_statistics_planned")),
                name="%(app_label)s_%(class)s_planned_above_size_after_statistics",
            ),
            # 注册 is recorded with the company's credit code, and a code only with 注册.
            models.CheckConstraint(
                condition=Q(registered_actual__isnull=True, company_credit_code="")
                | (
                    Q(registered_actual__isnull=False)
                    & Q(company_credit_code__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$")
                ),
                name="%(app_label)s_%(class)s_registered_with_credit_code",
            ),
            # The stage and the actual dates tell the same story.
            models.CheckConstraint(
                condition=Q(
                    stage=Stage.SIGNED,
                    groundbreaking_actual__isnull=True,
                    completed_actual__isnull=True,
                    producing_actual__isnull=True,
                )
                | Q(
                    stage=Stage.GROUNDBREAKING,
                    groundbreaking_actual__isnull=False,
                    completed_actual__isnull=True,
                    producing_actual__isnull=True,
                )
                | Q(
                    stage=Stage.COMPLETED,
                    groundbreaking_actual__isnull=False,
                    completed_actual__isnull=False,
                    producing_actual__isnull=True,
                )
                | Q(
                    stage=Stage.PRODUCING,
                    groundbreaking_actual__isnull=False,
                    completed_actual__isnull=False,
                    producing_actual__isnull=False,
                ),
                name="%(app_label)s_%(class)s_stage_matches_actual_dates",
            ),
        ]
        indexes = [
            # Project lists and board scoped to a unit sub-tree, by stage.
            models.Index(fields=["unit", "stage"], name="projects_project_unit_stage"),
            # New signings per period (dashboard, bulletin).
            models.Index(fields=["contract_date"], name="projects_project_contract"),
            # New groundbreakings per period.
            models.Index(fields=["groundbreaking_actual"], name="projects_project_gb_actual"),
            # The same within a unit's sub-tree, with what the groundbreakings' total sums: the
            # cockpit reads a unit's projects from the index alone (also their ids, for the
            # agreements' figures), not the whole table.
            models.Index(
                fields=["unit", "groundbreaking_actual"],
                include=["signed_investment", "id"],
                name="projects_project_unit_gb",
            ),
            # New 入统 / 新入规 per period (cockpit, bulletin: period_figures).
            models.Index(fields=["in_statistics_actual"], name="projects_project_stats_actual"),
            models.Index(fields=["above_size_actual"], name="projects_project_above_actual"),
            # >= 10M / >= 100M classes under construction.
            models.Index(fields=["size_class", "stage"], name="projects_project_size_stage"),
            # The board: the newest projects of each stage, read in order (issue #19).
            models.Index(fields=["stage", "-contract_date", "-id"], name="projects_project_board"),
            # The most overdue milestones first (the cockpit's 节点逾期 list), any scope.
            models.Index(next_milestone_due(), F("id"), name="projects_project_next_due"),
            # The search box (docs/search.md).
            GinIndex(
                fields=["search_text"],
                opclasses=["gin_trgm_ops"],
                name="projects_project_search_trgm",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.size_class = size_class_for(self.total_investment or Decimal("0"))
        self.search_text = search_text(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "total_investment" in update_fields:
            kwargs["update_fields"] = set(update_fields) | {"size_class"}
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_text"}
        super().save(*args, **kwargs)

    def can_transition_to(self, stage: str) -> bool:
        return stage_can_transition(self.stage, stage)

    @property
    def completion_rate(self) -> Decimal | None:
        """投资完成率: investment completed to date over total investment."""
        return completion_rate_of(self.invested_to_date, self.total_investment)

    def planned_date(self, stage: str):
        return planned_date_in(lambda name: getattr(self, name, None), stage)

    def actual_date(self, stage: str):
        return actual_date_in(lambda name: getattr(self, name), stage)

    def milestone_planned(self, milestone: str) -> date | None:
        return getattr(self, f"{Milestone(milestone)}_planned")

    def milestone_actual(self, milestone: str) -> date | None:
        return getattr(self, f"{Milestone(milestone)}_actual")


class ProjectStageEvent(TrailEvent):
    """Stage event (阶段变更记录): a project moved to its next stage on an actual date."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="stage_events"
    )
    from_stage = models.CharField(_("原阶段"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("新阶段"), max_length=20, choices=Stage.choices)
    actual_date = models.DateField(_("实际日期"))
    note = models.TextField(_("说明"), blank=True)

    class Meta(TrailEvent.Meta):
        verbose_name = _("阶段变更记录")
        verbose_name_plural = _("阶段变更记录")

    def __str__(self) -> str:
        return f"{self.project}: {self.from_stage or '∅'} → {self.to_stage}"


class EvidenceKind(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("营业执照")
    CONSTRUCTION_PERMIT = "construction_permit", _("施工许可证")
    GROUNDBREAKING_REPORT = "groundbreaking_report", _("开工报告")
    LAND_CONTRACT = "land_contract", _("土地出让合同")
    ACCEPTANCE = "acceptance", _("竣工验收材料")
    PRODUCTION_PROOF = "production_proof", _("投产证明")
    PHOTO = "photo", _("现场照片")
    STATISTICS = "statistics", _("入统/入规证明")
    OTHER = "other", _("其他")


class StageEvidenceRule(models.Model):
    """Evidence rule (阶段佐证要求): a kind of document the bureau accepts for moving a project
    into ``stage`` — any one of a stage's active kinds will do; a stage without one needs none.

    Data, not code, because each bureau files its own papers (one takes a 开工报告 where another
    insists on the 施工许可证): chiefs and administrators edit the rows in the admin. A row is
    switched off (``active``), never deleted, so the rule a past change met stays on record.
    Read by projects.selectors.accepted_evidence_kinds, enforced by projects.services.project_advance;
    the defaults (开工 → 施工许可证 or 开工报告; 竣工 → 竣工验收; 投产 → 投产证明) come from a
    data migration (issue #15, finding 9).
    """

    stage = models.CharField(
        _("阶段"),
        max_length=20,
        choices=[(s.value, s.label) for s in Stage if s != Stage.SIGNED],
    )
    kind = models.CharField(_("认可的材料类型"), max_length=30, choices=EvidenceKind.choices)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("阶段佐证要求")
        verbose_name_plural = _("阶段佐证要求")
        ordering = ["stage", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "kind"], name="%(app_label)s_%(class)s_one_row_per_kind"
            ),
            # 签约 is recorded with the project itself (project_create / project_sign_lead).
            models.CheckConstraint(
                condition=~Q(stage=Stage.SIGNED), name="%(app_label)s_%(class)s_not_signing"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.get_kind_display()}"


class EvidenceFile(models.Model):
    """A file kept as evidence (佐证材料): checked at upload (promo.core.uploads), never edited."""

    kind = models.CharField(_("材料类型"), max_length=30, choices=EvidenceKind.choices)
    file = models.FileField(_("文件"), upload_to="evidence/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        abstract = True
        triggers = [APPEND_ONLY]

    def __str__(self) -> str:
        return self.original_name


class StageEvidence(EvidenceFile):
    """Evidence (佐证材料): a file attached to a stage change — licence, permit, land contract."""

    stage_event = models.ForeignKey(
        ProjectStageEvent,
        verbose_name=_("阶段变更"),
        on_delete=models.PROTECT,
        related_name="evidence",
    )

    class Meta(EvidenceFile.Meta):
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")


class MilestoneEvent(TrailEvent):
    """Milestone event (节点记录): 注册 / 供地 / 入统 / 入规 recorded, corrected or withdrawn.

    Append-only: a correction is a new row naming the date it replaced, so the trail shows
    every date a counted milestone ever had, who set it and why.
    """

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="milestone_events"
    )
    milestone = models.CharField(_("节点类型"), max_length=20, choices=Milestone.choices)
    action = models.CharField(_("动作"), max_length=20, choices=MilestoneAction.choices)
    # None when withdrawn (撤销).
    actual_date = models.DateField(_("实际日期"), null=True, blank=True)
    previous_date = models.DateField(_("原日期"), null=True, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta(TrailEvent.Meta):
        verbose_name = _("节点记录")
        verbose_name_plural = _("节点记录")
        constraints = [
            # A recording has a date and nothing before it; a correction replaces a date with
            # another and says why; a withdrawal removes a date and says why.
            models.CheckConstraint(
                condition=Q(
                    action=MilestoneAction.RECORDED,
                    actual_date__isnull=False,
                    previous_date__isnull=True,
                )
                | (
                    Q(
                        action=MilestoneAction.CORRECTED,
                        actual_date__isnull=False,
                        previous_date__isnull=False,
                    )
                    & ~Q(note="")
                )
                | (
                    Q(
                        action=MilestoneAction.WITHDRAWN,
                        actual_date__isnull=True,
                        previous_date__isnull=False,
                    )
                    & ~Q(note="")
                ),
                name="%(app_label)s_%(class)s_dates_match_action",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.get_milestone_display()} {self.get_action_display()}"


class MilestoneEvidence(EvidenceFile):
    """Evidence (佐证材料) of a milestone: business licence, land contract, statistics proof."""

    milestone_event = models.ForeignKey(
        MilestoneEvent,
        verbose_name=_("节点记录"),
        on_delete=models.PROTECT,
        related_name="evidence",
    )

    class Meta(EvidenceFile.Meta):
        verbose_name = _("节点佐证材料")
        verbose_name_plural = _("节点佐证材料")


class ProjectIncrement(models.Model):
    """Capital increase (增资): more investment in an existing project, counted as an increment, never a new project."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="increments"
    )
    increased_on = models.DateField(_("增资日期"))
    amount = models.DecimalField(_("增加投资(万元)"), max_digits=14, decimal_places=2)
    contracted_fdi = models.DecimalField(
        _("增加合同外资(万美元)"), max_digits=14, decimal_places=2, default=0
    )
    note = models.TextField(_("说明"), blank=True)
    # The 增资扩产 lead whose signing recorded this increase (None for one entered directly).
    lead = models.OneToOneField(
        "leads.Lead",
        verbose_name=_("增资扩产项目信息"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="increment",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("增资记录")
        verbose_name_plural = _("增资记录")
        ordering = ["-increased_on", "-id"]
        triggers = [APPEND_ONLY]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(contracted_fdi__gte=0),
                name="%(app_label)s_%(class)s_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} +{self.amount}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class InvestmentProgress(models.Model):
    """Monthly investment progress (月度投资进度): figures to date, reported once a month."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="progress"
    )
    month = models.DateField(_("月份"), help_text=_("当月第一天"))
    agreed_investment = models.DecimalField(_("协议投资(万元)"), **_MONEY)
    paid_in = models.DecimalField(_("实缴/到位资金(万元)"), **_MONEY)
    fixed_asset_investment = models.DecimalField(_("累计完成固定资产投资(万元)"), **_MONEY)
    arrived_fdi = models.DecimalField(_("累计到账外资(万美元)"), **_MONEY)
    note = models.TextField(_("说明"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("填报时间"), auto_now=True)

    class Meta:
        verbose_name = _("月度投资进度")
        verbose_name_plural = _("月度投资进度")
        ordering = ["project", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "month"], name="%(app_label)s_%(class)s_one_per_month"
            ),
            models.CheckConstraint(
                condition=Q(month__day=1), name="%(app_label)s_%(class)s_month_first_day"
            ),
            models.CheckConstraint(
                condition=Q(agreed_investment__gte=0)
                & Q(paid_in__gte=0)
                & Q(fixed_asset_investment__gte=0)
                & Q(arrived_fdi__gte=0),
                name="%(app_label)s_%(class)s_figures_not_negative",
            ),
        ]
        indexes = [
            # "period_figures: arrived FDI (到账外资) latest cumulative per project": the two
            # correlated look-ups per project become index-only scans.
            models.Index(
                fields=["project", "month"],
                include=["arrived_fdi"],
                name="projects_progress_fdi_by_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.month:%Y-%m}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Problem(SyncedModel):
    """Problem (项目问题/要素保障, 马上办): what blocks a project, owned by a unit until closed."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="problems"
    )
    kind = models.CharField(_("问题类型"), max_length=30, choices=ProblemKind.choices)
    title = models.CharField(_("问题"), max_length=200)
    description = models.TextField(_("详细情况"), blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="problems_raised",
    )
    raised_on = models.DateField(_("提出日期"))
    investor_contact = models.CharField(_("企业反映人"), max_length=100, blank=True)
    owner_unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("承办单位"),
        on_delete=models.PROTECT,
        related_name="problems_owned",
    )
    # 首问负责制: whoever was asked first stays responsible until the problem is closed.
    first_asked = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("首问责任人"),
        on_delete=models.PROTECT,
        related_name="problems_first_asked",
    )
    due_on = models.DateField(_("办结期限"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    # 两问终结制: an investor may ask twice; the second ask escalates the problem.
    ask_count = models.PositiveSmallIntegerField(_("催办次数"), default=1)
    second_asked_on = models.DateField(_("二次催办日期"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    # Whom the second ask escalated to (the owner unit's heads, or the chiefs): named on the
    # problem and its record, and the problem is theirs to see from then on.
    escalated_to = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("升级通知人"),
        blank=True,
        related_name="problems_escalated_to",
    )
    resolved_on = models.DateField(_("办结日期"), null=True, blank=True)
    resolution = models.TextField(_("办理结果"), blank=True)

    class Meta:
        verbose_name = _("项目问题")
        verbose_name_plural = _("项目问题")
        ordering = ["status", "due_on", "id"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(due_on__gte=F("raised_on")),
                name="%(app_label)s_%(class)s_due_after_raised",
            ),
            models.CheckConstraint(
                condition=Q(ask_count__in=[1, 2]), name="%(app_label)s_%(class)s_at_most_two_asks"
            ),
            models.CheckConstraint(
                condition=Q(ask_count=1, second_asked_on__isnull=True)
                | Q(ask_count=2, second_asked_on__isnull=False, escalated_at__isnull=False),
                name="%(app_label)s_%(class)s_second_ask_escalates",
            ),
            models.CheckConstraint(
                condition=~Q(status=ProblemStatus.RESOLVED)
                | (Q(resolved_on__isnull=False) & ~Q(resolution="")),
                name="%(app_label)s_%(class)s_resolution_required",
            ),
        ]
        indexes = [
            # Owner unit's open problems by due date (home page, alerts).
            models.Index(
                fields=["owner_unit", "status", "due_on"], name="projects_problem_owner_due"
            ),
            models.Index(fields=["first_asked", "status"], name="projects_problem_first_asked"),
        ]

    def __str__(self) -> str:
        return self.title

    def can_transition_to(self, status: str) -> bool:
        return problem_can_transition(self.status, status)


class ProblemAction(TrailEvent):
    """Problem event (问题办理记录): raised, taken up, asked again, resolved — who and when."""

    class Action(models.TextChoices):
        RAISED = "raised", _("登记")
        STARTED = "started", _("开始办理")
        ASKED_AGAIN = "asked_again", _("二次催办并升级")
        RESOLVED = "resolved", _("办结")

    problem = models.ForeignKey(
        Problem, verbose_name=_("问题"), on_delete=models.PROTECT, related_name="actions"
    )
    action = models.CharField(_("动作"), max_length=20, choices=Action.choices)
    from_status = models.CharField(max_length=20, choices=ProblemStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ProblemStatus.choices)
    note = models.TextField(_("说明"), blank=True)

    class Meta(TrailEvent.Meta):
        verbose_name = _("问题办理记录")
        verbose_name_plural = _("问题办理记录")

    def __str__(self) -> str:
        return f"{self.problem}: {self.get_action_display()}"


def progress_reported_between(start: date | None, end: date | None) -> Exists:
    """The project reported monthly progress (月度投资进度) for a month in ``[start, end]``.

    Progress is monthly, so a period takes in the month that holds its first day: the set of
    projects whose arrived FDI a period sums (promo.reports.selectors.period_figures), and
    the project list's 填报进度月份 filter behind the cockpit's arrived-FDI links.
    """
    months = InvestmentProgress.objects.filter(project_id=OuterRef("pk"))
    if start is not None:
        months = months.filter(month__gte=start.replace(day=1))
    if end is not None:
        months = months.filter(month__lte=end)
    return Exists(months)


def last_progress_month(end: date | None) -> Subquery:
    """The latest month the project reported progress for, up to ``end`` (NULL: none).

    One index probe answers :func:`progress_reported_between` for every period ending in
    ``end``'s month: the project reported a month in ``[start, end]`` exactly when this month
    is on or after ``start``'s month (``reported_since``). A page that counts several periods
    with one end probes once per project instead of once per period.
    """
    months = InvestmentProgress.objects.filter(project_id=OuterRef("pk"))
    if end is not None:
        months = months.filter(month__lte=end)
    return Subquery(months.order_by("-month").values("month")[:1])


def reported_since_month(start: date) -> date:
    """The month :func:`last_progress_month`'s value must reach for a report in ``[start,
    end]`` (a query compares with it: ``probe >= this``, NULL never)."""
    return start.replace(day=1)


def reported_since(last_month: date | None, start: date | None) -> bool:
    """Whether :func:`last_progress_month`'s value means a report in ``[start, end]``."""
    if last_month is None:
        return False
    return start is None or last_month >= reported_since_month(start)


def total_investment_as_of(day: date) -> Any:
    """总投资 as it stood on ``day``: the amount signed plus the capital increases (增资)
    dated on or before it.

    ``Project.total_investment`` carries every increase, so a December increase would rewrite
    a closed November: the reports' 新开工项目总投资 (promo.reports.selectors.period_figures)
    and the project list's 总投资截至 (``investment_as_of``, behind the cockpit's links) both
    read this one expression, so the list totals what the figure sums.
    """
    increased = (
        ProjectIncrement.objects.filter(project_id=OuterRef("pk"), increased_on__lte=day)
        .values("project_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money: models.DecimalField = models.DecimalField(max_digits=16, decimal_places=2)
    return F("signed_investment") + Coalesce(
        Subquery(increased, output_field=money), Decimal("0.00"), output_field=money
    )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ServiceVisit(SyncedModel):
    """Service visit (企业服务走访): an envoy's structured call on a producing enterprise.

    The answers are typed (yes/no, 万元, 1–5, a head count), not prose, so one enterprise's
    visits compare year over year; a problem raised goes to 马上办 (``problem``) and an
    expansion plan becomes a 增资扩产 lead (``expansion_lead``), both in the visit's transaction.
    """

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="service_visits"
    )
    visited_on = models.DateField(_("走访日期"))
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    has_expansion_plan = models.BooleanField(_("有增资扩产计划"), default=False)
    expansion_amount = models.DecimalField(_("计划增资(万元)"), **_MONEY)
    satisfaction = models.PositiveSmallIntegerField(_("满意度(1-5)"))
    employment = models.PositiveIntegerField(_("现有用工人数"))
    notes = models.TextField(_("走访情况"), blank=True)
    problem = models.OneToOneField(
        Problem,
        verbose_name=_("反映的问题"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_visit",
    )
    expansion_lead = models.OneToOneField(
        "leads.Lead",
        verbose_name=_("增资扩产项目信息"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expansion_visit",
    )

    class Meta:
        verbose_name = _("企业服务走访")
        verbose_name_plural = _("企业服务走访")
        ordering = ["-visited_on", "-id"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(satisfaction__gte=1, satisfaction__lte=5),
                name="%(app_label)s_%(class)s_satisfaction_1_to_5",
            ),
            # An amount exactly when there is a plan; a plan without a lead cannot be.
            models.CheckConstraint(
                condition=Q(has_expansion_plan=True, expansion_amount__gt=0)
                | Q(has_expansion_plan=False, expansion_amount=0, expansion_lead__isnull=True),
                name="%(app_label)s_%(class)s_amount_with_plan",
            ),
        ]
        indexes = [
            # The rhythm: each project's latest visit (home page, overdue list); the year list.
            models.Index(fields=["project", "-visited_on"], name="projects_servicevisit_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.visited_on}"
