"""Each project's latest report month (``dashboard_projectlatestreport``): kept by the
trigger on the progress reports, compared and corrected nightly, and read by the cockpit's
count of reporting projects instead of one index probe per project (issue #17, the cold
cockpit)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Max, Min

from projects import services as project_services
from projects.models import InvestmentProgress, Project
from promo.core.services import today
from promo.dashboard import summary, summary_sets
from promo.dashboard.forms import Period
from promo.dashboard.models import ProjectLatestReport
from promo.dashboard.selectors import CockpitFilters, cockpit
from tests.dashboard.raw import race
from tests.factories import make_bureau, make_project


def _month(back: int) -> date:
    """The first day of the month ``back`` months before this one."""
    month = today().replace(day=1)
    for _ in range(back):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _report(officer, project: Project, month: date, fdi: int = 10) -> None:
    project_services.progress_record(
        project=project,
        actor=officer,
        month=month,
        agreed_investment=1000,
        paid_in=100,
        fixed_asset_investment=100,
        arrived_fdi=Decimal(fdi),
    )


def _stored(column: str = "month") -> dict[int, date]:
    return dict(ProjectLatestReport.objects.values_list("project_id", column))


def _from_reports(aggregate: type[Max] | type[Min] = Max) -> dict[int, date]:
    """Each project's latest report month (``Min``: its first) from the reports."""
    return dict(
        InvestmentProgress.objects.values("project_id")
        .annotate(month=aggregate("month"))
        .values_list("project_id", "month")
    )


def test_the_latest_report_month_follows_every_kind_of_progress_write(bureau):
    me = bureau.shanghai_officer
    first = make_project(me, contract_date=today() - timedelta(days=90))
    second = make_project(me, contract_date=today() - timedelta(days=90))
    assert _stored() == {}

    _report(me, first, _month(2))
    assert _stored() == {first.pk: _month(2)}
    _report(me, first, _month(1))  # a later month moves it on
    _report(me, first, _month(2), fdi=20)  # an amended earlier month does not move it back
    _report(me, first, _month(1), fdi=30)  # an amended latest month keeps it
    assert _stored() == {first.pk: _month(1)} == _from_reports()

    # A report moved to another month (by hand: the service only amends figures).
    InvestmentProgress.objects.filter(project=first, month=_month(1)).update(month=_month(0))
    assert _stored() == {first.pk: _month(0)} == _from_reports()
    _report(me, first, _month(1))  # an earlier month reported late
    assert _stored() == {first.pk: _month(0)}
    _report(me, first, _month(3))  # earlier than any: the first month moves back
    assert _stored("first_month") == {first.pk: _month(3)} == _from_reports(Min)
    InvestmentProgress.objects.filter(project=first, month=_month(3)).delete()
    assert _stored("first_month") == {first.pk: _month(2)} == _from_reports(Min)
    # Deleting the latest falls back to the one before; a report moved to another project
    # moves both projects' months.
    InvestmentProgress.objects.filter(project=first, month=_month(0)).delete()
    assert _stored() == {first.pk: _month(1)} == _from_reports()
    InvestmentProgress.objects.filter(project=first, month=_month(1)).update(project=second)
    assert _stored() == {first.pk: _month(2), second.pk: _month(1)} == _from_reports()
    assert _stored("first_month") == {first.pk: _month(2), second.pk: _month(1)}
    assert _stored("first_month") == _from_reports(Min)
    # A project's last report gone, its row goes.
    InvestmentProgress.objects.filter(project=first).delete()
    assert _stored() == {second.pk: _month(1)} == _from_reports()
    InvestmentProgress.objects.filter(project=second).delete()
    assert _stored() == {} == _from_reports()


def test_a_latest_month_written_around_its_trigger_is_found_reported_and_corrected(bureau):
    me = bureau.shanghai_officer
    project = make_project(me, contract_date=today() - timedelta(days=90))
    untouched = make_project(me, contract_date=today() - timedelta(days=90))
    _report(me, project, _month(2))
    _report(me, project, _month(1))
    _report(me, untouched, _month(1))
    assert summary.compare(today() - timedelta(days=30), today()) == []

    # No trigger watches the table itself: a write to it is what the nightly run must find,
    # whatever the days it checks (a latest month is not kept by day).
    ProjectLatestReport.objects.filter(project=project).update(month=_month(2))
    found = summary.compare(today() - timedelta(days=3), today())
    first, stored, raw = _month(2), _month(2), _month(1)
    assert [m.figure for m in found] == [
        f"latest_report:{project.pk}:{first}..{stored}/{first}..{raw}"
    ], found
    assert found[0].unit_id == project.unit_id
    result = summary.reconcile(today())
    assert len(result.mismatches) == 1 and result.corrected
    assert _stored() == _from_reports() == {project.pk: _month(1), untouched.pk: _month(1)}

    # A wrong first month alone is found too (a past period's count relies on it).
    ProjectLatestReport.objects.filter(project=project).update(first_month=_month(1))
    found = summary.compare(today() - timedelta(days=3), today())
    assert [m.figure for m in found] == [
        f"latest_report:{project.pk}:{_month(1)}..{raw}/{first}..{raw}"
    ], found
    assert summary.reconcile(today()).corrected
    assert _stored("first_month") == _from_reports(Min)

    # A row missing, and a row for a project that never reported, are found the same way.
    ProjectLatestReport.objects.filter(project=project).delete()
    never = make_project(me, contract_date=today() - timedelta(days=90))
    ProjectLatestReport.objects.create(project=never, month=_month(0), first_month=_month(0))
    found = summary.compare(today() - timedelta(days=3), today())
    assert sorted(m.figure for m in found) == sorted(
        [
            f"latest_report:{project.pk}:-/{first}..{raw}",
            f"latest_report:{never.pk}:{_month(0)}..{_month(0)}/-",
        ]
    )
    assert summary.reconcile(today()).corrected
    assert _stored() == _from_reports()


