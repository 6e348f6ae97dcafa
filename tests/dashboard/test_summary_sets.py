"""The summaries of the cockpit's two non-additive figures (promo/dashboard/summary_sets.py):
the distinct visiting investors (来区客商) and the arrived FDI (到账外资). Kept by triggers
through services and bulk writes (visits moved between units, redated, changed in kind,
given to another investor, deleted; progress reported, amended in bulk, deleted; projects
moved between units), equal to the raw recomputation (promo.reports.selectors.period_figures)
for any period, reconciled with the daily summary. The FDI's unit-month sums, which the cockpit
reads, equal the project-month rows' sums after every write, under concurrent writers too."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads import services as lead_services
from leads.choices import VisitKind
from leads.models import Visit
from projects import services as project_services
from projects.models import InvestmentProgress, Project
from promo.core.services import today
from promo.dashboard import summary, summary_sets
from promo.dashboard.models import ProjectFdiMonth, UnitFdiMonth, VisitorDay, VisitorYear
from promo.reports.choices import Figure
from promo.reports.selectors import period_figures
from tests.dashboard.raw import race
from tests.factories import make_bureau, make_investor, make_lead, make_project

pytestmark = pytest.mark.django_db

SPAN = 400
FIGURES = {Figure.INVESTORS_VISITING, Figure.ARRIVED_FDI}


def _arrived_fdi(*, start: date, end: date, units, own_units, total_unit):
    """The cockpit's read of the FDI summary (summary.cockpit_figures_over), as
    ``visiting_investors`` answers: ({row: growth}, the total's growth)."""
    rows, totals = summary.cockpit_figures_over(
        [(start, end)],
        units=units,
        own_units=own_units,
        total=None if total_unit is None else [total_unit],
        figures={Figure.ARRIVED_FDI},
    )[0]
    return {key: row.arrived_fdi for key, row in rows.items()}, next(
        iter(totals.values())
    ).arrived_fdi


def _assert_equal_to_raw(b, start: date, end: date) -> None:
    """Rows and total of the cockpit's two calls (the bureau; the Shanghai office) equal the
    raw computation, and the reconciliation finds nothing over the whole span."""
    calls: list[tuple[Any, Any, Any]] = [
        ([b.shanghai, b.shenzhen, b.department], [b.bureau], None),
        ([b.shanghai_team], [b.shanghai], b.shanghai),
    ]
    for rows, own, total_unit in calls:
        for fn, figure in (
            (summary_sets.visiting_investors, Figure.INVESTORS_VISITING),
            (_arrived_fdi, Figure.ARRIVED_FDI),
        ):
            per_unit, total = fn(
                start=start, end=end, units=rows, own_units=own, total_unit=total_unit
            )
            raw = period_figures(start=start, end=end, units=rows, own_units=own, figures={figure})
            for key, figures in raw.items():
                assert per_unit.get(key, 0) == getattr(figures, figure), (figure, key, start, end)
            raw_total = period_figures(
                start=start,
                end=end,
                units=None if total_unit is None else [total_unit],
                figures={figure},
            )
            assert total == getattr(next(iter(raw_total.values())), figure), (figure, start, end)
    assert summary.compare(today() - timedelta(days=SPAN + 60), today() + timedelta(days=60)) == []


_day = st.integers(min_value=0, max_value=SPAN)
_pick = st.integers(0, 50)
_unit = st.sampled_from(["shanghai", "team", "shenzhen"])
_event = st.one_of(
    st.tuples(st.just("visit"), _pick, _day, st.sampled_from(list(VisitKind.values))),
    st.tuples(st.just("visit_again"), _pick, _day, st.just("")),
    st.tuples(st.just("move_visit"), _pick, _unit, st.just("")),
    st.tuples(st.just("redate_visit"), _pick, _day, st.just("")),
    st.tuples(st.just("rekind_visit"), _pick, st.sampled_from(list(VisitKind.values)), st.just("")),
    st.tuples(st.just("reinvest_visit"), _pick, _pick, st.just("")),
    st.tuples(st.just("delete_visit"), _pick, st.just(0), st.just("")),
    st.tuples(st.just("project"), _unit, _day, st.just("")),
    st.tuples(st.just("progress"), _pick, _day, st.sampled_from([0, 50, 120, 400])),
    st.tuples(st.just("bulk_fdi"), _pick, st.sampled_from([0, 10, 999]), st.just("")),
    st.tuples(st.just("delete_progress"), _pick, st.just(0), st.just("")),
    st.tuples(st.just("move_project"), _pick, _unit, st.just("")),
)


class _World:
    def __init__(self, b) -> None:
        self.b = b
        self.actors = {"shanghai": b.shanghai_officer, "team": b.sub_unit_officer}
        self.actors["shenzhen"] = b.outsider
        self.units = {"shanghai": b.shanghai, "team": b.shanghai_team, "shenzhen": b.shenzhen}
        # Two leads whose investors the visits go to (others join as visits are made).
        make_lead(b.shanghai_officer, investor=make_investor(b.shanghai_officer))
        make_lead(b.outsider, investor=make_investor(b.outsider))

    @staticmethod
    def _nth(qs, index: int):
        rows = list(qs.order_by("pk"))
        return rows[index % len(rows)] if rows else None

    def apply(self, kind: str, a, c, d) -> None:
        day = today() - timedelta(days=c) if isinstance(c, int) else today()
        from leads.models import Investor, Lead

        if kind in ("visit", "visit_again"):
            lead = self._nth(Lead.objects.all(), a)
            if kind == "visit_again":
                # The same investor again, some day: the distinct count must not double.
                earlier = self._nth(Visit.objects.all(), a)
                if earlier is None:
                    return
                lead, day = earlier.lead or lead, earlier.visited_on
            lead_services.visit_log(
                actor=self.b.chief,
                kind=d or VisitKind.RECEPTION,
                visited_on=day,
                investor=lead.investor,
                lead=lead,
                summary="洽谈",
            )
        elif kind == "move_visit":
            visit = self._nth(Visit.objects.all(), a)
            if visit is not None:
                Visit.objects.filter(pk=visit.pk).update(unit=self.units[c])
        elif kind == "redate_visit":
            visit = self._nth(Visit.objects.all(), a)
            if visit is not None:
                Visit.objects.filter(pk=visit.pk).update(visited_on=day)
        elif kind == "rekind_visit":
            visit = self._nth(Visit.objects.all(), a)
            if visit is not None:
                Visit.objects.filter(pk=visit.pk).update(kind=c)
        elif kind == "reinvest_visit":
            # An investor merged into another (a duplicate found): its visits follow in bulk.
            visit = self._nth(Visit.objects.all(), a)
            investor = self._nth(Investor.objects.all(), c)
            if visit is not None:
                Visit.objects.filter(investor=visit.investor).update(investor=investor)
        elif kind == "delete_visit":
            visit = self._nth(Visit.objects.all(), a)
            if visit is not None:
                visit.officers.clear()
                Visit.objects.filter(pk=visit.pk).delete()
        elif kind == "project":
            project = make_project(self.actors[a])
            # Signed long ago (a data fix: the lead's dates stay), so reports may go back.
            Project.objects.filter(pk=project.pk).update(
                contract_date=today() - timedelta(days=SPAN)
            )
        elif kind == "progress":
            project = self._nth(Project.objects.all(), a)
            if project is not None:
                month = max(day, project.contract_date).replace(day=1)
                project_services.progress_record(
                    project=project,
                    actor=self.b.chief,
                    month=month,
                    agreed_investment=1000,
                    paid_in=100,
                    fixed_asset_investment=100,
                    arrived_fdi=Decimal(d),
                )
        elif kind == "bulk_fdi":
            # A data fix outside the services: one UPDATE of a project's reports.
            project = self._nth(Project.objects.all(), a)
            if project is not None:
                InvestmentProgress.objects.filter(project=project).update(arrived_fdi=Decimal(c))
        elif kind == "delete_progress":
            progress = self._nth(InvestmentProgress.objects.all(), a)
            if progress is not None:
                progress.delete()
        elif kind == "move_project":
            project = self._nth(Project.objects.all(), a)
            if project is not None:
                Project.objects.filter(pk=project.pk).update(unit=self.units[c])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(_event, min_size=1, max_size=14),
    start_back=st.integers(0, SPAN + 10),
    length=st.integers(0, SPAN),
)
def test_the_summaries_equal_raw_recomputation_after_random_writes(
    bureau, events, start_back, length
):
    world = _World(bureau)
    for kind, a, c, d in events:
        world.apply(kind, a, c, d)
    start = today() - timedelta(days=start_back)
    end = min(start + timedelta(days=length), today() + timedelta(days=30))
    _assert_equal_to_raw(bureau, start, end)


