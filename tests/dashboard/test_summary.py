"""The cockpit's daily summary of the additive figures (promo/dashboard/summary.py): kept by
triggers through every kind of write, equal to a recomputation from the raw rows, read by the
cockpit in pinned queries, and reconciled nightly with an alert to the administrators. Its
month sums follow it (the comparison covers them) and give the cockpit a period's whole
months, the days the rest."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads import services as lead_services
from leads.choices import LeadStatus, VisitKind
from leads.models import Lead
from officers.choices import Role
from projects import services as project_services
from projects.choices import Milestone, Stage
from projects.models import Project
from promo.core.errors import RuleViolation
from promo.core.services import today
from promo.dashboard import summary
from promo.dashboard.forms import Period, PeriodKind, period_for
from promo.dashboard.models import DailyUnitFigure, FunnelPeriodFigure, MonthlyUnitFigure
from promo.dashboard.selectors import CockpitFilters, cockpit
from promo.reports.choices import Figure, SystemNoticeKind
from promo.reports.models import SystemNotice
from promo.reports.selectors import period_figures
from tests.factories import make_investor, make_lead, make_officer, sign_lead, stage_evidence

pytestmark = pytest.mark.django_db

SUMMED = sorted(summary.SUMMED)
SPAN = 400  # events fall in the last SPAN days


def _raw(start: date, end: date, units, own=()) -> dict:
    return period_figures(start=start, end=end, units=units, own_units=own)


def _assert_summary_equals_raw(bureau, start: date, end: date) -> None:
    """The summed figures equal the old computation, for the bureau, its first-level units
    with its own row, and one sub-unit's sub-tree, over ``[start, end]``."""
    units = [bureau.shanghai, bureau.shenzhen, bureau.department]
    cases = [
        (None, ()),
        (units, (bureau.bureau,)),
        ([bureau.shanghai_team], (bureau.shanghai,)),
    ]
    for asked, own in cases:
        raw = _raw(start, end, asked, own)
        rows, total = summary.cockpit_figures(
            start=start, end=end, units=asked or [], own_units=own, total=None
        )
        fast = rows if asked is not None else total
        assert raw.keys() == fast.keys()
        for key in raw:
            assert fast[key].as_dict() == raw[key].as_dict(), (asked, key, start, end)
    # The cockpit's call: its rows and its total in one go (the bureau, and one office).
    calls: list[tuple[Any, Any, Any]] = [
        (units, [bureau.bureau], None),
        ([bureau.shanghai_team], [bureau.shanghai], bureau.shanghai),
    ]
    for rows, own_rows, total_unit in calls:
        per_unit, total = summary.cockpit_figures(
            start=start,
            end=end,
            units=rows,
            own_units=own_rows,
            total=None if total_unit is None else [total_unit],
        )
        raw = _raw(start, end, rows, own_rows)
        assert {k: v.as_dict() for k, v in per_unit.items()} == {
            k: v.as_dict() for k, v in raw.items()
        }
        raw_total = _raw(start, end, None if total_unit is None else [total_unit])
        assert {k: v.as_dict() for k, v in total.items()} == {
            k: v.as_dict() for k, v in raw_total.items()
        }
    assert summary.compare(today() - timedelta(days=SPAN + 30), today()) == []


# --- The hypothesis test: a random sequence of events, then any period ------------------------

_day = st.integers(min_value=0, max_value=SPAN)  # days back from today
_event = st.one_of(
    st.tuples(st.just("lead"), st.sampled_from(["shanghai", "team", "shenzhen"]), _day),
    st.tuples(st.just("qualify"), st.integers(0, 50), _day),
    st.tuples(st.just("negotiate"), st.integers(0, 50), _day),
    st.tuples(st.just("drop"), st.integers(0, 50), _day),
    st.tuples(st.just("sign"), st.integers(0, 50), st.sampled_from([800, 3000, 20000])),
    st.tuples(st.just("visit"), st.integers(0, 50), _day),
    st.tuples(st.just("groundbreak"), st.integers(0, 50), _day),
    st.tuples(st.just("milestone"), st.integers(0, 50), _day),
    st.tuples(st.just("correct_milestone"), st.integers(0, 50), _day),
    st.tuples(st.just("amend_amount"), st.integers(0, 50), st.sampled_from([500, 1500, 12000])),
    st.tuples(st.just("backdate_contract"), st.integers(0, 50), _day),
    st.tuples(st.just("move_lead"), st.integers(0, 50), st.sampled_from(["shanghai", "shenzhen"])),
)


