"""Bulletins (通报) with their lines (the monthly ledger, 月度台账) and amendments; alerts (红黄灯)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from officers.models import tree_order
from promo.core.models import APPEND_ONLY

from .choices import (
    AMOUNT_FIGURES,
    AlertLevel,
    AlertRule,
    BulletinKind,
    BulletinStatus,
    CauseRecord,
    DailyJob,
    DeliveryStatus,
    EscalationStep,
    Figure,
    RankTie,
    SystemNoticeKind,
    WebhookStyle,
    bulletin_can_transition,
    delivery_can_transition,
    why_label,
)
from .messages import alert_message
from .schedule import bulletin_due_at

# Append-only: an amendment, once recorded, is never edited or removed — not even by SQL.

_COUNT: dict[str, Any] = {"default": 0}
_AMOUNT: dict[str, Any] = {"max_digits": 16, "decimal_places": 2, "default": Decimal("0")}


def own_line_name(unit: Any) -> str:
    """The name of a unit's own-records line (本级): 局本级 for the bureau (a root unit), else
    "<unit>本级" (an office's own records beside its groups' rows)."""
    if unit.parent_id is None:
        return str(_("局本级"))
    return str(_("%(unit)s本级") % {"unit": unit.short_name or unit.name})


def _status_dates(status: str, sent_at: str, failed_at: str) -> Q:
    """An outbox row's status agrees with its dates: sent ⇔ sent_at, failed ⇔ failed_at."""
    return (
        Q(
            **{
                status: DeliveryStatus.PENDING,
                f"{sent_at}__isnull": True,
                f"{failed_at}__isnull": True,
            }
        )
        | Q(
            **{
                status: DeliveryStatus.SENT,
                f"{sent_at}__isnull": False,
                f"{failed_at}__isnull": True,
            }
        )
        | Q(
            **{
                status: DeliveryStatus.FAILED,
                f"{sent_at}__isnull": True,
                f"{failed_at}__isnull": False,
            }
        )
    )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Bulletin(models.Model):
    """Bulletin (通报 / 旬汇报): the figures of every unit for one month or ten days, ranked."""

    kind = models.CharField(_("类型"), max_length=10, choices=BulletinKind.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT
    )
    generated_at = models.DateTimeField(_("生成时间"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set when the sweep (巡检) made the bulletin after its scheduled run was missed: the
    # reports pages say so, with the time it was due (``due_at``).
    made_up_at = models.DateTimeField(_("补生成时间"), null=True, blank=True)
    # How the unit lines were ranked, frozen with them: {"method": "efficacy", "weights":
    # {figure: weight}, "deduction": points per late project} (promo.reports.scoring). Empty
    # on bulletins ranked before the method was used (by signed amount, then signed count).
    scoring = models.JSONField(_("排名方法"), default=dict, blank=True)

    class Meta:
        verbose_name = _("通报")
        verbose_name_plural = _("通报")
        ordering = ["-period_start", "kind"]
        constraints = [
            # Re-running a month's job finds this row instead of making a second bulletin.
            models.UniqueConstraint(
                fields=["kind", "period_start"], name="%(app_label)s_%(class)s_unique_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="%(app_label)s_%(class)s_period_in_order",
            ),
            models.CheckConstraint(
                condition=Q(status=BulletinStatus.DRAFT, published_at__isnull=True)
                | Q(status=BulletinStatus.PUBLISHED, published_at__isnull=False),
                name="%(app_label)s_%(class)s_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return str(self.title)

    @property
    def is_published(self) -> bool:
        return self.status == BulletinStatus.PUBLISHED

    def can_transition_to(self, status: str) -> bool:
        return bulletin_can_transition(self.status, status)

    @property
    def due_at(self):
        """When the scheduled run was due to make this bulletin (promo/reports/schedule.py)."""
        return bulletin_due_at(self.kind, self.period_start, self.period_end)

    @property
    def period_label(self) -> str:
        """2026年10月 / Oct 2026; a ten-day report its days (in the reader's language)."""
        if self.kind == BulletinKind.MONTHLY:
            return date_format(self.period_start, "YEAR_MONTH_FORMAT")
        return _("%(start)s至%(end)s") % {
            "start": date_format(self.period_start, "DATE_FORMAT"),
            "end": date_format(self.period_end, "MONTH_DAY_FORMAT"),
        }

    @property
    def title(self) -> str:
        from officers.models import Unit

        root = Unit.objects.filter(parent__isnull=True).order_by(tree_order()).first()
        issuer = (root.city or root.name) if root else ""
        if self.kind == BulletinKind.MONTHLY:
            text = _("%(issuer)s招商引资工作月度通报（%(period)s）")
        else:
            text = _("%(issuer)s招商引资工作旬汇报（%(period)s）")
        return str(text) % {"issuer": issuer, "period": self.period_label}

    @property
    def ranking_note(self) -> dict[str, Any]:
        """How the unit lines were ranked (方法说明), from the method frozen with them:
        {"efficacy": bool, "weights": [(label, weight)], "deduction": Decimal}."""
        if not self.scoring:
            return {"efficacy": False, "weights": [], "deduction": None}
        return {
            "efficacy": True,
            "weights": [
                (Figure(figure).label, Decimal(weight))
                for figure, weight in self.scoring.get("weights", {}).items()
            ],
            "deduction": Decimal(self.scoring.get("deduction") or 0),
        }


class BulletinLine(models.Model):
    """Bulletin line (通报明细): one unit's figures in a bulletin; frozen once it is published."""

    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("通报"), on_delete=models.CASCADE, related_name="lines"
    )
    # NULL: the bureau total line (合计), counting every unit of the tree.
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The unit's own records only, not its sub-units' (局本级: the bureau's own records, which
    # no first-level unit's line counts); such a line is printed before 合计 and not ranked.
    own_records_only = models.BooleanField(_("仅本级记录"), default=False)
    position = models.PositiveSmallIntegerField(_("序号"))
    rank = models.PositiveSmallIntegerField(_("排名"), null=True, blank=True)
    # The unit's score by the efficacy-coefficient method (功效系数法) on its year-to-date
    # figures, and, when another unit has the same score, the rule that put them in order
    # (RankTie); frozen with the rank. NULL / empty on lines ranked before the method.
    score = models.DecimalField(
        _("综合得分"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    rank_tie = models.CharField(
        _("同分排序依据"), max_length=20, choices=RankTie.choices, blank=True, default=""
    )

    leads_in_hand = models.PositiveIntegerField(Figure.LEADS_IN_HAND.label, **_COUNT)
    leads_negotiating = models.PositiveIntegerField(Figure.LEADS_NEGOTIATING.label, **_COUNT)
    investors_visiting = models.PositiveIntegerField(Figure.INVESTORS_VISITING.label, **_COUNT)
    signed_count = models.PositiveIntegerField(Figure.SIGNED_COUNT.label, **_COUNT)
    signed_amount = models.DecimalField(Figure.SIGNED_AMOUNT.label, **_AMOUNT)
    ten_million_count = models.PositiveIntegerField(Figure.TEN_MILLION_COUNT.label, **_COUNT)
    hundred_million_count = models.PositiveIntegerField(
        Figure.HUNDRED_MILLION_COUNT.label, **_COUNT
    )
    groundbreaking_count = models.PositiveIntegerField(Figure.GROUNDBREAKING_COUNT.label, **_COUNT)
    groundbreaking_amount = models.DecimalField(Figure.GROUNDBREAKING_AMOUNT.label, **_AMOUNT)
    completed_count = models.PositiveIntegerField(Figure.COMPLETED_COUNT.label, **_COUNT)
    producing_count = models.PositiveIntegerField(Figure.PRODUCING_COUNT.label, **_COUNT)
    # Arrived FDI may shrink when a cumulative figure is corrected downwards: not "positive".
    arrived_fdi = models.DecimalField(Figure.ARRIVED_FDI.label, **_AMOUNT)
    valid_leads = models.PositiveIntegerField(Figure.VALID_LEADS.label, **_COUNT)
    in_statistics_count = models.PositiveIntegerField(Figure.IN_STATISTICS_COUNT.label, **_COUNT)
    above_size_count = models.PositiveIntegerField(Figure.ABOVE_SIZE_COUNT.label, **_COUNT)

    # Context beside the figures: the same period last year, the year to date and the
    # year's targets ({metric: {"target", "actual", "percent"}}), as the bulletin printed them.
    last_year = models.JSONField(_("去年同期"), default=dict, encoder=DjangoJSONEncoder)
    year_to_date = models.JSONField(_("本年累计"), default=dict, encoder=DjangoJSONEncoder)
    targets = models.JSONField(_("目标完成情况"), default=dict, encoder=DjangoJSONEncoder)
    # The records each figure counted when the bulletin was published, so that a later
    # amendment can name the records that moved it: {"figures": {figure: records}, "marks":
    # {history table: last row id}} (promo.reports.attribution). Empty on drafts and on lines
    # published before it was kept.
    records = models.JSONField(_("统计明细"), default=dict, blank=True)

    class Meta:
        verbose_name = _("通报明细")
        verbose_name_plural = _("通报明细")
        ordering = ["bulletin", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["bulletin", "unit", "own_records_only"],
                condition=Q(unit__isnull=False),
                name="%(app_label)s_%(class)s_one_line_per_unit",
            ),
            models.UniqueConstraint(
                fields=["bulletin"],
                condition=Q(unit__isnull=True),
                name="%(app_label)s_%(class)s_one_total_line",
            ),
            # An own-records line is a unit's: the total line has no "own" records.
            models.CheckConstraint(
                condition=Q(own_records_only=False) | Q(unit__isnull=False),
                name="%(app_label)s_%(class)s_own_line_has_unit",
            ),
            # Only the units' sub-tree lines are ranked.
            models.CheckConstraint(
                condition=Q(rank__isnull=True) | Q(own_records_only=False, unit__isnull=False),
                name="%(app_label)s_%(class)s_rank_only_unit_lines",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bulletin} · {self.label}"

    @property
    def is_total(self) -> bool:
        return self.unit_id is None

    @property
    def label(self) -> str:
        """The line's name as printed: the unit's short name, "局本级" (or "<unit>本级"), 合计."""
        if self.unit is None:
            return str(_("合计"))
        if self.own_records_only:
            return own_line_name(self.unit)
        return self.unit.short_name or self.unit.name

    @property
    def number(self) -> int | None:
        """序号: the unit lines are numbered; 局本级 and 合计 are not."""
        return None if self.is_total or self.own_records_only else self.position

    def figure(self, figure: str) -> Any:
        return getattr(self, figure)

    def target_percent(self, metric: str) -> Decimal | None:
        value = (self.targets.get(metric) or {}).get("percent")
        return Decimal(str(value)) if value is not None else None

    def last_year_figure(self, figure: str) -> Decimal:
        return Decimal(str(self.last_year.get(figure, 0)))


class AgreementTable(models.TextChoices):
    """The two tables of a bulletin's 协议履约 section."""

    UNIT = "unit", _("按单位")
    COHORT = "cohort", _("按签约年度")


_KEEP_COUNT: dict[str, Any] = {"default": 0}
_KEEP_AMOUNT: dict[str, Any] = {"max_digits": 16, "decimal_places": 2, "default": Decimal("0")}


class BulletinAgreementLine(models.Model):
    """通报协议履约明细: one row of a bulletin's agreement section — a unit (its sub-tree, or
    its own records: 本级), a signing-year cohort, or the bureau total — with each rate's
    numerator and denominator on the bulletin's last day (``KeepingRow``), so the rates are
    computed by the one formula (``promo.agreements.selectors.rate``) and frozen with the
    bulletin when it is published (docs/decisions/0017)."""

    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("通报"), on_delete=models.CASCADE, related_name="agreement_lines"
    )
    table = models.CharField(_("分组"), max_length=10, choices=AgreementTable.choices)
    # NULL in the unit table: the bureau total (合计).
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    own_records_only = models.BooleanField(_("仅本级记录"), default=False)
    cohort = models.PositiveSmallIntegerField(_("签约年度"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("序号"))

    agreements_judged = models.PositiveIntegerField(_("已到期协议"), **_KEEP_COUNT)
    agreements_keeping = models.PositiveIntegerField(_("履约协议"), **_KEEP_COUNT)
    start_judged = models.PositiveIntegerField(_("应开工承诺"), **_KEEP_COUNT)
    start_met = models.PositiveIntegerField(_("按期开工承诺"), **_KEEP_COUNT)
    produce_judged = models.PositiveIntegerField(_("应投产承诺"), **_KEEP_COUNT)
    produce_met = models.PositiveIntegerField(_("按期投产承诺"), **_KEEP_COUNT)
    output_judged = models.PositiveIntegerField(_("应达产承诺"), **_KEEP_COUNT)
    output_met = models.PositiveIntegerField(_("已达产承诺"), **_KEEP_COUNT)
    capital_judged = models.PositiveIntegerField(_("应到位投资承诺"), **_KEEP_COUNT)
    capital_target = models.DecimalField(_("承诺投资(万元)"), **_KEEP_AMOUNT)
    capital_in = models.DecimalField(_("到位投资(万元)"), **_KEEP_AMOUNT)
    promises_due = models.PositiveIntegerField(_("应兑现政府承诺"), **_KEEP_COUNT)
    promises_kept = models.PositiveIntegerField(_("按期兑现政府承诺"), **_KEEP_COUNT)
    paid = models.DecimalField(_("已兑现奖补(万元)"), **_KEEP_AMOUNT)
    withheld = models.DecimalField(_("暂缓兑现(万元)"), **_KEEP_AMOUNT)
    clawed_back = models.DecimalField(_("已追回(万元)"), **_KEEP_AMOUNT)
    intensity_agreements = models.PositiveIntegerField(_("计算投资强度的协议"), **_KEEP_COUNT)
    intensity_amount = models.DecimalField(_("实测投资(万元)"), **_KEEP_AMOUNT)
    intensity_land = models.DecimalField(_("实测用地(亩)"), **_KEEP_AMOUNT)
    tax_per_mu_agreements = models.PositiveIntegerField(_("计算亩均税收的协议"), **_KEEP_COUNT)
    tax_per_mu_amount = models.DecimalField(_("实测税收(万元)"), **_KEEP_AMOUNT)
    tax_per_mu_land = models.DecimalField(_("实测用地(亩)"), **_KEEP_AMOUNT)

    class Meta:
        verbose_name = _("通报协议履约明细")
        verbose_name_plural = _("通报协议履约明细")
        ordering = ["bulletin", "table", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["bulletin", "table", "position"],
                name="%(app_label)s_%(class)s_one_row_per_position",
            ),
            # A cohort row names its year and no unit; a unit-table row has no year.
            models.CheckConstraint(
                condition=Q(table=AgreementTable.COHORT, cohort__isnull=False, unit__isnull=True)
                | Q(table=AgreementTable.UNIT, cohort__isnull=True),
                name="%(app_label)s_%(class)s_grouped_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bulletin} · {self.label}"

    @property
    def is_total(self) -> bool:
        return self.table == AgreementTable.UNIT and self.unit_id is None

    @property
    def label(self) -> str:
        if self.table == AgreementTable.COHORT:
            return str(_("%(year)s年签约") % {"year": self.cohort})
        if self.unit is None:
            return str(_("合计"))
        if self.own_records_only:
            return own_line_name(self.unit)
        return self.unit.short_name or self.unit.name

    @property
    def figures(self) -> Any:
        """The row as ``KeepingRow`` (its rates by the agreements app's one formula each)."""
        from promo.agreements.selectors import KEEPING_FIELDS, KeepingRow

        return KeepingRow(**{name: getattr(self, name) for name in KEEPING_FIELDS})

    @property
    def list_query(self) -> str:
        """The lists' query string selecting this row's records on the bulletin's last day."""
        parts = [f"on={self.bulletin.period_end.isoformat()}"]
        if self.cohort is not None:
            parts.append(f"cohort={self.cohort}")
        if self.unit_id is not None:
            parts.append(f"unit={self.unit_id}")
            if self.own_records_only:
                parts.append("own=1")
        return "&" + "&".join(parts)


class BulletinAmendment(models.Model):
    """Amendment (更正): a published figure that the data no longer gives; shown beside it."""

    line = models.ForeignKey(
        BulletinLine,
        verbose_name=_("通报明细"),
        on_delete=models.PROTECT,
        related_name="amendments",
    )
    figure = models.CharField(_("指标"), max_length=30, choices=Figure.choices)
    old_value = models.DecimalField(_("原数"), max_digits=16, decimal_places=2)
    new_value = models.DecimalField(_("更正后"), max_digits=16, decimal_places=2)
    detected_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    # The records the figure counts from now on ({"records": …, "marks": …}, as on the line):
    # the next amendment of the figure is compared with them. Its causes name the records.
    records = models.JSONField(_("统计明细"), default=dict, blank=True)
    # Causes beyond the first MAX_CAUSES (a unit moved with all its records) are only counted.
    unlisted_causes = models.PositiveIntegerField(_("未列出的记录数"), default=0)
    # Legacy: amendments recorded before causes were kept named the latest change to any of
    # the unit's records of the figure's family, often the wrong one; newer ones leave these
    # two empty and name their causes (BulletinAmendmentCause).
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(_("修改原因"), blank=True)

    class Meta:
        verbose_name = _("通报更正")
        verbose_name_plural = _("通报更正")
        ordering = ["line", "detected_at", "id"]
        triggers = [APPEND_ONLY]
        constraints = [
            models.CheckConstraint(
                condition=~Q(old_value=F("new_value")),
                name="%(app_label)s_%(class)s_value_changed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line}: {self.get_figure_display()} {self.old_value} → {self.new_value}"

    @property
    def is_legacy(self) -> bool:
        """Recorded before amendments kept the records they compare (no causes to name)."""
        return not self.records

    @property
    def was_compared(self) -> bool:
        """Its records were compared with those kept before (not so on a line published
        before records were kept: the causes are then unknown)."""
        return bool(self.records.get("compared", True))

    @property
    def legacy_reason(self) -> str:
        return why_label(self.reason)


class BulletinAmendmentCause(models.Model):
    """Cause of an amendment (更正原因): one record whose change moved the figure, with who
    changed it, when and why, read from that record's own history."""

    amendment = models.ForeignKey(
        BulletinAmendment,
        verbose_name=_("通报更正"),
        on_delete=models.PROTECT,
        related_name="causes",
    )
    record_type = models.CharField(_("记录类型"), max_length=10, choices=CauseRecord.choices)
    record_id = models.BigIntegerField(_("记录编号"))
    # The record's name when the amendment was recorded (a visit: its investor's name).
    label = models.CharField(_("名称"), max_length=300)
    # The record's part in the figure before and after: 1 for a count, the amount for a sum;
    # empty when it was not counted (it entered the figure) or is no longer (it left).
    old_part = models.DecimalField(
        _("原计入"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    new_part = models.DecimalField(
        _("现计入"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    # From the record's history event that explains the change; empty when the record has
    # none since the last known figure (e.g. only its unit moved in the tree).
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("修改时间"), null=True, blank=True)
    # As the history gives it: the officer's words, that lead's drop reason, or a service's
    # code, read as words when shown (reason_text).
    reason = models.TextField(_("修改原因"), blank=True)

    class Meta:
        verbose_name = _("更正原因")
        verbose_name_plural = _("更正原因")
        ordering = ["amendment", "id"]
        triggers = [APPEND_ONLY]
        constraints = [
            models.CheckConstraint(
                condition=Q(old_part__isnull=False) | Q(new_part__isnull=False),
                name="%(app_label)s_%(class)s_part_given",
            ),
            models.CheckConstraint(
                condition=Q(old_part__isnull=True)
                | Q(new_part__isnull=True)
                | ~Q(old_part=F("new_part")),
                name="%(app_label)s_%(class)s_part_changed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_label}: {self.part_change}"

    @property
    def display_label(self) -> str:
        if self.record_type == CauseRecord.LEAD:
            return str(_("项目信息「%(name)s」") % {"name": self.label})
        if self.record_type == CauseRecord.VISIT:
            return str(_("来区客商「%(name)s」") % {"name": self.label})
        return str(_("项目「%(name)s」") % {"name": self.label})

    @property
    def reason_text(self) -> str:
        return why_label(self.reason)

    @property
    def part_change(self) -> str:
        """How the record's part moved: 计入 / 移出 for a count; amounts for a sum."""
        is_amount = self.amendment.figure in AMOUNT_FIGURES
        old = f"{self.old_part.normalize():f}" if self.old_part is not None else ""
        new = f"{self.new_part.normalize():f}" if self.new_part is not None else ""
        if self.old_part is None:
            return str(_("计入 %(new)s") % {"new": new} if is_amount else _("计入"))
        if self.new_part is None:
            return str(_("移出 %(old)s") % {"old": old} if is_amount else _("移出"))
        return f"{old} → {new}"

    @property
    def attribution(self) -> str:
        """Who, when and why, as one phrase; says so when the record has no change of its own."""
        who = " ".join(
            part
            for part in (
                str(self.changed_by.display_name) if self.changed_by is not None else "",
                f"{timezone.localtime(self.changed_at):%Y-%m-%d %H:%M}" if self.changed_at else "",
            )
            if part
        )
        reason = self.reason_text
        if who and reason:
            return str(_("%(who)s：%(reason)s") % {"who": who, "reason": reason})
        return who or reason or str(_("该记录本身无修改留痕"))

    @property
    def summary(self) -> str:
        """One line (the XLSX): the record, its part, who, when and why."""
        return f"{self.display_label} {self.part_change}（{self.attribution}）"


_RULE_LABELS: dict[str, Any] = dict(AlertRule.choices)


class Alert(models.Model):
    """Alert (红黄灯预警): one rule that holds for one record, from the day seen until it clears."""

    rule = models.CharField(_("规则"), max_length=30, choices=AlertRule.choices)
    level = models.CharField(_("灯色"), max_length=10, choices=AlertLevel.choices)
    # "project:12", "unit:4:2026-10": one condition; a new month is a new condition.
    subject_key = models.CharField(_("对象"), max_length=60)
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    problem = models.ForeignKey(
        "projects.Problem", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        "officers.Unit", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The message in Chinese as the daily run wrote it (the fallback, and what the admin
    # searches); shown through ``message``, made from the rule and ``params`` in the reader's
    # language (promo.reports.messages). Empty params: an alert opened before they were kept.
    detail = models.CharField(_("说明"), max_length=200, blank=True)
    params = models.JSONField(_("说明参数"), default=dict, blank=True)
    opened_on = models.DateField(_("亮灯日期"))
    last_seen_on = models.DateField(_("最近确认日期"))
    resolved_on = models.DateField(_("消除日期"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-opened_on", "id"]
        constraints = [
            # One open alert per condition: the daily job updates it instead of adding another.
            models.UniqueConstraint(
                fields=["rule", "subject_key"],
                condition=Q(resolved_on__isnull=True),
                name="%(app_label)s_%(class)s_one_open_per_condition",
            ),
        ]
        indexes = [
            # Open alerts of a unit sub-tree (home page, chief's dashboard).
            models.Index(fields=["unit", "resolved_on"], name="reports_alert_unit_open"),
            # Open red alerts, oldest first (a unit head's or chief's home page).
            models.Index(
                fields=["opened_on", "id"],
                condition=Q(resolved_on__isnull=True, level="red"),
                name="reports_alert_open_red",
            ),
            # The red ones of a unit's sub-tree, counted from the index alone (the home page's
            # summary: a province unit head's 1,917 in 0.2 ms, by the unit index 8.2 ms).
            models.Index(
                fields=["unit"],
                condition=Q(resolved_on__isnull=True, level="red"),
                name="reports_alert_open_red_unit",
            ),
            # The cockpit's red lights (红灯) of a unit's sub-tree: counted from the index
            # alone (one unit at province scale, 397,537 open alerts: 63 -> 2 ms) ...
            models.Index(
                fields=["unit"],
                condition=Q(resolved_on__isnull=True, level="red", project__isnull=False),
                name="reports_alert_red_unit",
            ),
            # ... and the projects lit red (project_light_q), read from the index alone.
            models.Index(
                fields=["project"],
                condition=Q(resolved_on__isnull=True, level="red"),
                name="reports_alert_red_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.get_rule_display()} {self.message}"

    @property
    def rule_label(self) -> Any:
        """The rule's name, as ``get_rule_display()``: the alert lists print one per row, and
        Django's ``get_FOO_display`` rebuilds the field's whole choices mapping on each call.
        A lazy label (the page renders it in the reader's language)."""
        return _RULE_LABELS.get(self.rule, self.rule)

    @property
    def message(self) -> str:
        """The alert's message in the active language (promo.reports.messages)."""
        return alert_message(self.rule, self.params, self.detail)

    @property
    def is_open(self) -> bool:
        return self.resolved_on is None


class AlertNotice(models.Model):
    """Notice (督办通知): one step of the ladder for one alert, to one officer; shown in the bell."""

    alert = models.ForeignKey(
        Alert, verbose_name=_("预警"), on_delete=models.CASCADE, related_name="notices"
    )
    step = models.PositiveSmallIntegerField(_("督办层级"), choices=EscalationStep.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="alert_notices",
    )
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    # The notices still to e-mail are the outbox: whatever the broker's state, a delivery run
    # sends them once due (services.alert_notices_send_email). A failure waits its backoff
    # (email_next_attempt_at) until the retry horizon, then the e-mail is given up (failed).
    email_status = models.CharField(
        _("邮件状态"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    email_failed_at = models.DateTimeField(_("邮件放弃时间"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("邮件尝试次数"), default=0)
    email_first_attempt_at = models.DateTimeField(_("邮件首次尝试时间"), null=True, blank=True)
    email_next_attempt_at = models.DateTimeField(_("邮件下次尝试时间"), null=True, blank=True)
    email_last_error = models.CharField(_("邮件最近错误"), max_length=300, blank=True)
    # Leased by a sender until then: the e-mail is sent outside any transaction, so the lease
    # (not a row lock) keeps two runs from sending it at once; a sender that died lets it lapse.
    email_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("督办通知")
        verbose_name_plural = _("督办通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            # De-duplicated: one notice per condition, per step, per recipient — however often
            # the daily job runs.
            models.UniqueConstraint(
                fields=["alert", "step", "recipient"],
                name="%(app_label)s_%(class)s_once_per_step",
            ),
            # A sent e-mail has its time, a given-up one its time, a pending one neither.
            models.CheckConstraint(
                condition=_status_dates("email_status", "emailed_at", "email_failed_at"),
                name="%(app_label)s_%(class)s_email_status_has_date",
            ),
        ]
        indexes = [
            # The bell: a recipient's unread notices.
            models.Index(fields=["recipient", "read_at"], name="reports_notice_unread"),
            # The e-mail outbox: notices still to send, the due ones first.
            models.Index(
                fields=["email_next_attempt_at"],
                condition=Q(email_status=DeliveryStatus.PENDING),
                name="reports_notice_email_outbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} → {self.recipient}: {self.alert}"


class WebhookChannel(models.Model):
    """Webhook channel (消息推送): forwards alert notices to a messaging platform's group robot."""

    name = models.CharField(_("名称"), max_length=100)
    # The robot's address, which often carries its key: only administrators see this admin.
    url = models.URLField(_("推送地址"), max_length=500)
    style = models.CharField(
        _("消息格式"), max_length=20, choices=WebhookStyle.choices, default=WebhookStyle.ROBOT_TEXT
    )
    min_step = models.PositiveSmallIntegerField(
        _("推送起始层级"),
        choices=EscalationStep.choices,
        default=EscalationStep.UNIT_HEAD,
        help_text=_("只推送达到该督办层级的通知。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    # Told in the bell (系统通知) when a post to this channel is given up.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("推送最终失败时在系统通知中告知此人；未指定时告知系统管理员。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("消息推送渠道")
        verbose_name_plural = _("消息推送渠道")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One alert step forwarded to one channel: the webhook outbox, one row per (channel, step)."""

    channel = models.ForeignKey(
        WebhookChannel, verbose_name=_("渠道"), on_delete=models.CASCADE, related_name="deliveries"
    )
    alert = models.ForeignKey(
        Alert, verbose_name=_("预警"), on_delete=models.CASCADE, related_name="deliveries"
    )
    step = models.PositiveSmallIntegerField(_("督办层级"), choices=EscalationStep.choices)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # The outbox discipline of AlertNotice's e-mail columns, without the prefix.
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    failed_at = models.DateTimeField(_("放弃时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    first_attempt_at = models.DateTimeField(_("首次尝试时间"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    # Leased by a sender until then (see AlertNotice.email_lease_until).
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("消息推送记录")
        verbose_name_plural = _("消息推送记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A group chat hears of each step of each alert once, however many chiefs it has.
            models.UniqueConstraint(
                fields=["channel", "alert", "step"], name="%(app_label)s_%(class)s_once_per_step"
            ),
            models.CheckConstraint(
                condition=_status_dates("status", "delivered_at", "failed_at"),
                name="%(app_label)s_%(class)s_status_has_date",
            ),
        ]
        indexes = [
            # The webhook outbox: deliveries still to make, the due ones first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=DeliveryStatus.PENDING),
                name="reports_webhook_outbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} · {self.alert} · {self.get_step_display()}"

    def can_transition_to(self, status: str) -> bool:
        return delivery_can_transition(self.status, status)


class DailyRun(models.Model):
    """A daily job done for one day (红黄灯督办, 月度台账更正): the sweep runs it once a day."""

    job = models.CharField(_("任务"), max_length=20, choices=DailyJob.choices)
    on = models.DateField(_("日期"))
    finished_at = models.DateTimeField(_("完成时间"))

    class Meta:
        verbose_name = _("每日任务记录")
        verbose_name_plural = _("每日任务记录")
        ordering = ["-on", "job"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "on"], name="%(app_label)s_%(class)s_once_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_job_display()} {self.on}"


class SystemNotice(models.Model):
    """System notice (系统通知): a delivery the system gave up, told to whoever can fix it.

    One unread notice per recipient and cause (a channel, or the recipient's own e-mail
    address): a second failure while it is unread adds to its count instead of another row.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="system_notices",
    )
    kind = models.CharField(_("类型"), max_length=20, choices=SystemNoticeKind.choices)
    channel = models.ForeignKey(
        WebhookChannel,
        verbose_name=_("渠道"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    address = models.CharField(_("邮箱"), max_length=254, blank=True)
    count = models.PositiveIntegerField(_("条数"), default=1)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("系统通知")
        verbose_name_plural = _("系统通知")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "channel"],
                condition=Q(read_at__isnull=True),
                nulls_distinct=False,
                name="%(app_label)s_%(class)s_one_unread_per_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"