def test_every_kind_of_write_keeps_the_summaries(bureau):
    """Each kind of write once, checked after each step (a write the triggers miss fails by
    name), over a month, a mid-month start, and the whole span."""
    world = _World(bureau)
    steps = [
        ("visit", 0, 5, VisitKind.RECEPTION),
        ("visit", 1, 40, VisitKind.INSPECTION),
        ("visit_again", 0, 0, ""),
        ("visit", 0, 5, VisitKind.CALL),
        ("move_visit", 0, "shenzhen", ""),
        ("redate_visit", 1, 70, ""),
        ("rekind_visit", 2, VisitKind.INSPECTION, ""),
        ("reinvest_visit", 0, 1, ""),
        ("delete_visit", 1, 0, ""),
        ("project", "shanghai", 0, ""),
        ("project", "team", 0, ""),
        ("progress", 0, 60, 50),
        ("progress", 0, 30, 120),
        ("progress", 0, 0, 400),
        ("progress", 1, 30, 120),
        ("bulk_fdi", 0, 10, ""),
        ("move_project", 0, "shenzhen", ""),
        ("delete_progress", 0, 0, ""),
    ]
    periods = [
        (today() - timedelta(days=SPAN), today()),
        (today().replace(day=1), today()),
        (today() - timedelta(days=45), today() - timedelta(days=20)),
    ]
    for step in steps:
        world.apply(*step)
        for start, end in periods:
            _assert_equal_to_raw(bureau, start, end)
        assert _unit_fdi() == _unit_fdi_from_projects(), step
        assert _visitor_years() == _visitor_years_from_days(), step
    assert VisitorDay.objects.exists() and VisitorYear.objects.exists()
    assert ProjectFdiMonth.objects.exists()
    assert UnitFdiMonth.objects.exists()
    # A deleted project takes its months out of its unit's sums (the rows cascade).
    for project in Project.objects.filter(pk__in=ProjectFdiMonth.objects.values("project_id")):
        InvestmentProgress.objects.filter(project=project).delete()
        assert _unit_fdi() == _unit_fdi_from_projects()
    assert not UnitFdiMonth.objects.exists()


