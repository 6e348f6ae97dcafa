"""Choices of the reports app: bulletin kinds, the publication table and the figures reported."""

import re
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leads.choices import LeadStatus, RejectReason
from officers.choices import TargetMetric
from projects.choices import Stage


class BulletinKind(models.TextChoices):
    MONTHLY = "monthly", _("月度通报")
    TEN_DAY = "ten_day", _("旬汇报")


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class RankTie(models.TextChoices):
    """What put a bulletin line in order among units with the same score (同分排序依据),
    tried in this order (promo.reports.services._ranks)."""

    SIGNED_AMOUNT = "signed_amount", _("同分，按本年累计新签约总投资排序")
    SIGNED_COUNT = "signed_count", _("同分、同签约额，按本年累计新签约项目个数排序")
    ORDER = "order", _("同分且签约额、个数相同，按单位排列顺序排序")


# A draft may be recomputed and published; a published bulletin is frozen (terminal): later
# corrections to its month appear as amendments beside it, never as a rewrite.
BULLETIN_TRANSITIONS: dict[str, frozenset[str]] = {
    BulletinStatus.DRAFT: frozenset({BulletinStatus.PUBLISHED}),
    BulletinStatus.PUBLISHED: frozenset(),
}


def bulletin_can_transition(from_status: str, to_status: str) -> bool:
    return to_status in BULLETIN_TRANSITIONS.get(from_status, frozenset())


class Figure(models.TextChoices):
    """The figures of one unit for one period, in the order the bulletin prints them."""

    LEADS_IN_HAND = "leads_in_hand", _("在手信息(条)")
    LEADS_NEGOTIATING = "leads_negotiating", _("在谈项目(个)")
    INVESTORS_VISITING = "investors_visiting", _("来区客商(家)")
    SIGNED_COUNT = "signed_count", _("新签约项目(个)")
    SIGNED_AMOUNT = "signed_amount", _("新签约总投资(万元)")
    TEN_MILLION_COUNT = "ten_million_count", _("千万元以上签约项目(个)")
    HUNDRED_MILLION_COUNT = "hundred_million_count", _("亿元以上签约项目(个)")
    GROUNDBREAKING_COUNT = "groundbreaking_count", _("新开工项目(个)")
    GROUNDBREAKING_AMOUNT = "groundbreaking_amount", _("新开工项目总投资(万元)")
    COMPLETED_COUNT = "completed_count", _("竣工项目(个)")
    PRODUCING_COUNT = "producing_count", _("新投产项目(个)")
    ARRIVED_FDI = "arrived_fdi", _("到账外资(万美元)")
    VALID_LEADS = "valid_leads", _("新增有效信息(条)")
    # The milestones after signing counted like the stages (projects.choices.Milestone).
    IN_STATISTICS_COUNT = "in_statistics_count", _("新入统企业(个)")
    ABOVE_SIZE_COUNT = "above_size_count", _("新入规企业(个)")


class CauseRecord(models.TextChoices):
    """The kind of record an amendment names as the cause of a changed figure."""

    LEAD = "lead", _("项目信息")
    VISIT = "visit", _("走访记录")
    PROJECT = "project", _("项目")


# Figures that are money (万元 / 万美元); the others are counts.
AMOUNT_FIGURES = frozenset({Figure.SIGNED_AMOUNT, Figure.GROUNDBREAKING_AMOUNT, Figure.ARRIVED_FDI})