class _World:
    def __init__(self, bureau) -> None:
        self.b = bureau
        self.actors = {
            "shanghai": bureau.shanghai_officer,
            "team": bureau.sub_unit_officer,
            "shenzhen": bureau.outsider,
        }

    def _lead(self, index: int, **filters) -> Lead | None:
        leads = list(Lead.objects.filter(**filters).order_by("pk"))
        return leads[index % len(leads)] if leads else None

    def _project(self, index: int, **filters) -> Project | None:
        projects = list(Project.objects.filter(**filters).order_by("pk"))
        return projects[index % len(projects)] if projects else None

    def _actor_of(self, record) -> object:
        # The chief may work every record (the bureau's scope).
        return self.b.chief

    def apply(self, kind: str, a, c) -> None:
        # c is days back for the dated events (an amount or a unit for the others).
        day: date = today() - timedelta(days=c if isinstance(c, int) and c <= SPAN else 0)
        if kind == "lead":
            make_lead(self.actors[a], investor=make_investor(self.actors[a]))
        elif kind in ("qualify", "negotiate"):
            status, wanted = {
                "qualify": (LeadStatus.INFORMATION, LeadStatus.VALID),
                "negotiate": (LeadStatus.VALID, LeadStatus.NEGOTIATING),
            }[kind]
            lead = self._lead(a, status=status)
            if lead is not None:
                earliest = lead.qualified_on or lead.created_at.date() - timedelta(days=SPAN)
                lead_services.lead_transition(
                    lead=lead, actor=self.b.chief, to_status=wanted, on_date=max(day, earliest)
                )
        elif kind == "drop":
            lead = self._lead(a, status__in=[LeadStatus.VALID, LeadStatus.NEGOTIATING])
            if lead is not None:
                after = max(d for d in (lead.qualified_on, lead.negotiating_on) if d)
                lead_services.lead_transition(
                    lead=lead,
                    actor=self.b.chief,
                    to_status=LeadStatus.DROPPED,
                    reason="投资方战略调整",
                    on_date=max(day, after),
                )
        elif kind == "sign":
            lead = self._lead(a, status=LeadStatus.NEGOTIATING)
            if lead is not None:
                sign_lead(
                    self.b.chief,
                    lead,
                    contract_date=max(
                        lead.negotiating_on or today(), today() - timedelta(days=SPAN // 2)
                    ),
                    amount=c,
                )
        elif kind == "visit":
            lead = self._lead(a, status__in=[LeadStatus.VALID, LeadStatus.NEGOTIATING])
            if lead is not None:
                lead_services.visit_log(
                    actor=self.b.chief,
                    kind=VisitKind.RECEPTION,
                    visited_on=day,
                    investor=lead.investor,
                    lead=lead,
                    summary="洽谈",
                )
        elif kind == "groundbreak":
            project = self._project(a, stage=Stage.SIGNED)
            if project is not None:
                project_services.project_advance(
                    project=project,
                    actor=self.b.chief,
                    to_stage=Stage.GROUNDBREAKING,
                    actual_date=max(day, project.contract_date),
                    evidence=stage_evidence(Stage.GROUNDBREAKING),
                )
        elif kind == "milestone":
            project = self._project(a, in_statistics_actual__isnull=True)
            if project is not None:
                project_services.project_milestone_record(
                    project=project,
                    actor=self.b.chief,
                    milestone=Milestone.IN_STATISTICS,
                    actual_date=max(day, project.contract_date),
                )
        elif kind == "correct_milestone":
            project = self._project(a, in_statistics_actual__isnull=False)
            if project is not None:
                # A corrected date moves the project to another day; every third one withdraws it.
                project_services.project_milestone_correct(
                    project=project,
                    actor=self.b.chief,
                    milestone=Milestone.IN_STATISTICS,
                    actual_date=None if c % 3 == 0 else max(day, project.contract_date),
                    reason="统计局反馈更正",
                )
        elif kind == "amend_amount":
            project = self._project(a)
            if project is not None:
                project_services.project_update_figures(
                    project=project,
                    actor=self.b.chief,
                    reason="合同金额更正",
                    signed_investment=Decimal(c),
                )
        elif kind == "backdate_contract":
            # A bulk correction outside the services (an import, a data fix): one UPDATE.
            project = self._project(a, stage=Stage.SIGNED)
            if project is not None and project.lead is not None:
                floor = project.lead.negotiating_on or project.contract_date
                Project.objects.filter(pk=project.pk).update(
                    contract_date=min(max(day, floor), project.contract_date)
                )
        elif kind == "move_lead":
            # A claim decided for another unit moves the lead (and its project) with update().
            lead = self._lead(a)
            if lead is not None:
                unit = self.b.shanghai if c == "shanghai" else self.b.shenzhen
                Lead.objects.filter(pk=lead.pk).update(unit=unit)
                Project.objects.filter(lead=lead).update(unit=unit)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(_event, min_size=1, max_size=12),
    start_back=st.integers(0, SPAN + 10),
    length=st.integers(0, SPAN),
)
def test_the_summary_equals_raw_recomputation_after_random_events(
    bureau, events, start_back, length
):
    world = _World(bureau)
    for kind, a, c in events:
        try:
            world.apply(kind, a, c)
        except RuleViolation:
            pass  # refused by the domain (a correction to the same date): nothing written
    start = today() - timedelta(days=start_back)
    end = min(start + timedelta(days=length), today() + timedelta(days=30))
    _assert_summary_equals_raw(bureau, start, end)


