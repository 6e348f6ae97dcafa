"""Choices of the agreements app (投资协议履约), with the incentive request's table beside them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgreementKind(models.TextChoices):
    MAIN = "main", _("主协议")
    SUPPLEMENT = "supplement", _("补充协议")


class ClawbackRule(models.TextChoices):
    """How much of a paid incentive is taken back when a condition is missed (written on the
    agreement): in proportion to the worst shortfall among the tranche's conditions, all of
    it, or nothing."""

    PRO_RATA = "pro_rata", _("按未达标比例追回")
    FULL = "full", _("全额追回")
    NONE = "none", _("不追回")


class Metric(models.TextChoices):
    """What an investor's commitment (投资方承诺) measures. Amounts are in 万元 like the rest."""

    TOTAL_INVESTMENT = "total_investment", _("总投资(万元)")
    FIXED_ASSET = "fixed_asset", _("固定资产投资(万元)")
    CAPITAL_PAID = "capital_paid", _("注册资本实缴(万元)")
    LAND = "land", _("用地(亩)")
    INTENSITY = "intensity", _("投资强度(万元/亩)")
    FULL_OUTPUT = "full_output", _("达产产值(万元)")
    ANNUAL_TAX = "annual_tax", _("年税收(万元)")
    TAX_PER_MU = "tax_per_mu", _("亩均税收(万元/亩)")
    JOBS = "jobs", _("用工人数")
    START_BY = "start_by", _("按期开工")
    COMPLETE_BY = "complete_by", _("按期竣工")
    PRODUCE_BY = "produce_by", _("按期投产")


# The date commitments are kept by the project's own actual dates (recorded with evidence by
# projects.services.project_advance), never by a measurement typed in here.
DATE_METRICS: dict[str, str] = {
    Metric.START_BY: "groundbreaking_actual",
    Metric.COMPLETE_BY: "completed_actual",
    Metric.PRODUCE_BY: "producing_actual",
}


class TermStatus(models.TextChoices):
    """A commitment's status, computed from its verified measurements (or the project's dates)
    and today's date; only 豁免 (waived) is recorded, with its reason."""

    PENDING = "pending", _("履约中")
    MET = "met", _("已履约")
    PARTLY_MET = "partly_met", _("部分履约")
    MISSED = "missed", _("未履约")
    WAIVED = "waived", _("已豁免")


# Statuses that count as a breach (违约) of the agreement.
BREACH_STATUSES = (TermStatus.PARTLY_MET, TermStatus.MISSED)


class PromiseKind(models.TextChoices):
    """The bureau's own commitments (政府承诺事项)."""

    INCENTIVE = "incentive", _("奖补资金")
    LAND_DELIVERY = "land_delivery", _("交付土地")
    APPROVAL = "approval", _("审批手续")
    INFRASTRUCTURE = "infrastructure", _("基础配套(三通一平)")
    OTHER = "other", _("其他")


class PromiseStatus(models.TextChoices):
    """A bureau promise's status, computed from its dates (delivered, due) and, for an incentive
    tranche, its payment state and conditions."""

    PENDING = "pending", _("未到期")
    KEPT = "kept", _("按期兑现")
    KEPT_LATE = "kept_late", _("逾期兑现")
    OVERDUE = "overdue", _("逾期未兑现")
    NOT_PAYABLE = "not_payable", _("条件未满足")
    WITHHELD = "withheld", _("暂缓兑现")
    CLAWED_BACK = "clawed_back", _("已追回")


class Payment(models.TextChoices):
    """An incentive tranche's payment state: moved only by an approved request."""

    UNPAID = "unpaid", _("未兑现")
    PAID = "paid", _("已兑现")
    WITHHELD = "withheld", _("暂缓兑现")
    CLAWED_BACK = "clawed_back", _("已追回")


class IncentiveAction(models.TextChoices):
    PAY = "pay", _("兑现")
    WITHHOLD = "withhold", _("暂缓兑现")
    CLAWBACK = "clawback", _("追回")


# From which payment state each action may be asked, and where an approval takes it.
ACTION_FROM: dict[str, frozenset[str]] = {
    IncentiveAction.PAY: frozenset({Payment.UNPAID, Payment.WITHHELD}),
    IncentiveAction.WITHHOLD: frozenset({Payment.UNPAID}),
    IncentiveAction.CLAWBACK: frozenset({Payment.PAID}),
}
ACTION_TO: dict[str, str] = {
    IncentiveAction.PAY: Payment.PAID,
    IncentiveAction.WITHHOLD: Payment.WITHHELD,
    IncentiveAction.CLAWBACK: Payment.CLAWED_BACK,
}


def action_allowed(payment: str, action: str) -> bool:
    return payment in ACTION_FROM.get(action, frozenset())


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


# What a log entry (AgreementLog.what) records, as the page names it.
LOG_LABELS = {
    "created": _("登记协议"),
    "term_added": _("添加投资方承诺"),
    "term_changed": _("修改投资方承诺"),
    "changed": _("修改协议"),
    "measured": _("录入实测值"),
    "verified": _("核实实测值"),
    "waived": _("豁免承诺"),
    "promise_added": _("添加政府承诺"),
    "delivered": _("政府承诺兑现"),
    "requested_pay": _("申请兑现奖补"),
    "requested_withhold": _("申请暂缓兑现"),
    "requested_clawback": _("申请追回奖补"),
    "approved_pay": _("批准兑现奖补"),
    "approved_withhold": _("批准暂缓兑现"),
    "approved_clawback": _("批准追回奖补"),
    "rejected_pay": _("驳回兑现申请"),
    "rejected_withhold": _("驳回暂缓申请"),
    "rejected_clawback": _("驳回追回申请"),
    "talk": _("约谈"),
}