def _unit_fdi() -> dict[tuple[int, date], tuple[Decimal, int]]:
    return {
        (row.unit_id, row.month): (row.growth, row.projects) for row in UnitFdiMonth.objects.all()
    }


def _unit_fdi_from_projects() -> dict[tuple[int, date], tuple[Decimal, int]]:
    rows = ProjectFdiMonth.objects.values("unit_id", "month").annotate(
        growth=Sum("growth"), n=Count("pk")
    )
    return {(row["unit_id"], row["month"]): (row["growth"], row["n"]) for row in rows}


def _visitor_years() -> dict[tuple[int, int, int], set[date]]:
    """The stored sets of days, decoded (bit ``d`` of a year is its day ``d + 1``)."""
    return {
        (row.unit_id, row.investor_id, row.year): {
            date(row.year, 1, 1) + timedelta(days=d) for d, bit in enumerate(row.days) if bit == "1"
        }
        for row in VisitorYear.objects.all()
    }


def _visitor_years_from_days() -> dict[tuple[int, int, int], set[date]]:
    years: dict[tuple[int, int, int], set[date]] = defaultdict(set)
    for unit, investor, day in VisitorDay.objects.values_list("unit_id", "investor_id", "day"):
        years[(unit, investor, day.year)].add(day)
    return dict(years)


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(2019, 1, 1), max_value=date(2029, 12, 31)),
    length=st.integers(0, 900),
    later=st.integers(0, 3),
)
def test_a_periods_days_in_a_year_are_the_bits_its_reads_test(start, length, later):
    """The mask a period's read puts on a year's set of days holds exactly the period's days
    of that year (leap years; periods within one year or over one, two or more new years,
    each of their years). The reads take only the years of the period."""
    end = start + timedelta(days=length)
    year = min(start.year + later, end.year)
    days, params = summary_sets._period_days("t.y", start, end)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({days})::text FROM (SELECT %s::int AS y) AS t", [*params, year])
        mask = cursor.fetchone()[0]
    assert len(mask) == 366
    days_of_year = [date(year, 1, 1) + timedelta(days=d) for d in range(366)]
    masked = {
        day for day, bit in zip(days_of_year, mask, strict=True) if bit == "1" and day.year == year
    }
    assert masked == {day for day in days_of_year if day.year == year and start <= day <= end}