def test_every_kind_of_event_moves_the_summary(bureau):
    """The sequence the hypothesis test draws from, each kind at least once, checked after
    each step (so a kind the triggers miss fails by name)."""
    world = _World(bureau)
    steps = [
        ("lead", "shanghai", 0),
        ("lead", "team", 0),
        ("lead", "shenzhen", 0),
        ("qualify", 0, 200),
        ("qualify", 0, 150),
        ("qualify", 0, 120),
        ("negotiate", 0, 100),
        ("negotiate", 0, 90),
        ("sign", 0, 20000),
        ("sign", 0, 800),
        ("visit", 0, 5),
        ("drop", 0, 3),
        ("groundbreak", 0, 40),
        ("milestone", 0, 30),
        ("correct_milestone", 0, 10),
        ("correct_milestone", 0, 0),
        ("amend_amount", 0, 1500),
        ("backdate_contract", 0, 300),
        ("move_lead", 0, "shenzhen"),
    ]
    for kind, a, c in steps:
        world.apply(kind, a, c)
        _assert_summary_equals_raw(bureau, today() - timedelta(days=SPAN), today())
        assert _months() == _months_of_days(), (kind, a, c)
    assert DailyUnitFigure.objects.filter(figure=Figure.SIGNED_COUNT).exists()
    assert MonthlyUnitFigure.objects.filter(figure=Figure.SIGNED_COUNT).exists()


def _months() -> dict[tuple[int, date, str], tuple[int, Decimal]]:
    """The month sums, those at zero left out (as a missing day is zero)."""
    return {
        (row.unit_id, row.month, row.figure): (row.count, row.amount)
        for row in MonthlyUnitFigure.objects.all()
        if row.count or row.amount
    }


