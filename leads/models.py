"""Investors, intermediaries, promotion events, leads and visits: the pipeline before signing."""

from __future__ import annotations

from typing import Any

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from promo.core.choices import Industry, Region
from promo.core.fields import BlindIndexField, EncryptedTextField
from promo.core.models import BlindIndexedModel, SyncedModel, TrailEvent

from .choices import (
    AssistRequestStatus,
    ChainRole,
    ClaimOutcome,
    ClaimStatus,
    IntermediaryKind,
    InvestorKind,
    LeadStatus,
    RejectReason,
    RewardStatus,
    SourceChannel,
    VisitKind,
)
from .normalize import core_name as core_name_of
from .normalize import normalize_credit_code, normalize_name, search_text
from .scope_triggers import (
    ATTENDANCE_TRIGGERS,
    INVESTOR_TRIGGERS,
    LEAD_TRIGGERS,
    VISIT_TRIGGERS,
)


# search_text is derived from the tracked names: not tracked itself, so refilling it writes no event.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["search_text"],
)
class Investor(SyncedModel):
    """Investor (客商/投资方): a company or person that may invest."""

    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    normalized_name = models.CharField(max_length=200, editable=False, db_index=True)
    normalized_name_en = models.CharField(max_length=200, editable=False, blank=True)
    # The normalised name without a leading place name: "苏州华鑫电子" ~ "华鑫电子".
    core_name = models.CharField(max_length=200, editable=False, default="", db_index=True)
    credit_code = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        blank=True,
        help_text=_("18 位代码；境外企业可不填。"),
    )
    # The search box's keys (name, pinyin, initials, English name, credit code), written on
    # every save from the fields above: leads.normalize.search_text, docs/search.md.
    search_text = models.TextField(editable=False, default="")
    kind = models.CharField(
        _("类型"), max_length=10, choices=InvestorKind.choices, default=InvestorKind.COMPANY
    )
    region = models.CharField(
        _("国别/地区"), max_length=20, choices=Region.choices, default=Region.DOMESTIC
    )
    province_or_country = models.CharField(_("省份/国家"), max_length=50, blank=True)
    city = models.CharField(_("城市"), max_length=50, blank=True)
    industry = models.CharField(_("行业"), max_length=20, choices=Industry.choices)
    is_fortune_global_500 = models.BooleanField(_("世界500强"), default=False)
    is_china_top_500 = models.BooleanField(_("中国500强/国内百强"), default=False)
    is_central_soe = models.BooleanField(_("央企"), default=False)
    is_listed = models.BooleanField(_("上市公司"), default=False)
    website = models.URLField(_("网站"), blank=True)
    notes = models.TextField(_("备注"), blank=True)
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("登记单位"),
        on_delete=models.PROTECT,
        related_name="investors",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("客商")
        verbose_name_plural = _("客商")
        # docs/decisions/0012-scope-change-journal.md
        triggers = INVESTOR_TRIGGERS
        ordering = ["name"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="%(app_label)s_%(class)s_unique_credit_code",
            ),
            # The same normalised name with the same (or no) credit code is the same investor.
            models.UniqueConstraint(
                fields=["normalized_name", "credit_code"],
                name="%(app_label)s_%(class)s_unique_normalized_name_credit_code",
            ),
            models.CheckConstraint(
                condition=~Q(normalized_name=""), name="%(app_label)s_%(class)s_name_required"
            ),
        ]
        indexes = [
            # Duplicate check on the English name (investor_find_similar).
            models.Index(fields=["normalized_name_en"], name="leads_investor_norm_en"),
            # The search box: LIKE '%term%' on the keys, answered by trigrams (pg_trgm).
            GinIndex(
                fields=["search_text"],
                opclasses=["gin_trgm_ops"],
                name="leads_investor_search_trgm",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.normalized_name = normalize_name(self.name)
        self.normalized_name_en = normalize_name(self.name_en)
        self.core_name = core_name_of(self.normalized_name)
        self.credit_code = normalize_credit_code(self.credit_code)
        self.search_text = search_text(
            self.name, name_en=self.name_en, credit_code=self.credit_code
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            extra = {
                "normalized_name",
                "normalized_name_en",
                "core_name",
                "credit_code",
                "search_text",
            }
            kwargs["update_fields"] = set(update_fields) | extra
        super().save(*args, **kwargs)

    @property
    def flags(self) -> list[str]:
        labels = []
        for field in ("is_fortune_global_500", "is_china_top_500", "is_central_soe", "is_listed"):
            model_field = self._meta.get_field(field)
            if getattr(self, field) and isinstance(model_field, models.Field):
                labels.append(str(model_field.verbose_name))
        return labels


# The blind indexes are derived from the encrypted fields: not tracked (the history keeps the
# ciphertext, as the table does).
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["phone_index", "email_index", "wechat_index"],
)
class InvestorContact(BlindIndexedModel):
    """Contact (联系人) at an investor."""

    investor = models.ForeignKey(
        Investor, verbose_name=_("客商"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    # Personal data (issue #16): encrypted at rest, masked when shown (promo/core/masking.py).
    phone = EncryptedTextField(_("电话"), max_length=40, blank=True)
    email = EncryptedTextField(_("邮箱"), max_length=254, blank=True, email=True)
    wechat = EncryptedTextField(_("微信"), max_length=50, blank=True)
    # Duplicates by phone number or e-mail (contacts_matching) and the admin's search.
    phone_index = BlindIndexField(source="phone", kind="phone", db_index=True)
    email_index = BlindIndexField(source="email", kind="email", db_index=True)
    wechat_index = BlindIndexField(source="wechat", kind="wechat")
    note = models.TextField(_("备注"), blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    # Removed from the page (leads.services.contact_remove), never deleted: the history keeps
    # who it was and the rows of every change.
    is_archived = models.BooleanField(_("已移除"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("客商联系人")
        verbose_name_plural = _("客商联系人")
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.investor})"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["phone_index", "email_index"],
)
class Intermediary(BlindIndexedModel, SyncedModel):
    """Intermediary (中介人/招商顾问): whoever introduces investors; rewarded when they sign."""

    name = models.CharField(_("名称/姓名"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=IntermediaryKind.choices)
    organization = models.CharField(_("所在机构"), max_length=200, blank=True)
    # Personal data (issue #16): encrypted at rest, masked when shown.
    phone = EncryptedTextField(_("电话"), max_length=40, blank=True)
    email = EncryptedTextField(_("邮箱"), max_length=254, blank=True, email=True)
    phone_index = BlindIndexField(source="phone", kind="phone", db_index=True)
    email_index = BlindIndexField(source="email", kind="email", db_index=True)
    notes = models.TextField(_("备注"), blank=True)
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("登记单位"),
        on_delete=models.PROTECT,
        related_name="intermediaries",
    )

    class Meta:
        verbose_name = _("中介人")
        verbose_name_plural = _("中介人")
        ordering = ["name"]
        constraints = [*SyncedModel.Meta.constraints]

    def __str__(self) -> str:
        return self.name


class Introduction(models.Model):
    """Introduction (引荐): an intermediary introduced an investor, possibly for one lead."""

    intermediary = models.ForeignKey(
        Intermediary,
        verbose_name=_("中介人"),
        on_delete=models.PROTECT,
        related_name="introductions",
    )
    investor = models.ForeignKey(
        Investor, verbose_name=_("客商"), on_delete=models.PROTECT, related_name="introductions"
    )
    lead = models.ForeignKey(
        "Lead",
        verbose_name=_("项目信息"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="introductions",
    )
    introduced_on = models.DateField(_("引荐日期"))
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("引荐记录")
        verbose_name_plural = _("引荐记录")
        ordering = ["-introduced_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["intermediary", "investor"],
                name="%(app_label)s_%(class)s_unique_intermediary_investor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.intermediary} → {self.investor}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class IntermediaryReward(models.Model):
    """Reward (中介奖励): what the bureau pays an intermediary for a signed project."""

    intermediary = models.ForeignKey(
        Intermediary, verbose_name=_("中介人"), on_delete=models.PROTECT, related_name="rewards"
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("项目"),
        on_delete=models.PROTECT,
        related_name="intermediary_rewards",
    )
    amount = models.DecimalField(_("奖励金额(万元)"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("状态"), max_length=20, choices=RewardStatus.choices, default=RewardStatus.PROPOSED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_on = models.DateField(_("审批日期"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    # Who proposed it may not approve or pay it; empty on rewards entered before it was kept.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提议人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("中介奖励")
        verbose_name_plural = _("中介奖励")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="%(app_label)s_%(class)s_amount_not_negative"
            ),
            models.UniqueConstraint(
                fields=["intermediary", "project"],
                name="%(app_label)s_%(class)s_one_reward_per_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.intermediary} · {self.project} · {self.amount}"

    def can_transition_to(self, status: str) -> bool:
        from .choices import reward_can_transition

        return reward_can_transition(self.status, status)


class IntermediaryRewardStatusEvent(TrailEvent):
    """Reward status event (中介奖励状态记录): who proposed, approved or paid a reward, and why."""

    reward = models.ForeignKey(
        IntermediaryReward,
        verbose_name=_("中介奖励"),
        on_delete=models.PROTECT,
        related_name="status_events",
    )
    from_status = models.CharField(
        _("原状态"), max_length=20, choices=RewardStatus.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=20, choices=RewardStatus.choices)
    reason = models.TextField(_("原因"), blank=True)

    class Meta(TrailEvent.Meta):
        verbose_name = _("中介奖励状态记录")
        verbose_name_plural = _("中介奖励状态记录")

    def __str__(self) -> str:
        return f"{self.reward}: {self.from_status or '∅'} → {self.to_status}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PromotionEvent(SyncedModel):
    """Promotion event (招商活动/推介会): where investors are met and leads are born."""

    name = models.CharField(_("活动名称"), max_length=200)
    city = models.CharField(_("举办城市"), max_length=50)
    venue = models.CharField(_("地点"), max_length=200, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    organizer = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("主办单位"),
        on_delete=models.PROTECT,
        related_name="promotion_events",
    )
    investors = models.ManyToManyField(
        Investor, verbose_name=_("洽谈客商"), blank=True, related_name="promotion_events"
    )
    description = models.TextField(_("活动概况"), blank=True)

    class Meta:
        verbose_name = _("招商活动")
        verbose_name_plural = _("招商活动")
        ordering = ["-starts_on"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["search_text"],
)
class Lead(SyncedModel):
    """Lead (项目信息): a possible investment, before signing."""

    name = models.CharField(_("项目名称"), max_length=200)
    # The search box's keys of the name (Investor.search_text, docs/search.md), on every save.
    search_text = models.TextField(editable=False, default="")
    investor = models.ForeignKey(
        Investor, verbose_name=_("投资方"), on_delete=models.PROTECT, related_name="leads"
    )
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        related_name="leads",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("信息提供人"),
        on_delete=models.PROTECT,
        related_name="leads_created",
    )
    industry = models.CharField(_("行业"), max_length=20, choices=Industry.choices)
    chain_role = models.CharField(
        _("产业链定位"), max_length=20, choices=ChainRole.choices, default=ChainRole.NONE
    )
    estimated_amount = models.DecimalField(
        _("预计总投资(万元)"), max_digits=14, decimal_places=2, default=0
    )
    estimated_fdi = models.DecimalField(
        _("预计外资(万美元)"), max_digits=14, decimal_places=2, default=0
    )
    source_channel = models.CharField(_("信息来源"), max_length=20, choices=SourceChannel.choices)
    intermediary = models.ForeignKey(
        Intermediary,
        verbose_name=_("中介人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    event = models.ForeignKey(
        PromotionEvent,
        verbose_name=_("来源活动"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    description = models.TextField(_("项目概况"), blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.INFORMATION
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    drop_reason = models.TextField(_("放弃原因"), blank=True)
    reject_reason = models.CharField(
        _("否决原因"), max_length=30, choices=RejectReason.choices, blank=True
    )
    # Milestone dates of the lifecycle, written only by leads.services.lead_transition.
    qualified_on = models.DateField(_("确认有效日期"), null=True, blank=True)
    negotiating_on = models.DateField(_("进入洽谈日期"), null=True, blank=True)
    signed_on = models.DateField(_("签约日期"), null=True, blank=True)
    closed_on = models.DateField(_("放弃/否决日期"), null=True, blank=True)
    first_contact_on = models.DateField(_("首次接触日期"), null=True, blank=True)
    first_inspection_on = models.DateField(_("首次实地考察日期"), null=True, blank=True)
    last_activity_on = models.DateField(_("最近跟进日期"), null=True, blank=True)
    # A second open lead of the same unit on the same investor, registered knowingly beside
    # the one named here (docs/decisions/0013-same-unit-duplicate-leads.md).
    # 增资扩产: an existing enterprise's expansion, raised on a service visit. Signing it records a
    # capital increase on the enterprise's project (projects.services.project_sign_lead), never a
    # new project, so it is never counted as a new signing.
    is_expansion = models.BooleanField(_("增资扩产"), default=False)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("确认登记时本单位已有的项目信息"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="confirmed_beside",
    )

    class Meta:
        verbose_name = _("项目信息")
        verbose_name_plural = _("项目信息")
        # docs/decisions/0012-scope-change-journal.md
        triggers = LEAD_TRIGGERS
        ordering = ["-created_at", "-id"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(estimated_amount__gte=0) & Q(estimated_fdi__gte=0),
                name="%(app_label)s_%(class)s_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.DROPPED) | ~Q(drop_reason=""),
                name="%(app_label)s_%(class)s_drop_reason_required",
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.REJECTED) | ~Q(reject_reason=""),
                name="%(app_label)s_%(class)s_reject_reason_required",
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.SIGNED) | Q(signed_on__isnull=False),
                name="%(app_label)s_%(class)s_signed_date_required",
            ),
            models.CheckConstraint(
                condition=Q(status__in=LeadStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            # Lifecycle dates in order: valid, then negotiating, then signed or closed.
            models.CheckConstraint(
                condition=(
                    Q(negotiating_on__isnull=True)
                    | Q(qualified_on__isnull=True)
                    | Q(negotiating_on__gte=F("qualified_on"))
                )
                & (
                    Q(signed_on__isnull=True)
                    | Q(negotiating_on__isnull=True)
                    | Q(signed_on__gte=F("negotiating_on"))
                )
                & (
                    Q(closed_on__isnull=True)
                    | (
                        (Q(qualified_on__isnull=True) | Q(closed_on__gte=F("qualified_on")))
                        & (Q(negotiating_on__isnull=True) | Q(closed_on__gte=F("negotiating_on")))
                    )
                ),
                name="%(app_label)s_%(class)s_status_dates_in_order",
            ),
        ]
        indexes = [
            # Lead lists scoped to a unit sub-tree and filtered by status.
            models.Index(fields=["unit", "status"], name="leads_lead_unit_status"),
            # The cockpit's stocks (在手信息, 在谈项目 at a period's end) and its funnel (the
            # leads that entered a stage in the period) read every lead of the units asked
            # for: this narrow index holds every column their rules read, so they are counted
            # by an index-only scan instead of reading the wide rows (one unit's funnel at
            # province scale: 67 -> 7 ms, its leads scattered over 25,000 heap pages).
            models.Index(
                fields=["unit"],
                include=[
                    "id",
                    "status",
                    "created_at",
                    "qualified_on",
                    "negotiating_on",
                    "signed_on",
                    "closed_on",
                ],
                name="leads_lead_unit_dates",
            ),
            # The cockpit's time to signing (签约周期): the leads signed in a period with the
            # dates it measures from, read from the index alone (77 -> 21 ms for a year at
            # province scale, where the table was scanned for its 12 % signed that year).
            models.Index(
                fields=["signed_on"],
                include=["id", "unit", "first_contact_on", "first_inspection_on"],
                condition=models.Q(signed_on__isnull=False),
                name="leads_lead_signed_timing",
            ),
            # Stale-lead filter and alerts: open leads ordered by last follow-up.
            models.Index(fields=["status", "last_activity_on"], name="leads_lead_status_activity"),
            # Claim protection: active leads of one investor.
            models.Index(fields=["investor", "status"], name="leads_lead_investor_status"),
            # "Lead list: ?status= ordered by -created": the page of 20 read backwards off
            # the index (the unit sub-tree is a filter), no sort of every matching lead.
            models.Index(
                fields=["status", "created_at", "id"], name="leads_lead_list_status_created"
            ),
            # "Lead list: no status filter, ordered by -created" (the default list).
            models.Index(fields=["created_at", "id"], name="leads_lead_list_created"),
            # "API leads list: ?status= ordered by -id" (the cursor page and the next ones).
            models.Index(fields=["status", "id"], name="leads_lead_api_status_id"),
            # The search box (docs/search.md).
            GinIndex(
                fields=["search_text"], opclasses=["gin_trgm_ops"], name="leads_lead_search_trgm"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = search_text(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = set(update_fields) | {"search_text"}
        super().save(*args, **kwargs)

    def can_transition_to(self, status: str) -> bool:
        from .choices import lead_can_transition

        return lead_can_transition(self.status, status)

    @property
    def is_open(self) -> bool:
        from .choices import OPEN_LEAD_STATUSES

        return self.status in OPEN_LEAD_STATUSES


class LeadStatusEvent(TrailEvent):
    """Lead status event (状态变更记录): who moved a lead from which status to which, and why."""

    lead = models.ForeignKey(
        Lead, verbose_name=_("项目信息"), on_delete=models.PROTECT, related_name="status_events"
    )
    from_status = models.CharField(
        _("原状态"), max_length=20, choices=LeadStatus.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=20, choices=LeadStatus.choices)
    reason = models.TextField(_("原因"), blank=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta(TrailEvent.Meta):
        verbose_name = _("状态变更记录")
        verbose_name_plural = _("状态变更记录")

    def __str__(self) -> str:
        return f"{self.lead}: {self.from_status or '∅'} → {self.to_status}"


class ReferrerFeedback(TrailEvent):
    """Feedback to the referrer (反馈引荐人): an officer told whoever brought the lead how it stands.

    The enquiry clock's referrer-feedback step is met by the first of these (nothing else in
    the records says it happened). Append-only like every trail row: the day it counts from is
    the day it was recorded, never a date typed in.
    """

    lead = models.ForeignKey(
        Lead, verbose_name=_("项目信息"), on_delete=models.PROTECT, related_name="referrer_feedback"
    )
    note = models.TextField(_("反馈内容"))

    class Meta(TrailEvent.Meta):
        verbose_name = _("引荐人反馈记录")
        verbose_name_plural = _("引荐人反馈记录")
        constraints = [
            models.CheckConstraint(
                condition=~Q(note=""), name="%(app_label)s_%(class)s_note_required"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead}: {self.note[:30]}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Visit(SyncedModel):
    """Visit (拜访/接待/考察/洽谈): one contact with an investor, logged by an officer."""

    kind = models.CharField(_("类型"), max_length=20, choices=VisitKind.choices)
    visited_on = models.DateField(_("日期"))
    investor = models.ForeignKey(
        Investor, verbose_name=_("客商"), on_delete=models.PROTECT, related_name="visits"
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("推进的项目信息"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    event = models.ForeignKey(
        PromotionEvent,
        verbose_name=_("所属活动"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    unit = models.ForeignKey(
        "officers.Unit", verbose_name=_("登记单位"), on_delete=models.PROTECT, related_name="visits"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="visits_logged",
    )
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("参加人员"), related_name="visits"
    )
    city = models.CharField(_("城市"), max_length=50, blank=True)
    summary = models.TextField(_("洽谈内容"))
    next_step = models.CharField(_("下一步"), max_length=300, blank=True)
    next_step_due = models.DateField(_("下一步期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        # docs/decisions/0012-scope-change-journal.md
        triggers = VISIT_TRIGGERS
        ordering = ["-visited_on", "-id"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(next_step_due__isnull=True) | Q(next_step_due__gte=F("visited_on")),
                name="%(app_label)s_%(class)s_next_step_after_visit",
            ),
            models.CheckConstraint(
                condition=~Q(next_step_due__isnull=False) | ~Q(next_step=""),
                name="%(app_label)s_%(class)s_due_date_needs_next_step",
            ),
        ]
        indexes = [
            # Lead timeline and first-contact / first-inspection figures.
            models.Index(fields=["lead", "visited_on"], name="leads_visit_lead_date"),
            # "Investors visiting" counts per unit and period on the dashboard.
            models.Index(fields=["unit", "visited_on"], name="leads_visit_unit_date"),
            # Follow-ups due on an officer's home page.
            models.Index(fields=["created_by", "next_step_due"], name="leads_visit_due"),
            # The follow-ups of visits an officer attended: each attendance's visit looked up
            # among the visits with a next step (8 % of them at province), its due date read
            # from the index alone; a visit without one is not there to read.
            models.Index(
                fields=["id"],
                include=["next_step_due"],
                condition=models.Q(next_step_due__isnull=False),
                name="leads_visit_due_by_id",
            ),
            models.Index(fields=["investor", "visited_on"], name="leads_visit_investor_date"),
            # "API visits list: ?kind= ordered by -id" (the cursor page and the next ones).
            models.Index(fields=["kind", "id"], name="leads_visit_api_kind_id"),
            # "period_figures: investors visiting (来区客商)": receptions and inspections of a
            # period, read index-only (unit and investor included) instead of ~66k heap pages.
            models.Index(
                fields=["visited_on"],
                include=["unit", "investor"],
                condition=models.Q(kind__in=["reception", "inspection"]),
                name="leads_visit_visiting_by_date",
            ),
            # "Visit list (走访记录), newest first": the first page of the whole bureau's 2M
            # visits by (visited_on, id) read backwards instead of a top-N sort (~600 ms).
            models.Index(fields=["visited_on", "id"], name="leads_visit_list_date_id"),
        ]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.get_kind_display()} {self.investor}"


class VisitAttendance(Visit.officers.through):  # type: ignore[name-defined]
    """The officers present at a visit (参加人员), who see it: a proxy of the many-to-many
    table, so that its scope triggers can be installed (pgtrigger needs a model's Meta)."""

    class Meta:
        proxy = True
        # docs/decisions/0012-scope-change-journal.md
        triggers = ATTENDANCE_TRIGGERS


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class LeadClaim(models.Model):
    """Claim (撞单协调): another unit says it should follow an investor a unit already holds.

    Both units' heads record a decision; when they agree the outcome applies, and a chief
    may decide alone when they do not.
    """

    lead = models.ForeignKey(
        Lead, verbose_name=_("被申请的项目信息"), on_delete=models.PROTECT, related_name="claims"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="lead_claims",
    )
    claimant_unit = models.ForeignKey(
        "officers.Unit", verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+"
    )
    holder_unit = models.ForeignKey(
        "officers.Unit", verbose_name=_("原主办单位"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("申请理由"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.OPEN
    )
    holder_decision = models.CharField(
        _("原单位意见"), max_length=20, choices=ClaimOutcome.choices, blank=True
    )
    claimant_decision = models.CharField(
        _("申请单位意见"), max_length=20, choices=ClaimOutcome.choices, blank=True
    )
    outcome = models.CharField(
        _("协调结果"), max_length=20, choices=ClaimOutcome.choices, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最终决定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("协调时间"), null=True, blank=True)
    note = models.TextField(_("协调说明"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("撞单协调")
        verbose_name_plural = _("撞单协调")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(claimant_unit=F("holder_unit")),
                name="%(app_label)s_%(class)s_between_two_units",
            ),
            models.CheckConstraint(
                condition=Q(status=ClaimStatus.RESOLVED, decided_at__isnull=False) & ~Q(outcome="")
                | ~Q(status=ClaimStatus.RESOLVED) & Q(outcome=""),
                name="%(app_label)s_%(class)s_outcome_when_resolved",
            ),
            # One open claim per lead and claiming unit: repeated clicks do not pile up.
            models.UniqueConstraint(
                fields=["lead", "claimant_unit"],
                condition=Q(status=ClaimStatus.OPEN),
                name="%(app_label)s_%(class)s_one_open_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claimant_unit} → {self.lead}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class LeadAssistRequest(models.Model):
    """Request to join as 协办 (申请协办): an officer of another unit asks to work on a lead.

    The holding unit's head (or a 局领导) approves or refuses it; until then the requester
    gets nothing — not the lead, not its visits. The lead's 主办 at the time is named as
    ``notified`` and sees the request (the notice) until they have read it.
    """

    lead = models.ForeignKey(
        Lead, verbose_name=_("项目信息"), on_delete=models.PROTECT, related_name="assist_requests"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="assist_requests",
    )
    notified = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("通知主办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notice_read_at = models.DateTimeField(_("主办人已读时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=AssistRequestStatus.choices,
        default=AssistRequestStatus.OPEN,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("协办申请")
        verbose_name_plural = _("协办申请")
        ordering = ["-created_at"]
        constraints = [
            # Repeated clicks do not pile up: one open request per lead and officer.
            models.UniqueConstraint(
                fields=["lead", "requester"],
                condition=Q(status="open"),
                name="%(app_label)s_%(class)s_one_open_per_officer",
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True)
                | (~Q(status="open") & Q(decided_at__isnull=False)),
                name="%(app_label)s_%(class)s_decided_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.lead}"