def _reporting(chief, start: date, end: date) -> int:
    f = CockpitFilters(period=Period("custom", start, end), today=today())
    return cockpit(chief, f)["total"].projects["fdi_reporting"]


def test_the_cockpit_counts_reporting_projects_over_current_and_past_periods(bureau):
    """A project that reported after a past period's end is counted for the period by what
    it reported within it, not by its latest month."""
    me = bureau.shanghai_officer
    both = make_project(me, contract_date=today() - timedelta(days=90))
    earlier = make_project(me, contract_date=today() - timedelta(days=90))
    make_project(me, contract_date=today() - timedelta(days=90))  # never reports
    _report(me, both, _month(2))
    _report(me, both, _month(0))
    _report(me, earlier, _month(2))

    this_month = (_month(0), today())
    past = (_month(2), _month(1) - timedelta(days=1))  # the month both reported for
    between = (_month(1), _month(1) + timedelta(days=20))  # nobody reported in it
    since = (_month(2), today())
    before = (_month(3), _month(2) - timedelta(days=1))  # before anyone's first report
    assert _reporting(bureau.chief, *before) == 0
    assert _reporting(bureau.chief, *this_month) == 1
    assert _reporting(bureau.chief, *past) == 2
    assert _reporting(bureau.chief, *between) == 0
    assert _reporting(bureau.chief, *since) == 2


def _snapshot_plan(chief, start: date, end: date) -> dict:
    """EXPLAIN ANALYZE of the cockpit's project snapshot statement (JSON)."""
    seen: list[tuple[str, object]] = []

    def keep(execute, sql, params, many, context):
        if '"is_signed"' in sql:
            seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        cockpit(chief, CockpitFilters(period=Period("custom", start, end), today=today()))
    assert len(seen) == 1, [s for s, _p in seen]
    sql, params = seen[0]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _probes(plan: dict) -> int:
    """The rows the plan's scans of the progress reports were run for (their loops)."""
    loops = 0
    if plan.get("Relation Name") == "projects_investmentprogress":
        loops += plan.get("Actual Loops", 0)
    for child in plan.get("Plans", []):
        loops += _probes(child)
    return loops


def test_a_period_ending_this_month_reads_no_report_per_project(bureau):
    me = bureau.shanghai_officer
    projects = [make_project(me, contract_date=today() - timedelta(days=90)) for _ in range(4)]
    for project in projects[:3]:
        _report(me, project, _month(2))
    _report(me, projects[0], _month(0))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project, projects_investmentprogress")
    # This month (and the year to date): every latest month is on or before the period's
    # end month, so no project's reports are read one by one.
    plan = _snapshot_plan(bureau.chief, _month(0), today())
    assert _probes(plan) == 0, json.dumps(plan)[:2000]
    plan = _snapshot_plan(bureau.chief, _month(2), today())
    assert _probes(plan) == 0, json.dumps(plan)[:2000]
    # Last month: only the project that reported both before and after it is probed (the
    # others' latest month is on or before it, or they never reported); the count stays
    # right: test_the_cockpit_counts_reporting_projects_over_current_and_past_periods.
    plan = _snapshot_plan(bureau.chief, _month(1), _month(0) - timedelta(days=1))
    assert _probes(plan) == 1, json.dumps(plan)[:2000]
    # A period that ended before every project's first report reads no report at all (it
    # probed each project, as a year to date ended 400 days back did at province).
    plan = _snapshot_plan(bureau.chief, _month(3), _month(2) - timedelta(days=1))
    assert _probes(plan) == 0, json.dumps(plan)[:2000]


def _insert_report(conn, project: Project, month: date) -> None:
    with conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO projects_investmentprogress (month, agreed_investment, paid_in,"
            " fixed_asset_investment, arrived_fdi, note, updated_at, reported_by_id, project_id)"
            " VALUES (%s, 1000, 100, 100, 10, '', now(), %s, %s)",
            [month, project.created_by_id, project.pk],
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_back, second_back", [(1, 0), (0, 1)])
def test_two_writers_of_one_projects_reports_leave_its_latest_month(first_back, second_back):
    """The second writer waits for the first (the project's lock) and then reads its
    report: the latest month is the later of the two, whichever committed first."""
    b = make_bureau()
    project = make_project(b.shanghai_officer, contract_date=today() - timedelta(days=90))
    race(
        lambda conn: _insert_report(conn, project, _month(first_back)),
        lambda conn: _insert_report(conn, project, _month(second_back)),
    )
    assert _stored() == {project.pk: _month(0)} == _from_reports()
    with connection.cursor() as cursor:
        assert summary_sets.compare_latest_reports(cursor) == []