def _months_of_days() -> dict[tuple[int, date, str], tuple[int, Decimal]]:
    sums: dict[tuple[int, date, str], tuple[int, Decimal]] = {}
    for row in DailyUnitFigure.objects.all():
        key = (row.unit_id, row.day.replace(day=1), row.figure)
        count, amount = sums.get(key, (0, Decimal(0)))
        sums[key] = (count + row.count, amount + row.amount)
    return {key: value for key, value in sums.items() if value[0] or value[1]}


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)),
    length=st.integers(-3, 800),
)
def test_a_period_splits_into_its_whole_months_and_the_days_around_them(start, length):
    end = start + timedelta(days=length)
    months, edges = summary.month_split(start, end)
    if start > end:  # an empty period stays as it was asked: it reads no day
        assert (months, edges) == (None, [(start, end)])
        return
    days: list[date] = []
    for first, last in edges:
        assert first <= last
        days += [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if months is not None:
        first, last = months
        assert first.day == last.day == 1 and first <= last
        month = first
        while month <= last:
            following = (month + timedelta(days=32)).replace(day=1)
            days += [month + timedelta(days=n) for n in range((following - month).days)]
            month = following
    # Every day of the period once, nothing else; at most a partial month at each end.
    assert sorted(days) == [start + timedelta(days=n) for n in range(length + 1)]
    assert len(days) == len(set(days)) and len(edges) <= 2
    if months is None:
        assert edges == [(start, end)]
    else:  # a partial month at either end, at most
        for first, last in edges:
            assert (first.year, first.month) == (last.year, last.month)
            assert first == start or last == end


def test_the_cockpit_reads_whole_months_from_the_month_sums_and_a_tampered_one_is_corrected(
    bureau,
):
    """A month's sum edited by hand (a write around its trigger) changes what a period of
    that whole month reads, not a period of part of it (read from the days); the comparison
    finds it by name and the reconciliation puts it right."""
    me = bureau.shanghai_officer
    month = (today().replace(day=1) - timedelta(days=1)).replace(day=1)  # last month
    signed = month + timedelta(days=9)
    project = sign_lead(me, make_lead(me, status="negotiating"), amount=3000, contract_date=signed)
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    def signed_counts() -> tuple[int, int]:
        whole, part = (
            summary.cockpit_figures(start=s, end=e, units=[], own_units=[], total=None)[1][None]
            for s, e in ((month, last), (month + timedelta(days=1), last))
        )
        return whole.signed_count, part.signed_count

    assert signed_counts() == (1, 1)
    row = MonthlyUnitFigure.objects.get(figure=Figure.SIGNED_COUNT, month=month)
    assert (row.unit_id, row.count, row.amount) == (project.unit_id, 1, Decimal("3000.00"))
    MonthlyUnitFigure.objects.filter(pk=row.pk).update(count=4)
    assert signed_counts() == (4, 1)
    found = summary.compare(month, last)
    assert [(m.unit_id, m.day, m.figure) for m in found] == [
        (project.unit_id, month, f"month:{Figure.SIGNED_COUNT.value}")
    ]
    assert (found[0].stored, found[0].expected) == (
        (4, Decimal("3000.00")),
        (1, Decimal("3000.00")),
    )
    result = summary.reconcile(today().replace(day=1))  # the 1st: the year so far
    assert len(result.mismatches) == 1 and result.corrected
    assert signed_counts() == (1, 1)
    assert summary.compare(month, last) == [] and _months() == _months_of_days()


# --- The cockpit reads the summary -----------------------------------------------------------


def test_the_cockpit_figures_are_those_of_the_raw_rows_on_the_mixed_world(bureau, settings):
    import time_machine

    from tests.dashboard.seed import build_mixed
    from tests.reports.seed import TODAY

    with time_machine.travel(TODAY, tick=False):
        build_mixed(bureau)
        day = today()
        periods = []
        for kind in ("month", "quarter", "ytd"):
            for on in (day, date(2025, 10, 15)):
                period = period_for(kind, on)
                for years in (period, period.last_year):
                    _assert_summary_equals_raw(bureau, years.start, years.end)
                    periods.append((years.start, years.end))
        _assert_many_periods_equal_raw(bureau, periods)


def _assert_many_periods_equal_raw(bureau, periods: list[tuple[date, date]]) -> None:
    """Periods read together (overlapping, some sharing an end) give each what it gives alone:
    the raw figures of its rows and of its total; with ``figures``, those and zeros."""
    units = [bureau.shanghai, bureau.shenzhen, bureau.department]
    calls: list[tuple[Any, Any, Any]] = [
        (units, [bureau.bureau], None),
        ([bureau.shanghai_team], [bureau.shanghai], bureau.shanghai),
        ([], [], None),
    ]
    assert len({end for _start, end in periods}) < len(periods)  # shared ends are read once
    for rows, own_rows, total_unit in calls:
        total = None if total_unit is None else [total_unit]
        read = summary.cockpit_figures_over(periods, units=rows, own_units=own_rows, total=total)
        for (start, end), (per_unit, totals) in zip(periods, read, strict=True):
            raw = _raw(start, end, rows, own_rows)
            assert {k: v.as_dict() for k, v in per_unit.items()} == {
                k: v.as_dict() for k, v in raw.items()
            }, (rows, start, end)
            raw_total = _raw(start, end, total)
            assert {k: v.as_dict() for k, v in totals.items()} == {
                k: v.as_dict() for k, v in raw_total.items()
            }, (total_unit, start, end)
    # The headline band's read: some figures of the total alone, the others left at zero.
    some = {Figure.SIGNED_COUNT, Figure.SIGNED_AMOUNT, Figure.ARRIVED_FDI, Figure.VALID_LEADS}
    for (start, end), (per_unit, totals) in zip(
        periods,
        summary.cockpit_figures_over(periods, units=[], own_units=[], total=None, figures=some),
        strict=True,
    ):
        assert per_unit == {}
        raw_total = _raw(start, end, None)[None].as_dict()
        assert totals[None].as_dict() == {
            name: value if name in some else type(value)() for name, value in raw_total.items()
        }
        assert any(totals[None].as_dict()[name] for name in some) or not any(
            raw_total[name] for name in some
        )


def test_reading_the_summed_figures_is_one_query(bureau, django_assert_num_queries):
    sign_lead(bureau.shanghai_officer, make_lead(bureau.shanghai_officer, status="negotiating"))
    units = [bureau.shanghai, bureau.shenzhen]
    with django_assert_num_queries(1):
        summed, _total = summary.cockpit_figures_over(
            [(date(2000, 1, 1), today())],
            units=units,
            own_units=[bureau.bureau],
            total=None,
            figures=summary.SUMMED,
        )[0]
    assert summed[bureau.shanghai.pk].get(Figure.SIGNED_COUNT) == 1
    # The cockpit's rows and total: 5 queries (two calls of period_figures took 8, and 6
    # before the rows were folded from figures grouped by unit, decision 0021): the summary,
    # the leads' stocks, the groundbreakings' amount and the arrived FDI grouped by unit for
    # rows and total together, the visiting investors (distinct: GROUPING SETS).
    with django_assert_num_queries(5):
        per_unit, total = summary.cockpit_figures(
            start=date(2000, 1, 1),
            end=today(),
            units=units,
            own_units=[bureau.bureau],
            total=None,
        )
    assert per_unit[bureau.shanghai.pk].signed_count == total[None].signed_count == 1
    # Three periods (the cockpit's now, last year and year to date): the four folded reads
    # once for all of them, the visiting investors once each; 18 queries before.
    periods = [(date(2000, 1, 1), today()), (date(1999, 1, 1), today()), (today(), today())]
    with django_assert_num_queries(4 + 3):
        read = summary.cockpit_figures_over(
            periods, units=units, own_units=[bureau.bureau], total=None
        )
    alone = [
        summary.cockpit_figures(
            start=start, end=end, units=units, own_units=[bureau.bureau], total=None
        )
        for start, end in periods
    ]
    assert [
        ({k: v.as_dict() for k, v in rows.items()}, totals[None].as_dict()) for rows, totals in read
    ] == [
        ({k: v.as_dict() for k, v in rows.items()}, totals[None].as_dict())
        for rows, totals in alone
    ]
    assert [totals[None].signed_count for _rows, totals in read][:2] == [1, 1]


def test_the_stocks_are_read_from_the_days_changes_not_from_the_leads(bureau):
    """在手有效线索 and 在谈项目 at a period's end: the sum of every day's +1 (entered) and -1
    (signed or closed) up to it, from the month sums and the days (decision 0029)."""
    me = bureau.shanghai_officer
    sign_lead(me, make_lead(me, status="negotiating"), amount=3000)  # in hand, then left
    make_lead(me, status="negotiating")  # in hand and in negotiation today
    make_lead(bureau.outsider, status="valid")  # in hand, another unit
    units = [bureau.shanghai, bureau.shenzhen]
    stocks = [Figure.LEADS_IN_HAND, Figure.LEADS_NEGOTIATING]
    ends = [today(), today() - timedelta(days=40), date(2000, 1, 31)]
    with CaptureQueriesContext(connection) as queries:
        read = summary.cockpit_figures_over(
            [(date(2000, 1, 1), end) for end in ends],
            units=units,
            own_units=[bureau.bureau],
            total=None,
            figures=stocks,
        )
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert "leads_lead" not in sql and summary.MONTHLY_TABLE in sql
    for (rows, totals), end in zip(read, ends, strict=True):
        raw = period_figures(
            start=date(2000, 1, 1), end=end, units=units, own_units=[bureau.bureau]
        )
        raw_total = period_figures(start=date(2000, 1, 1), end=end, units=None)
        for key, figures in rows.items():
            assert (figures.leads_in_hand, figures.leads_negotiating) == (
                raw[key].leads_in_hand,
                raw[key].leads_negotiating,
            ), (key, end)
        assert totals[None].leads_in_hand == raw_total[None].leads_in_hand
    (today_rows, today_total), _earlier, (_old_rows, old_total) = read
    assert (today_total[None].leads_in_hand, today_total[None].leads_negotiating) == (2, 1)
    assert today_rows[bureau.shanghai.pk].leads_in_hand == 1
    assert old_total[None].leads_in_hand == 0


def test_a_narrowed_cockpit_is_computed_from_the_raw_rows(bureau):
    project = sign_lead(
        bureau.shanghai_officer, make_lead(bureau.shanghai_officer, status="negotiating")
    )
    # The summary is wrong on purpose: a narrowed read does not use it.
    DailyUnitFigure.objects.filter(figure=Figure.SIGNED_COUNT).update(count=99)
    period = Period(PeriodKind.CUSTOM, project.contract_date, today())
    narrowed = cockpit(
        bureau.chief, CockpitFilters(period=period, today=today(), industry=project.industry)
    )
    assert narrowed["total"].figures.signed_count == 1
    plain = cockpit(bureau.chief, CockpitFilters(period=period, today=today()))
    assert plain["total"].figures.signed_count == 99


def test_the_cockpit_page_shows_the_summed_figures(bureau, django_assert_max_num_queries):
    me = bureau.shanghai_officer
    sign_lead(me, make_lead(me, status="negotiating"), amount=3000, contract_date=today())
    f = CockpitFilters(period=period_for("ytd", today()), today=today())
    with django_assert_max_num_queries(40):
        data = cockpit(bureau.chief, f)
    row = next(r for r in data["rows"] if r.unit == bureau.shanghai)
    assert row.figures.signed_count == 1 and row.figures.signed_amount == Decimal("3000.00")
    assert data["total"].figures.signed_count == 1


# --- Backfill and bulk loads ----------------------------------------------------------------


def test_rebuild_recomputes_the_summary_from_the_raw_rows(bureau):
    me = bureau.shanghai_officer
    sign_lead(me, make_lead(me, status="negotiating"), amount=3000)
    before = sorted(DailyUnitFigure.objects.values_list("unit", "day", "figure", "count", "amount"))
    funnel = sorted(
        FunnelPeriodFigure.objects.values_list("unit", "kind", "start", "figure", "days", "count")
    )
    assert before and funnel
    DailyUnitFigure.objects.all().delete()
    FunnelPeriodFigure.objects.all().delete()
    out = StringIO()
    call_command("rebuild_cockpit_summary", stdout=out)
    after = sorted(DailyUnitFigure.objects.values_list("unit", "day", "figure", "count", "amount"))
    assert after == before
    assert (
        sorted(
            FunnelPeriodFigure.objects.values_list(
                "unit", "kind", "start", "figure", "days", "count"
            )
        )
        == funnel
    )
    # The days, their months and the funnel's periods (no visits or FDI here): every row
    # the rebuild wrote.
    months = MonthlyUnitFigure.objects.count()
    assert months and _months() == _months_of_days()
    assert f"{len(before) + months + len(funnel)} summary rows written" in out.getvalue()


def test_the_benchmark_bulk_load_leaves_a_correct_summary():
    # COPY under pgtrigger.ignore (the history triggers off): the summary's statement
    # triggers still see every row.
    call_command("seed_demo", scale="county", factor=0.002, stdout=StringIO())
    assert Project.objects.exists() and Lead.objects.exclude(qualified_on=None).exists()
    assert DailyUnitFigure.objects.exists()
    assert summary.compare(date(1900, 1, 1), date(2100, 1, 1)) == []


# --- Nightly reconciliation -----------------------------------------------------------------


def test_reconciliation_finds_a_tampered_row_tells_the_administrators_and_corrects_it(
    bureau, caplog
):
    me = bureau.shanghai_officer
    # Signed two days ago: inside the nightly window (the last RECONCILE_DAYS days).
    signed = today() - timedelta(days=2)
    project = sign_lead(me, make_lead(me, status="negotiating"), amount=3000, contract_date=signed)
    admin = make_officer(bureau.bureau, role=Role.ADMIN)
    row = DailyUnitFigure.objects.get(figure=Figure.SIGNED_COUNT, day=project.contract_date)
    assert summary.reconcile(today()).mismatches == []
    assert not SystemNotice.objects.exists()

    # A write that bypassed the triggers (here: the summary itself edited by hand).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dashboard_dailyunitfigure SET count = 5, amount = 1 WHERE id = %s", [row.pk]
        )
    with caplog.at_level(logging.ERROR, logger="promo.dashboard.summary"):
        result = summary.reconcile(today())
    assert [(m.unit_id, m.day, m.figure) for m in result.mismatches] == [
        (bureau.shanghai.pk, project.contract_date, Figure.SIGNED_COUNT)
    ]
    assert result.mismatches[0].stored == (5, Decimal("1.00"))
    assert result.mismatches[0].expected == (1, Decimal("3000.00"))
    assert "cockpit summary mismatch" in caplog.text
    notice = SystemNotice.objects.get(recipient=admin)
    assert notice.kind == SystemNoticeKind.SUMMARY_MISMATCH
    assert str(project.contract_date) in notice.last_error
    # The bell says what differed and that it was corrected.
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("reports:notices")).content.decode()
    assert "已按原始数据重算更正" in page and str(project.contract_date) in page
    # Not told to those who cannot fix it.
    assert not SystemNotice.objects.filter(recipient=bureau.chief).exists()
    # Corrected after the alert: the next night finds nothing.
    row = DailyUnitFigure.objects.get(figure=Figure.SIGNED_COUNT, day=project.contract_date)
    assert (row.count, row.amount) == (1, Decimal("3000.00"))
    assert summary.reconcile(today()).mismatches == []
    assert SystemNotice.objects.get(recipient=admin).count == 1


