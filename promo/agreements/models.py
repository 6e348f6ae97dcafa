"""Investment agreements (投资协议) and what both sides promised in them.

An agreement belongs to a project; its **terms** are the investor's commitments (money, land,
output, tax, jobs, dates), each with a target and a due date, kept by **measurements** a second
person verifies; its **promises** are the bureau's own (incentive tranches, land, approvals,
infrastructure), each owned by a unit. An incentive tranche is paid, withheld or clawed back
only through a **request** another person approves. Every step writes an **log entry**.

Statuses are computed (``selectors.term_status`` / ``promise_status``) from the rows and today's
date, so a commitment becomes 未履约 the day after it falls due without a job to run; only what
a person decides (a waiver, a payment) is stored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from promo.core.models import SyncedModel, TrailEvent

from .choices import (
    AgreementKind,
    ClawbackRule,
    IncentiveAction,
    Metric,
    Payment,
    PromiseKind,
    RequestStatus,
)

_MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Agreement(SyncedModel):
    """投资协议: the main agreement or a supplement, signed for a project."""

    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("项目"),
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    kind = models.CharField(
        _("协议类型"), max_length=20, choices=AgreementKind.choices, default=AgreementKind.MAIN
    )
    title = models.CharField(_("协议名称"), max_length=200)
    signed_on = models.DateField(_("签订日期"))
    parties = models.TextField(_("签约各方"), blank=True)
    clawback_rule = models.CharField(
        _("追回规则"), max_length=20, choices=ClawbackRule.choices, default=ClawbackRule.PRO_RATA
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("投资协议")
        verbose_name_plural = _("投资协议")
        ordering = ["-signed_on", "-id"]
        constraints = [*SyncedModel.Meta.constraints]
        indexes = [
            # A project's agreements (the project page, the agreement list's join), and its
            # first one (the 签约年度 cohort: read by the index, no sort, per agreement).
            models.Index(fields=["project", "signed_on", "id"], name="agreements_agreement_first"),
            # The agreement list, newest first: its page read through the index, not a sort.
            models.Index(fields=["-signed_on", "-id"], name="agreements_agreement_newest"),
        ]

    def __str__(self) -> str:
        return self.title


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Term(SyncedModel):
    """投资方承诺: one measurable commitment of the investor, with its target and due date."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("协议"), on_delete=models.PROTECT, related_name="terms"
    )
    metric = models.CharField(_("承诺事项"), max_length=20, choices=Metric.choices)
    target = models.DecimalField(_("承诺值"), **_MONEY, default=Decimal("0"))
    due_on = models.DateField(_("承诺期限"))
    waived_reason = models.TextField(_("豁免理由"), blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("豁免批准人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    waived_at = models.DateTimeField(_("豁免时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投资方承诺")
        verbose_name_plural = _("投资方承诺")
        ordering = ["due_on", "id"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(target__gte=0), name="%(app_label)s_%(class)s_target_not_negative"
            ),
            # A waiver names its reason and who granted it, or there is none.
            models.CheckConstraint(
                condition=Q(waived_by__isnull=True, waived_reason="", waived_at__isnull=True)
                | (Q(waived_by__isnull=False, waived_at__isnull=False) & ~Q(waived_reason="")),
                name="%(app_label)s_%(class)s_waiver_has_reason",
            ),
        ]
        indexes = [
            # Terms falling due (the cockpit's 履约率, the agreement list's status filters).
            models.Index(fields=["due_on"], name="agreements_term_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} ≥ {self.target} ({self.due_on})"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Measurement(models.Model):
    """实测值: a value of a commitment measured on a date, counted once another person verified it."""

    term = models.ForeignKey(
        Term, verbose_name=_("承诺"), on_delete=models.PROTECT, related_name="measurements"
    )
    measured_on = models.DateField(_("测定日期"))
    value = models.DecimalField(_("实测值"), **_MONEY)
    source = models.CharField(_("数据来源"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("填报时间"), auto_now_add=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("履约实测值")
        verbose_name_plural = _("履约实测值")
        ordering = ["measured_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0), name="%(app_label)s_%(class)s_value_not_negative"
            ),
            # Nobody verifies their own figure.
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=F("recorded_by")),
                name="%(app_label)s_%(class)s_verified_by_another",
            ),
        ]
        indexes = [
            # A term's latest verified value (selectors.term_status).
            models.Index(
                fields=["term", "-measured_on", "-id"],
                condition=Q(verified_at__isnull=False),
                name="agreements_measurement_latest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term_id}: {self.value} ({self.measured_on})"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Promise(SyncedModel):
    """政府承诺事项: what the bureau promised — an incentive tranche, land, an approval —,
    owned by a unit, due on a date. A tranche is payable once every condition is met."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("协议"), on_delete=models.PROTECT, related_name="promises"
    )
    kind = models.CharField(_("承诺类型"), max_length=20, choices=PromiseKind.choices)
    description = models.CharField(_("承诺内容"), max_length=300)
    owner_unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        related_name="agreement_promises",
    )
    due_on = models.DateField(_("兑现期限"))
    delivered_on = models.DateField(_("兑现日期"), null=True, blank=True)
    amount = models.DecimalField(_("奖补金额(万元)"), **_MONEY, default=Decimal("0"))
    conditions = models.ManyToManyField(
        Term, verbose_name=_("兑现条件"), blank=True, related_name="conditioned_promises"
    )
    payment = models.CharField(
        _("兑现状态"), max_length=20, choices=Payment.choices, default=Payment.UNPAID
    )
    paid_amount = models.DecimalField(_("已兑现金额(万元)"), **_MONEY, default=Decimal("0"))
    clawed_back_amount = models.DecimalField(_("已追回金额(万元)"), **_MONEY, default=Decimal("0"))

    class Meta:
        verbose_name = _("政府承诺事项")
        verbose_name_plural = _("政府承诺事项")
        ordering = ["due_on", "id"]
        constraints = [
            *SyncedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(paid_amount__gte=0)
                & Q(clawed_back_amount__gte=0)
                & Q(clawed_back_amount__lte=F("paid_amount")),
                name="%(app_label)s_%(class)s_amounts_in_range",
            ),
            # Only an incentive tranche has an amount and a payment; it is delivered when paid.
            models.CheckConstraint(
                condition=Q(kind=PromiseKind.INCENTIVE)
                | Q(amount=0, payment=Payment.UNPAID, paid_amount=0),
                name="%(app_label)s_%(class)s_payment_only_for_incentives",
            ),
        ]
        indexes = [
            # The bureau's promises falling due (cockpit: 政府承诺逾期未兑现).
            models.Index(fields=["due_on"], name="agreements_promise_due"),
        ]

    def __str__(self) -> str:
        return self.description


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class IncentiveRequest(models.Model):
    """政策兑现审批: a request to pay, withhold or claw back a tranche, decided by another person."""

    promise = models.ForeignKey(
        Promise, verbose_name=_("奖补事项"), on_delete=models.PROTECT, related_name="requests"
    )
    action = models.CharField(_("操作"), max_length=20, choices=IncentiveAction.choices)
    amount = models.DecimalField(_("金额(万元)"), **_MONEY)
    reason = models.TextField(_("理由"))
    basis = models.TextField(_("计算依据"), blank=True)
    status = models.CharField(
        _("审批状态"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("政策兑现审批")
        verbose_name_plural = _("政策兑现审批")
        ordering = ["requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="%(app_label)s_%(class)s_amount_not_negative"
            ),
            # Four eyes: the person who asks never approves.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="%(app_label)s_%(class)s_decided_by_another",
            ),
            # One open request per tranche: a double tap or a second officer cannot queue two.
            models.UniqueConstraint(
                fields=["promise"],
                condition=Q(status=RequestStatus.PENDING),
                name="%(app_label)s_%(class)s_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.amount}"


class AgreementLog(TrailEvent):
    """履约记录: each step on an agreement — a term added, a value measured or verified, a waiver,
    a promise delivered, a request asked or decided, a talk held with the investor (约谈)."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("协议"), on_delete=models.PROTECT, related_name="log"
    )
    what = models.CharField(_("事项"), max_length=40)
    note = models.TextField(_("说明"), blank=True)

    class Meta(TrailEvent.Meta):
        verbose_name = _("履约记录")
        verbose_name_plural = _("履约记录")

    def __str__(self) -> str:
        return f"{self.agreement_id}: {self.what}"


class AgreementState(models.Model):
    """协议履约状态 (derived, decision 0020): an agreement's categories as computed on ``on_day``
    from its rows — what the 协议履约 figures count, kept so a bureau's figures read one row per
    agreement instead of every commitment's status. Never edited: ``promo.agreements.states``
    writes it; triggers on the rows it derives from mark it stale (``on_day`` NULL, ``gen``
    + 1) in the writer's transaction; a read recomputes what is not of today."""

    agreement = models.OneToOneField(
        Agreement,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the agreement's delete trigger removes it
        db_constraint=False,
        related_name="state",
    )
    # Bumped by every write that may change the categories; a recomputation is stored only
    # if the row still has the generation read before it (states.refresh).
    gen = models.PositiveIntegerField(default=0)
    on_day = models.DateField(null=True)
    judged = models.BooleanField(default=False)
    breached = models.BooleanField(default=False)
    overdue_promises = models.PositiveIntegerField(default=0)
    clawback_due = models.BooleanField(default=False)
    # The commitments 履约中 at risk (黄灯, selectors.term_at_risk): the at-risk list reads
    # these ids instead of drawing every commitment's trend.
    at_risk_terms = ArrayField(models.BigIntegerField(), default=list)
    # 万元, summed over the agreement's promises (incentive tranches): paid (paid or later
    # clawed back), withheld, clawed back.
    paid = models.DecimalField(**_MONEY, default=Decimal("0"))
    withheld = models.DecimalField(**_MONEY, default=Decimal("0"))
    clawed_back = models.DecimalField(**_MONEY, default=Decimal("0"))
    # The agreement's share of 协议履约分析 (selectors.KeepingRow, one agreement's row): the
    # rate parts by commitment and the per-亩 amounts, so the analysis of today adds up one row
    # per agreement (decision 0020). Database defaults: the triggers insert rows without them.
    start_judged = models.PositiveIntegerField(default=0, db_default=0)
    start_met = models.PositiveIntegerField(default=0, db_default=0)
    produce_judged = models.PositiveIntegerField(default=0, db_default=0)
    produce_met = models.PositiveIntegerField(default=0, db_default=0)
    output_judged = models.PositiveIntegerField(default=0, db_default=0)
    output_met = models.PositiveIntegerField(default=0, db_default=0)
    capital_judged = models.PositiveIntegerField(default=0, db_default=0)
    capital_target = models.DecimalField(**_MONEY, default=Decimal("0"), db_default=Decimal("0"))
    capital_in = models.DecimalField(**_MONEY, default=Decimal("0"), db_default=Decimal("0"))
    promises_due = models.PositiveIntegerField(default=0, db_default=0)
    promises_kept = models.PositiveIntegerField(default=0, db_default=0)
    intensity_agreements = models.PositiveSmallIntegerField(default=0, db_default=0)
    intensity_amount = models.DecimalField(**_MONEY, default=Decimal("0"), db_default=Decimal("0"))
    intensity_land = models.DecimalField(**_MONEY, default=Decimal("0"), db_default=Decimal("0"))
    tax_per_mu_agreements = models.PositiveSmallIntegerField(default=0, db_default=0)
    tax_per_mu_amount = models.DecimalField(**_MONEY, default=Decimal("0"), db_default=Decimal("0"))
    tax_per_mu_land = models.DecimalField(**_MONEY, default=Decimal("0"), db_default=Decimal("0"))
    # Where the analysis files the agreement, as of ``on_day``: its project's unit (an id) and
    # 签约年度 (the year the project's first agreement was signed). Today's analysis groups
    # the states by them instead of joining every agreement to its project and looking up
    # its first sibling; the triggers mark the state stale when the project changes unit
    # and when a sibling agreement is added, re-dated or deleted.
    project_unit = models.BigIntegerField(null=True)
    cohort = models.PositiveSmallIntegerField(null=True)

    class Meta:
        verbose_name = _("协议履约状态")
        verbose_name_plural = _("协议履约状态")
        default_permissions = ()
        indexes = [
            # Whether any state is not of today (selectors.bureau_grains): a probe of the
            # days before and after today and of the stale (NULL), which finds nothing on a
            # day the states are fresh.
            models.Index(fields=["on_day"], name="agreements_state_day"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id} @ {self.on_day}"


# The analysis figures of ``AgreementState`` that ``AgreementStateGrain`` sums (each a
# count or an amount of one agreement; the grain keeps their sum per unit and cohort).
GRAIN_SUMS: tuple[str, ...] = (
    "overdue_promises",
    "paid",
    "withheld",
    "clawed_back",
    "start_judged",
    "start_met",
    "produce_judged",
    "produce_met",
    "output_judged",
    "output_met",
    "capital_judged",
    "capital_target",
    "capital_in",
    "promises_due",
    "promises_kept",
    "intensity_agreements",
    "intensity_amount",
    "intensity_land",
    "tax_per_mu_agreements",
    "tax_per_mu_amount",
    "tax_per_mu_land",
)
# Sums of 万元 over a province's agreements: wider than one agreement's amount.
_SUM_MONEY: dict[str, Any] = {"max_digits": 20, "decimal_places": 2}


class AgreementStateGrain(models.Model):
    """The agreements' states added up per project unit and 签约年度 (derived, decision 0026):
    what a bureau-wide 协议履约 read sums instead of every agreement's state — the province's
    48,000 states are about 320 grains.

    Kept by a statement trigger on ``agreements_agreementstate`` that adds the new rows'
    figures and subtracts the old rows' (``INSERT … ON CONFLICT DO UPDATE``: concurrent
    writers add up), whatever writes the states; a change that leaves a grain's figures as
    they were (a state marked stale: only ``gen`` and ``on_day`` move) writes nothing, so the
    writers who mark states stale never wait on a grain. It sums every state, fresh or stale:
    a read uses it only when every state is of today (``selectors.bureau_grains``). Compared
    with the states and corrected by the nightly reconciliation
    (``promo.dashboard.summary.compare``)."""

    # The state's project unit and cohort; 0 for a state not filed yet (a new agreement's,
    # before its first computation).
    project_unit = models.BigIntegerField()
    cohort = models.PositiveSmallIntegerField()
    states = models.IntegerField(default=0)
    judged = models.IntegerField(default=0)
    keeping = models.IntegerField(default=0)
    breached = models.IntegerField(default=0)
    clawback_due = models.IntegerField(default=0)
    overdue_promises = models.BigIntegerField(default=0)
    paid = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))
    withheld = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))
    clawed_back = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))
    start_judged = models.BigIntegerField(default=0)
    start_met = models.BigIntegerField(default=0)
    produce_judged = models.BigIntegerField(default=0)
    produce_met = models.BigIntegerField(default=0)
    output_judged = models.BigIntegerField(default=0)
    output_met = models.BigIntegerField(default=0)
    capital_judged = models.BigIntegerField(default=0)
    capital_target = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))
    capital_in = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))
    promises_due = models.BigIntegerField(default=0)
    promises_kept = models.BigIntegerField(default=0)
    intensity_agreements = models.BigIntegerField(default=0)
    intensity_amount = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))
    intensity_land = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))
    tax_per_mu_agreements = models.BigIntegerField(default=0)
    tax_per_mu_amount = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))
    tax_per_mu_land = models.DecimalField(**_SUM_MONEY, default=Decimal("0"))

    class Meta:
        verbose_name = _("协议履约状态汇总")
        verbose_name_plural = _("协议履约状态汇总")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["project_unit", "cohort"], name="agreements_state_grain_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_unit} {self.cohort}: {self.states}"


class AgreementStatuses(models.Model):
    """The statuses of an agreement's rows as its state computed them (decision 0020, "The
    rows' statuses"): each commitment's ``[status, value at due or null]`` and each
    promise's ``[status]``, keyed by the row's id (a string), which the agreements API list
    reads instead of computing them (decision 0004, "Stored statuses"). Beside the state, not
    in it: the figures read the states whole, and these made the states' table 2.5 times as
    large. They count only with the state of the same generation, and of today."""

    agreement = models.OneToOneField(
        Agreement,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the agreement's delete trigger removes it
        db_constraint=False,
        related_name="statuses",
    )
    gen = models.PositiveIntegerField()
    on_day = models.DateField()
    terms = models.JSONField()
    promises = models.JSONField()

    class Meta:
        verbose_name = _("履约事项状态")
        verbose_name_plural = _("履约事项状态")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.agreement_id} @ {self.on_day} (gen {self.gen})"