# The bulletin table (XLSX and print): (figure, header group, sub-header) in print order;
# a group spans its sub-headers. Translated when printed (lazy), in the context "通报表头":
# the bare units (个, 条) mean something else elsewhere.
BULLETIN_COLUMNS: tuple[tuple[str, Any, Any], ...] = (
    (Figure.LEADS_IN_HAND, pgettext_lazy("通报表头", "在手信息"), pgettext_lazy("通报表头", "条")),
    (
        Figure.LEADS_NEGOTIATING,
        pgettext_lazy("通报表头", "在谈项目"),
        pgettext_lazy("通报表头", "个"),
    ),
    (
        Figure.INVESTORS_VISITING,
        pgettext_lazy("通报表头", "来区客商"),
        pgettext_lazy("通报表头", "家"),
    ),
    (
        Figure.SIGNED_COUNT,
        pgettext_lazy("通报表头", "新签约项目"),
        pgettext_lazy("通报表头", "个数"),
    ),
    (
        Figure.SIGNED_AMOUNT,
        pgettext_lazy("通报表头", "新签约项目"),
        pgettext_lazy("通报表头", "总投资(万元)"),
    ),
    (
        Figure.TEN_MILLION_COUNT,
        pgettext_lazy("通报表头", "新签约项目"),
        pgettext_lazy("通报表头", "千万元以上"),
    ),
    (
        Figure.HUNDRED_MILLION_COUNT,
        pgettext_lazy("通报表头", "新签约项目"),
        pgettext_lazy("通报表头", "亿元以上"),
    ),
    (
        Figure.GROUNDBREAKING_COUNT,
        pgettext_lazy("通报表头", "新开工项目"),
        pgettext_lazy("通报表头", "个数"),
    ),
    (
        Figure.GROUNDBREAKING_AMOUNT,
        pgettext_lazy("通报表头", "新开工项目"),
        pgettext_lazy("通报表头", "总投资(万元)"),
    ),
    (
        Figure.COMPLETED_COUNT,
        pgettext_lazy("通报表头", "竣工项目"),
        pgettext_lazy("通报表头", "个"),
    ),
    (
        Figure.PRODUCING_COUNT,
        pgettext_lazy("通报表头", "新投产项目"),
        pgettext_lazy("通报表头", "个"),
    ),
    (
        Figure.ARRIVED_FDI,
        pgettext_lazy("通报表头", "到账外资"),
        pgettext_lazy("通报表头", "万美元"),
    ),
    (
        Figure.VALID_LEADS,
        pgettext_lazy("通报表头", "新增有效信息"),
        pgettext_lazy("通报表头", "条"),
    ),
    (
        Figure.IN_STATISTICS_COUNT,
        pgettext_lazy("通报表头", "新入统企业"),
        pgettext_lazy("通报表头", "个"),
    ),
    (
        Figure.ABOVE_SIZE_COUNT,
        pgettext_lazy("通报表头", "新入规企业"),
        pgettext_lazy("通报表头", "个"),
    ),
)

# Which period figure, summed from 1 January, measures each annual target (目标任务).
TARGET_FIGURE: dict[str, str] = {
    TargetMetric.SIGNED_COUNT: Figure.SIGNED_COUNT,
    TargetMetric.SIGNED_AMOUNT: Figure.SIGNED_AMOUNT,
    TargetMetric.KEY_PROJECT_COUNT: Figure.HUNDRED_MILLION_COUNT,
    TargetMetric.GROUNDBREAKING_COUNT: Figure.GROUNDBREAKING_COUNT,
    TargetMetric.FDI_ARRIVED: Figure.ARRIVED_FDI,
    TargetMetric.VALID_LEAD_COUNT: Figure.VALID_LEADS,
}


class AlertRule(models.TextChoices):
    """The supervision rules (红黄灯督办) evaluated every day."""

    MILESTONE_OVERDUE = "milestone_overdue", _("节点逾期")
    NOT_STARTED = "not_started", _("签约未开工")
    NOT_PRODUCING = "not_producing", _("竣工未投产")
    LEAD_NO_FOLLOW_UP = "lead_no_follow_up", _("信息长期未跟进")
    NEGOTIATION_QUIET = "negotiation_quiet", _("在谈项目无进展")
    NO_VALID_LEAD = "no_valid_lead", _("本月未报送有效信息")
    PROBLEM_OVERDUE = "problem_overdue", _("问题逾期未办结")
    PROBLEM_ASKED_TWICE = "problem_asked_twice", _("问题二次催办")
    CLOCK_OVERDUE = "clock_overdue", _("办理时限逾期")
    AGREEMENT_AT_RISK = "agreement_at_risk", _("协议承诺临期未达")
    AGREEMENT_BREACH = "agreement_breach", _("投资方违约")
    PROMISE_OVERDUE = "promise_overdue", _("政府承诺逾期未兑现")
    SERVICE_VISIT_OVERDUE = "service_visit_overdue", _("服务走访逾期")


class AlertLevel(models.TextChoices):
    YELLOW = "yellow", _("黄灯")
    RED = "red", _("红灯")


