"""Choices of the leads app, with the lead status transition table beside its status."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InvestorKind(models.TextChoices):
    COMPANY = "company", _("企业")
    PERSON = "person", _("个人")


class SourceChannel(models.TextChoices):
    INVESTOR_REFERRAL = "investor_referral", _("以商引商")
    INTERMEDIARY = "intermediary", _("中介招商")
    STATIONED = "stationed", _("驻点招商")
    EVENT = "event", _("展会活动")
    DEPARTMENT = "department", _("部门提供")
    RESEARCH = "research", _("科技招商")
    OTHER = "other", _("其他")


class ChainRole(models.TextChoices):
    BUILD = "build", _("建链")
    FILL = "fill", _("补链")
    STRENGTHEN = "strengthen", _("强链")
    NONE = "none", _("其他")


class LeadStatus(models.TextChoices):
    INFORMATION = "information", _("信息")
    VALID = "valid", _("有效")
    NEGOTIATING = "negotiating", _("在谈")
    SIGNED = "signed", _("签约")
    DROPPED = "dropped", _("放弃")
    REJECTED = "rejected", _("否决")


# The lead lifecycle in one glance. No skipping: information -> valid -> negotiating ->
# signed; any open status may be dropped (with a reason) or rejected (with a screening
# reason). Signed, dropped and rejected are terminal: they have no way out.
LEAD_TRANSITIONS: dict[str, frozenset[str]] = {
    LeadStatus.INFORMATION: frozenset({LeadStatus.VALID, LeadStatus.DROPPED, LeadStatus.REJECTED}),
    LeadStatus.VALID: frozenset({LeadStatus.NEGOTIATING, LeadStatus.DROPPED, LeadStatus.REJECTED}),
    LeadStatus.NEGOTIATING: frozenset({LeadStatus.SIGNED, LeadStatus.DROPPED, LeadStatus.REJECTED}),
    LeadStatus.SIGNED: frozenset(),
    LeadStatus.DROPPED: frozenset(),
    LeadStatus.REJECTED: frozenset(),
}

OPEN_LEAD_STATUSES = frozenset(s for s, targets in LEAD_TRANSITIONS.items() if targets)
# Leads that count as "in hand" (在手信息): anything open past mere information.
IN_HAND_STATUSES = frozenset({LeadStatus.VALID, LeadStatus.NEGOTIATING})


def lead_can_transition(from_status: str, to_status: str) -> bool:
    return to_status in LEAD_TRANSITIONS.get(from_status, frozenset())


class RejectReason(models.TextChoices):
    """Screening red lines (否决) named in the seeds."""

    EIA_SAFETY = "eia_safety", _("环评安评不过关")
    INDUSTRIAL_POLICY = "industrial_policy", _("不符合国家产业政策")
    LOW_LEVEL_DUPLICATE = "low_level_duplicate", _("低水平重复建设")
    LAND_GRAB = "land_grab", _("跑马圈地")
    OTHER = "other", _("其他红线")


class VisitKind(models.TextChoices):
    VISIT = "visit", _("外出拜访")
    RECEPTION = "reception", _("接待来访")
    INSPECTION = "inspection", _("实地考察")
    NEGOTIATION = "negotiation", _("洽谈")
    CALL = "call", _("电话/视频")
    EVENT = "event", _("推介活动")


# 来区客商: investors who came to the district, received or inspecting (the reports' figure and
# the visiting-investor list count the same kinds).
VISITING_KINDS = (VisitKind.RECEPTION, VisitKind.INSPECTION)


class IntermediaryKind(models.TextChoices):
    PERSON = "person", _("个人")
    AGENCY = "agency", _("中介机构")
    CHAMBER = "chamber", _("商会协会")
    INVESTOR = "investor", _("已落户客商")


class RewardStatus(models.TextChoices):
    PROPOSED = "proposed", _("拟奖励")
    APPROVED = "approved", _("已批准")
    PAID = "paid", _("已兑现")


# The reward lifecycle: proposed -> approved -> paid, no skipping; paid is terminal. Approving
# and paying are decided by a chief or the head of the project's unit, never by the officer
# who proposed the reward (leads.services.intermediary_reward_transition).
REWARD_TRANSITIONS: dict[str, frozenset[str]] = {
    RewardStatus.PROPOSED: frozenset({RewardStatus.APPROVED}),
    RewardStatus.APPROVED: frozenset({RewardStatus.PAID}),
    RewardStatus.PAID: frozenset(),
}


def reward_can_transition(from_status: str, to_status: str) -> bool:
    return to_status in REWARD_TRANSITIONS.get(from_status, frozenset())


class ClaimStatus(models.TextChoices):
    OPEN = "open", _("待协调")
    RESOLVED = "resolved", _("已协调")
    WITHDRAWN = "withdrawn", _("已撤回")


class AssistRequestStatus(models.TextChoices):
    OPEN = "open", _("待审批")
    APPROVED = "approved", _("已同意")
    REFUSED = "refused", _("未同意")


class ClaimOutcome(models.TextChoices):
    """How two units settle who follows an investor (防撞单)."""

    TRANSFER = "transfer", _("移交申请单位主办")
    ASSIST = "assist", _("申请单位协办")
    SEPARATE = "separate", _("确属不同项目，各自跟进")
    REFUSE = "refuse", _("维持原单位，不予调整")


# Leads that came through someone who expects to hear back (中介人, or an investor already here
# who referred another): the enquiry clock's feedback-to-the-referrer step applies to them, and
# to any lead naming an intermediary.
REFERRAL_CHANNELS = (SourceChannel.INTERMEDIARY, SourceChannel.INVESTOR_REFERRAL)


class ClockStep(models.TextChoices):
    """The steps of the enquiry clock (办理时限), in the order they fall due.

    Each is met from the records, never by a tick box: the first visit logged on the lead
    (respond), the lead leaving 信息 (assess), a feedback recorded on the lead (referrer
    feedback), a visit logged in every period while negotiating (progress report). Days per
    step: settings ``PROMO_CLOCK_*_DAYS``, read through ``leads.selectors.clock_step_days``.
    """

    RESPOND = "respond", _("首次响应")
    ASSESS = "assess", _("研判")
    REFERRER_FEEDBACK = "referrer_feedback", _("反馈引荐人")
    PROGRESS_REPORT = "progress_report", _("在谈进展报告")


class ClockState(models.TextChoices):
    """Where one step of a lead's enquiry clock stands on a given day."""

    MET = "met", _("按时完成")
    MET_LATE = "met_late", _("逾期完成")
    DUE = "due", _("待办")
    OVERDUE = "overdue", _("已逾期")
    STOPPED = "stopped", _("未完成，项目信息已结束")