def test_the_reconciliation_window():
    assert summary.reconcile_window(date(2026, 12, 3)) == (date(2026, 11, 19), date(2026, 12, 3))
    # On the 1st the whole year so far; on 1 January the last December too.
    assert summary.reconcile_window(date(2026, 12, 1)) == (date(2026, 1, 1), date(2026, 12, 1))
    assert summary.reconcile_window(date(2027, 1, 1)) == (date(2026, 12, 1), date(2027, 1, 1))


def test_the_reconciliation_is_scheduled_nightly_and_the_task_runs(bureau):
    from django.conf import settings as django_settings

    from promo.celery import app
    from promo.dashboard.tasks import reconcile_cockpit_summary

    entry = django_settings.CELERY_BEAT_SCHEDULE["dashboard-reconcile-summary"]
    assert entry["task"] == "promo.dashboard.tasks.reconcile_cockpit_summary"
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {4} and entry["schedule"].minute == {15}
    me = bureau.shanghai_officer
    sign_lead(me, make_lead(me, status="negotiating"), contract_date=today())
    DailyUnitFigure.objects.all().delete()
    outcome = reconcile_cockpit_summary.apply().get()
    assert outcome["mismatches"] > 0 and outcome["corrected"] > 0
    assert reconcile_cockpit_summary.apply().get()["mismatches"] == 0
