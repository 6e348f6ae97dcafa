"""The cockpit's summary table: one computed cockpit per scope and filters, with its time.

At province scale the cockpit's live figures take seconds (docs/performance.md), so a chief
is served a stored computation instead: :mod:`promo.dashboard.snapshots` decides when one is
fresh enough (never older than ``PROMO_DASHBOARD_CACHE_SECONDS``) and the Celery task
``refresh_cockpit_snapshots`` recomputes the ones read recently before they age out, so the
chiefs of a bureau rarely wait for a computation. The page shows ``computed_at`` (数据时间).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CockpitSnapshot(models.Model):
    """The cockpit as computed for one scope and one set of filters at ``computed_at``.

    ``key`` hashes the scope (the unit ids an officer sees, or everything) and the filters,
    so officers with the same scope share one row. ``officer`` is whoever asked first: the
    refresh recomputes with that officer's scope, which is the scope the key names.
    ``payload`` is the pickled result of :func:`promo.dashboard.selectors.cockpit`; it is
    written only by promo itself and dropped (recomputed) when it cannot be read back.
    """

    key = models.CharField(_("键"), max_length=64, unique=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("计算口径干部"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    params = models.JSONField(_("筛选条件"), default=dict)
    payload = models.BinaryField(_("计算结果"))
    computed_at = models.DateTimeField(_("数据时间"))
    compute_ms = models.PositiveIntegerField(_("计算耗时(毫秒)"), default=0)
    read_at = models.DateTimeField(_("最近查看时间"))

    class Meta:
        verbose_name = _("驾驶舱数据快照")
        verbose_name_plural = _("驾驶舱数据快照")
        indexes = [
            # refresh_cockpit_snapshots: the recently read snapshots, stalest first.
            models.Index(fields=["read_at", "computed_at"], name="dashboard_snapshot_refresh"),
        ]

    def __str__(self) -> str:
        return f"{self.key[:12]} @ {self.computed_at:%Y-%m-%d %H:%M:%S}"


class DailyUnitFigure(models.Model):
    """One additive figure of one unit on one day (驾驶舱日汇总): how many records it counts
    and, for the signings, the amount they sum.

    Written only by PostgreSQL triggers on the leads and projects tables and by
    :func:`promo.dashboard.summary.rebuild`; never by Django code directly. The cockpit sums
    it over a period's days (promo/dashboard/summary.py holds the rules).
    """

    unit = models.ForeignKey(
        "officers.Unit", verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("日期"))
    figure = models.CharField(_("指标"), max_length=32)
    count = models.IntegerField(_("数量"), default=0)
    amount = models.DecimalField(_("金额(万元)"), max_digits=18, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("驾驶舱日汇总")
        verbose_name_plural = _("驾驶舱日汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "day", "figure"], name="dashboard_daily_figure_once"
            ),
        ]
        indexes = [
            # The cockpit: a period's days, then the units of the asked-for sub-trees.
            models.Index(fields=["day", "unit"], name="dashboard_daily_figure_day"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day} {self.figure}: {self.count} / {self.amount}"


class MonthlyUnitFigure(models.Model):
    """One additive figure of one unit in one month: the sum of its :class:`DailyUnitFigure`
    rows of that month (驾驶舱月汇总).

    A period's whole months are read from here and only its first and last partial months
    from the days: a year to date at province scale reads a few thousand rows instead of
    seventy thousand. Written only by the trigger on ``dashboard_dailyunitfigure`` (adding
    the new day rows and subtracting the old, so concurrent writers add up) and by
    :func:`promo.dashboard.summary.rebuild`.
    """

    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    month = models.DateField(_("月份"))
    figure = models.CharField(_("指标"), max_length=32)
    count = models.IntegerField(_("数量"), default=0)
    amount = models.DecimalField(_("金额(万元)"), max_digits=18, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("驾驶舱月汇总")
        verbose_name_plural = _("驾驶舱月汇总")
        constraints = [
            # Also the cockpit's read: a period's whole months, then the units.
            models.UniqueConstraint(
                fields=["month", "unit", "figure"], name="dashboard_monthly_figure_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%Y-%m} {self.figure}: {self.count} / {self.amount}"


class FunnelPeriodFigure(models.Model):
    """One figure of the lead funnel of one unit in one calendar month, quarter or year
    (信息漏斗期间汇总, :mod:`promo.dashboard.summary_funnel`): how many leads it counts at a
    stage or closed status (``figure`` the status, ``days`` 0), or how many of those entering a
    stage took ``days`` days from the stage before (``figure`` ``days_<stage>``).

    Written only by the trigger on ``leads_lead`` (adding the new rows' contributions and
    subtracting the old, so concurrent writers add up) and by the rebuild.
    """

    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    kind = models.CharField(_("期间类型"), max_length=8)
    start = models.DateField(_("期间起始日"))
    figure = models.CharField(_("指标"), max_length=24)
    days = models.IntegerField(_("天数"), default=0)
    count = models.IntegerField(_("数量"), default=0)

    class Meta:
        verbose_name = _("信息漏斗期间汇总")
        verbose_name_plural = _("信息漏斗期间汇总")
        constraints = [
            # Also the cockpit's read: one period's rows, then the units.
            models.UniqueConstraint(
                fields=["kind", "start", "unit", "figure", "days"],
                name="dashboard_funnel_figure_once",
                include=["count"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.kind} {self.start} {self.figure} {self.days}: {self.count}"


class VisitorDay(models.Model):
    """The visits (来区客商: receptions and site inspections) one unit logged of one investor
    on one day, for the cockpit's distinct visiting investors.

    Distinct investors cannot be summed over days, so the summary keeps the investors
    themselves: a period's figure is the number of distinct investors among its days' rows
    (a narrow covering index instead of the visits). Written only by the trigger on
    ``leads_visit`` and by :func:`promo.dashboard.summary.rebuild`.
    """

    # Indexed with its days below (dashboard_visitor_unit_day), not alone.
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    investor = models.ForeignKey(
        "leads.Investor", verbose_name=_("客商"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("日期"))
    visits = models.IntegerField(_("来访次数"), default=0)

    class Meta:
        verbose_name = _("驾驶舱来访客商日汇总")
        verbose_name_plural = _("驾驶舱来访客商日汇总")
        constraints = [
            # Also the cockpit's read: a period's days, then units, investors (index-only).
            models.UniqueConstraint(
                fields=["day", "unit", "investor"], name="dashboard_visitor_day_once"
            ),
        ]
        indexes = [
            # One unit's cockpit: its sub-tree's units, then the period's days (index-only;
            # by day first it read every unit's visitors of the period: a year at province
            # scale 64 -> 14 ms).
            models.Index(
                fields=["unit", "day"], include=["investor"], name="dashboard_visitor_unit_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day} {self.investor_id}: {self.visits}"


# A year's days as bits (VisitorYear.days): 366, room for 31 December of a leap year.
YEAR_BITS = 366


class YearDaysField(models.Field):
    """A set of days of one year as PostgreSQL ``bit(366)``: bit ``d`` (from the left, 0
    first) is the year's day ``d + 1`` (1 January bit 0, 31 December bit 364 or, in a leap
    year, 365). Read as the string of its bits."""

    description = _("一年中的日期集合")

    def db_type(self, connection: Any) -> str:
        return f"bit({YEAR_BITS})"


class VisitorYear(models.Model):
    """The days of one year on which one unit logged a visit of one investor (来区客商), as a
    set of days: the :class:`VisitorDay` rows of that unit, investor and year, one row
    instead of one per day.

    A period's distinct visiting investors are the investors of the rows whose days meet the
    period's days (a bit mask per year): a year to date at province scale reads about
    90,000 rows instead of 360,000. Written only by the triggers on
    ``dashboard_visitorday`` (a new day row sets its bit, a deleted one clears it; a day row
    is unique, so its bit is its own) and by :func:`promo.dashboard.summary.rebuild`.
    """

    # Indexed with its years below (dashboard_visitor_year_unit), not alone.
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    investor = models.ForeignKey(
        "leads.Investor", verbose_name=_("客商"), on_delete=models.CASCADE, related_name="+"
    )
    year = models.SmallIntegerField(_("年度"))
    days = YearDaysField(_("来访日期"))

    class Meta:
        verbose_name = _("驾驶舱来访客商年汇总")
        verbose_name_plural = _("驾驶舱来访客商年汇总")
        constraints = [
            # Also the bureau's read: a year's rows, then units, investors.
            models.UniqueConstraint(
                fields=["year", "unit", "investor"], name="dashboard_visitor_year_once"
            ),
        ]
        indexes = [
            # One unit's cockpit: its sub-tree's units, then the year.
            models.Index(fields=["unit", "year"], name="dashboard_visitor_year_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.year} {self.investor_id}: {self.days.count('1')}"


class ProjectFdiMonth(models.Model):
    """The arrived FDI (到账外资) a project's monthly progress adds for one month: the month's
    reported cumulative figure minus the one reported before it (万美元).

    The growth over a period is the sum of its months' rows (the cumulative figures
    telescope), with the project's unit beside it. Written only by the triggers on
    ``projects_investmentprogress`` and ``projects_project`` and by
    :func:`promo.dashboard.summary.rebuild`.
    """

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="+"
    )
    # Indexed with its months below (dashboard_fdi_unit_month), not alone.
    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    month = models.DateField(_("月份"))
    growth = models.DecimalField(_("到账外资增加(万美元)"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("驾驶舱到账外资月汇总")
        verbose_name_plural = _("驾驶舱到账外资月汇总")
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="dashboard_fdi_month_once"),
        ]
        indexes = [
            # The cockpit: a period's months, then the units of the asked-for sub-trees.
            models.Index(
                fields=["month", "unit"], include=["growth"], name="dashboard_fdi_month_unit"
            ),
            # One unit's cockpit: its sub-tree's units, then the period's months.
            models.Index(
                fields=["unit", "month"], include=["growth"], name="dashboard_fdi_unit_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.month}: {self.growth}"


class UnitFdiMonth(models.Model):
    """The arrived FDI (到账外资) one unit's projects add in one month: the sum of their
    :class:`ProjectFdiMonth` rows, and how many rows that is (万美元).

    The cockpit sums a period's months per unit from here: a province's quarter of a million
    project-month rows fold into a few hundred unit-month rows. Written only by the trigger
    on ``dashboard_projectfdimonth`` (adding what new rows bring and subtracting what old
    rows took, so concurrent writers add up) and by :func:`promo.dashboard.summary.rebuild`;
    a row whose project rows are gone (``projects`` 0) is deleted.
    """

    unit = models.ForeignKey(
        "officers.Unit",
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    month = models.DateField(_("月份"))
    growth = models.DecimalField(_("到账外资增加(万美元)"), max_digits=18, decimal_places=2)
    projects = models.IntegerField(_("项目月数"), default=0)

    class Meta:
        verbose_name = _("驾驶舱到账外资单位月汇总")
        verbose_name_plural = _("驾驶舱到账外资单位月汇总")
        constraints = [
            # Also the cockpit's read: a period's months, then the units.
            models.UniqueConstraint(fields=["month", "unit"], name="dashboard_unit_fdi_once"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month}: {self.growth}"


class ProjectLatestReport(models.Model):
    """The latest month a project reported its progress for (最近填报月份), one row per
    project that ever reported.

    The cockpit counts the projects that reported within a period (the count of the list its
    arrived-FDI figures link to): a project reported in ``[start, end]`` when its latest
    report up to ``end``'s month is on or after ``start``'s month. For a period ending this
    month that latest report is this row's, so the cockpit reads a province's 60,000
    projects with one join instead of one index probe each; only a project that reported
    after a past period's end is still probed (:func:`projects.models.last_progress_month`),
    unless its first report (``first_month``) came after that end: then it has none to find.
    Written only by the trigger on ``projects_investmentprogress`` and by
    :func:`promo.dashboard.summary.rebuild`; compared with the reports every night.
    """

    project = models.OneToOneField(
        "projects.Project",
        verbose_name=_("项目"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="latest_report",
    )
    month = models.DateField(_("最近填报月份"))
    # The earliest: a period that ended before it has no report of the project to look for.
    first_month = models.DateField(_("最早填报月份"))

    class Meta:
        verbose_name = _("项目最近填报月份")
        verbose_name_plural = _("项目最近填报月份")

    def __str__(self) -> str:
        return f"{self.project_id}: {self.month}"