class EscalationStep(models.IntegerChoices):
    """The escalation ladder (督办升级): responsible officer, then unit head, then the chief."""

    OFFICER = 1, _("蓝色提醒：责任人")
    UNIT_HEAD = 2, _("黄色督办：单位负责人")
    CHIEF = 3, _("红色督办：局领导")


class WebhookStyle(models.TextChoices):
    # 企业微信 and 钉钉 group robots both take {"msgtype": "text", "text": {"content": …}}.
    ROBOT_TEXT = "robot_text", _("企业微信/钉钉群机器人（文本）")
    JSON = "json", _("通用 JSON")


# The history records *why* a write was made (promo.core.audit.audited): either the words of
# the officer (a drop reason, a correction note) or the service's code. An amendment shows a
# code as words, never as the code itself.
_WHY_LABELS = {
    "lead_create": _("登记项目信息"),
    "lead_update": _("修改项目信息"),
    "lead_claim_decide": _("撞单裁定"),
    "visit_log": _("登记走访记录"),
    "visit_update": _("修改走访记录"),
    "assignment_add": _("调整主办/协办"),
    "assignment_remove": _("调整主办/协办"),
    "project_create": _("登记项目"),
    "project_sign_lead": _("项目信息签约转为项目"),
    "project_record_increment": _("登记增资"),
    "progress_record": _("填报月度投资进度"),
    "stage_evidence_attach": _("上传节点佐证材料"),
    "project_milestone_record": _("登记项目节点"),
    "milestone_evidence_attach": _("上传节点佐证材料"),
}
# A service's code: a lower-case name with "_" or ":" in it (an officer's words are not).
_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*(:\S*)?")


def why_label(why: str) -> str:
    """The history's *why* as words: an officer's own words as written, a service's code
    (``lead_transition:valid``, ``import:12:台账.xlsx``, ``admin:project_change``) as a label."""
    why = (why or "").strip()
    code, _sep, rest = why.partition(":")
    if code == "import" and rest:
        file_name = rest.partition(":")[2]
        return str(_("批量导入（%(file)s）") % {"file": file_name} if file_name else _("批量导入"))
    if not _CODE.fullmatch(why) or ("_" not in why and ":" not in why):
        return why
    if code in _WHY_LABELS:
        return str(_WHY_LABELS[code])
    if code == "lead_transition" and rest in LeadStatus.values:
        return str(_("状态变更为“%(status)s”") % {"status": LeadStatus(rest).label})
    if code == "lead_reject" and rest in RejectReason.values:
        return str(_("否决：%(reason)s") % {"reason": RejectReason(rest).label})
    if code == "project_advance" and rest in Stage.values:
        return str(_("推进至“%(stage)s”") % {"stage": Stage(rest).label})
    if code == "admin":
        return str(_("后台新增") if rest.endswith("_add") else _("后台修改"))
    return str(_("系统操作"))


class DailyJob(models.TextChoices):
    """The daily jobs the sweep runs once a day from their due time (promo/reports/schedule.py)."""

    AMENDMENTS = "amendments", _("月度台账更正")
    ALERTS = "alerts", _("红黄灯督办")


class DeliveryStatus(models.TextChoices):
    """An outbox row (an alert e-mail, a webhook post): waiting, sent, or given up."""

    PENDING = "pending", _("待发送")
    SENT = "sent", _("已送达")
    FAILED = "failed", _("已放弃")


# A pending delivery is sent or, past the retry horizon, given up; both are terminal.
DELIVERY_TRANSITIONS: dict[str, frozenset[str]] = {
    DeliveryStatus.PENDING: frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED}),
    DeliveryStatus.SENT: frozenset(),
    DeliveryStatus.FAILED: frozenset(),
}


def delivery_can_transition(from_status: str, to_status: str) -> bool:
    return to_status in DELIVERY_TRANSITIONS.get(from_status, frozenset())


class SystemNoticeKind(models.TextChoices):
    """What the system could not do for an officer, told in the bell (系统通知)."""

    WEBHOOK_FAILED = "webhook_failed", _("消息推送未送达")
    EMAIL_FAILED = "email_failed", _("通知邮件未送达")
    EXPORT_READY = "export_ready", _("导出文件已生成")
    SUMMARY_MISMATCH = "summary_mismatch", _("驾驶舱汇总与原始数据不符")