def _lead_received_today(officer):
    """A lead of a new investor, received (接待) by ``officer`` today."""
    lead = make_lead(officer, investor=make_investor(officer))
    lead_services.visit_log(
        actor=officer,
        kind=VisitKind.RECEPTION,
        visited_on=today(),
        investor=lead.investor,
        lead=lead,
        summary="洽谈",
    )
    return lead


def test_a_visitor_year_written_around_its_trigger_is_read_found_and_corrected(bureau):
    """The cockpit reads a long period from the sets of days (a set cleared by hand reads as
    no visitor); the comparison names the investor, the nightly reconciliation restores the
    set."""
    me = bureau.shanghai_officer
    lead = _lead_received_today(me)

    def visitors() -> int:
        """A period longer than DAYS_READ_BY_DAY: read from the sets of days."""
        start = today() - timedelta(days=summary_sets.DAYS_READ_BY_DAY + 30)
        return summary_sets.visiting_investors(
            start=start, end=today(), units=[], own_units=[], total_unit=None
        )[1]

    assert visitors() == 1 and _visitor_years() == _visitor_years_from_days()
    VisitorYear.objects.update(days="0" * 366)  # no trigger watches the sets themselves
    assert visitors() == 0
    found = summary.compare(today() - timedelta(days=30), today())
    assert [m.figure for m in found] == [f"visitor_year:{lead.investor_id}"], found
    assert (found[0].stored[0], found[0].expected[0]) == (0, 1)
    result = summary.reconcile((today().replace(day=1) + timedelta(days=32)).replace(day=1))
    assert len(result.mismatches) == 1 and result.corrected
    assert visitors() == 1 and _visitor_years() == _visitor_years_from_days()
    assert summary.compare(today() - timedelta(days=30), today()) == []


def test_an_investor_visiting_twice_counts_once_and_a_deleted_visit_leaves_nothing(bureau):
    me = bureau.shanghai_officer
    lead = make_lead(me, investor=make_investor(me))
    day = today() - timedelta(days=3)
    visits = [
        lead_services.visit_log(
            actor=me,
            kind=VisitKind.RECEPTION,
            visited_on=on,
            investor=lead.investor,
            lead=lead,
            summary="洽谈",
        )
        for on in (day, day, day - timedelta(days=1))
    ]
    rows = VisitorDay.objects.filter(investor=lead.investor)
    assert sorted(rows.values_list("day", "visits")) == [(day - timedelta(days=1), 1), (day, 2)]
    _, total = summary_sets.visiting_investors(
        start=day - timedelta(days=5), end=day, units=[], own_units=[], total_unit=None
    )
    assert total == 1
    for visit in visits:
        visit.officers.clear()
        visit.delete()
    assert not rows.exists()


def _project_with_fdi_this_month(officer, arrived_fdi: Decimal) -> Project:
    """A project signed three months ago reporting ``arrived_fdi`` (cumulative) this month."""
    project = make_project(officer, contract_date=today() - timedelta(days=90))
    project_services.progress_record(
        project=project,
        actor=officer,
        month=today().replace(day=1),
        agreed_investment=1000,
        paid_in=100,
        fixed_asset_investment=100,
        arrived_fdi=arrived_fdi,
    )
    return project


def test_a_write_that_bypasses_the_trigger_is_found_reported_and_corrected(bureau):
    me = bureau.shanghai_officer
    _project_with_fdi_this_month(me, Decimal(300))
    _lead_received_today(me)
    # A restore of one table, or a replica-mode load, would skip the triggers: simulated
    # by writing around them.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM leads_visit_officers")
        cursor.execute("DELETE FROM leads_visit")
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("UPDATE dashboard_projectfdimonth SET growth = growth + 1")
    found = summary.compare(today() - timedelta(days=30), today())
    figures = sorted(m.figure.split(":")[0] for m in found)
    assert figures == ["arrived_fdi", "investors_visiting"], found
    # The nightly run of a 1st of the month checks the whole year so far: both rows in it.
    result = summary.reconcile((today().replace(day=1) + timedelta(days=32)).replace(day=1))
    assert len(result.mismatches) == 2 and result.corrected
    assert summary.compare(today() - timedelta(days=30), today()) == []
    assert not VisitorDay.objects.exists()


def test_a_unit_fdi_sum_written_around_its_trigger_is_found_reported_and_corrected(bureau):
    me = bureau.shanghai_officer
    project = _project_with_fdi_this_month(me, Decimal(300))
    assert _unit_fdi() == {(project.unit_id, today().replace(day=1)): (Decimal(300), 1)}
    UnitFdiMonth.objects.update(growth=Decimal(301))  # no trigger watches the sums themselves
    found = summary.compare(today() - timedelta(days=30), today())
    assert [m.figure for m in found] == [f"arrived_fdi_unit:{project.unit_id}"], found
    assert (found[0].stored, found[0].expected) == ((1, Decimal(301)), (1, Decimal(300)))
    result = summary.reconcile((today().replace(day=1) + timedelta(days=32)).replace(day=1))
    assert len(result.mismatches) == 1 and result.corrected
    assert _unit_fdi() == _unit_fdi_from_projects()
    assert summary.compare(today() - timedelta(days=30), today()) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_unit_month_add_up_and_a_deleted_last_row_does_not_win():
    """Two transactions add FDI rows of two projects of one unit and month at once: the second
    waits for the first's sum and adds to it. Then one deletes the month's last row (its sum
    goes) while another adds a new one: the new row's sum is what stays."""
    b = make_bureau()
    first, second, third = (make_project(b.shanghai_officer) for _ in range(3))
    month = today().replace(day=1)

    def add(conn, project, growth) -> None:
        with conn.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {summary_sets.FDI_TABLE} (project_id, unit_id, month, growth) "
                "VALUES (%s, %s, %s, %s)",
                [project.pk, project.unit_id, month, growth],
            )

    race(lambda conn: add(conn, first, 120), lambda conn: add(conn, second, 30))
    assert _unit_fdi() == {(first.unit_id, month): (Decimal(150), 2)} == _unit_fdi_from_projects()

    def delete_both(conn) -> None:
        with conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {summary_sets.FDI_TABLE} WHERE month = %s", [month])

    race(delete_both, lambda conn: add(conn, third, 7))
    assert _unit_fdi() == {(third.unit_id, month): (Decimal(7), 1)} == _unit_fdi_from_projects()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_visitor_year_keep_each_others_days():
    """Two transactions add day rows of one unit, investor and year at once: the second
    waits for the first's set and adds its day to it. A day cleared while another is added
    leaves the other; the year's last days deleted while a new one is added leave the new."""
    b = make_bureau()
    investor = make_investor(b.shanghai_officer)
    unit = b.shanghai_officer.unit_id
    year = today().year
    first, second, third = date(year, 1, 1), date(year, 3, 1), date(year, 12, 31)

    def add(day):
        def run(conn) -> None:
            with conn.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {summary_sets.VISITOR_TABLE} (unit_id, investor_id, day, visits) "
                    "VALUES (%s, %s, %s, 1)",
                    [unit, investor.pk, day],
                )

        return run

    def remove(*days):
        def run(conn) -> None:
            with conn.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {summary_sets.VISITOR_TABLE} WHERE day = ANY(%s)", [list(days)]
                )

        return run

    race(add(first), add(second))
    assert _visitor_years() == {(unit, investor.pk, year): {first, second}}
    race(remove(first), add(third))
    assert _visitor_years() == {(unit, investor.pk, year): {second, third}}
    race(remove(second, third), add(first))
    assert _visitor_years() == {(unit, investor.pk, year): {first}} == _visitor_years_from_days()
