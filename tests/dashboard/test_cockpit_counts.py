"""The cockpit on a bureau each test builds for itself: a channel filter counts the visits of
that channel's leads, and the cockpit's query count is pinned and does not grow with the data.

(The link tests on the shared mixed bureau are in test_cockpit_links.py.)
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.choices import LeadStatus, SourceChannel, VisitKind
from promo.core.choices import Industry, Region
from promo.dashboard.forms import Period, PeriodKind
from promo.dashboard.selectors import CockpitFilters, cockpit
from tests.factories import make_investor, make_lead, make_officer, make_unit, sign_lead
from tests.reports.seed import TODAY

pytestmark = pytest.mark.django_db

DAY = TODAY.date()


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def client_for(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def test_a_channel_filter_counts_visits_of_leads_of_that_channel(bureau, frozen):
    me = bureau.shanghai_officer
    event_investor = make_investor(me, region=Region.JAPAN)
    event_lead = make_lead(me, investor=event_investor, source_channel=SourceChannel.EVENT)
    plain = make_investor(me, region=Region.JAPAN)

    for investor, lead in ((event_investor, event_lead), (plain, None)):
        lead_services.visit_log(
            actor=me,
            kind=VisitKind.RECEPTION,
            visited_on=DAY,
            investor=investor,
            lead=lead,
            summary="洽谈",
        )
    period = {"period": "month", "on": DAY.isoformat()}
    client = client_for(bureau.chief)

    def visiting(**narrowing) -> int:
        context = client.get("/dashboard/", {**period, **narrowing}).context
        return context["total"].figures.investors_visiting

    assert visiting() == 2
    assert visiting(source_channel=SourceChannel.EVENT) == 1
    assert visiting(source_channel=SourceChannel.STATIONED) == 0
    assert visiting(region=Region.JAPAN) == 2  # the visited investor's region, lead or not
    assert visiting(industry=event_lead.industry) == 1


# --- Query counts -------------------------------------------------------------------------

# A narrowed cockpit (industry, region, channel): period_figures, 4 grouped queries a call
# (leads, visits, projects, FDI) × 6 calls (now, last year and year to date, per unit and
# total) when the period is not the year to date, and the headline band's same days of last
# year for the total alone and its figures alone (issue 17): 3 (no visits); then units, root
# unit, project snapshot, targets, funnel, timing, overdue, red lights, the band's red
# projects (issue 17) and trend: one query each; the agreements' figures (协议履约, issue
# #20): one, their stored states counted and summed (decision 0020; three before: the
# agreements' categories, those to claw back, the promises and the money). Filters add
# joins, never queries. The red lights are counted by a query of their own only when their
# table is full.
COCKPIT_QUERIES = 6 * 4 + 3 + 10 + 1
# Not narrowed: now, last year and year to date from the summaries together
# (cockpit_figures_over: 4 grouped by unit for every period, rows and total, and the
# visiting investors once a period: 4 + 3), the band's last year for its figures of the
# total (the summary and the arrived FDI: 2). 3 × 6 + 4 before decision 0021.
COCKPIT_QUERIES_SUMMED = 4 + 3 + 2 + 10 + 1
# Year to date reuses "now" for the targets and "last year" for the band (2 periods); a
# chosen unit needs no root unit.
COCKPIT_QUERIES_YTD_UNIT = 4 + 2 + 9 + 1


def _computed_queries(officer, f: CockpitFilters) -> int:
    with CaptureQueriesContext(connection) as captured:
        cockpit(officer, f)
    return len(captured)


def _grow(bureau, n: int) -> None:
    for _i in range(n):
        unit = make_unit(parent=bureau.bureau)
        officer = make_officer(unit)
        lead = make_lead(
            officer,
            status=LeadStatus.NEGOTIATING,
            industry=Industry.AUTO,
            source_channel=SourceChannel.EVENT,
        )
        sign_lead(officer, lead, contract_date=DAY - timedelta(days=5))


def test_the_cockpit_query_count_is_pinned_and_flat_with_the_data(bureau, frozen):
    month = Period(PeriodKind.MONTH, date(2026, 11, 1), date(2026, 11, 30))
    ytd = Period(PeriodKind.YTD, date(2026, 1, 1), DAY)
    cases = [
        (CockpitFilters(period=month, today=DAY), COCKPIT_QUERIES_SUMMED),
        (
            CockpitFilters(
                period=month,
                today=DAY,
                industry=Industry.AUTO,
                region=Region.DOMESTIC,
                source_channel=SourceChannel.EVENT,
            ),
            COCKPIT_QUERIES,
        ),
        (CockpitFilters(period=ytd, today=DAY, unit=bureau.shanghai), COCKPIT_QUERIES_YTD_UNIT),
    ]
    _grow(bureau, 2)
    small = [_computed_queries(bureau.chief, f) for f, _n in cases]
    _grow(bureau, 18)
    large = [_computed_queries(bureau.chief, f) for f, _n in cases]
    assert small == large == [n for _f, n in cases]


def test_the_cockpit_page_query_count_is_pinned(bureau, frozen):
    client = client_for(bureau.chief)
    params = {"period": "month", "industry": Industry.AUTO, "source_channel": "event"}

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/dashboard/", params)
        assert response.status_code == 200
        return len(captured)

    _grow(bureau, 2)
    few = page_queries()
    _grow(bureau, 18)
    # The page adds session, officer, scope, the filter's units, the bell and base.html's.
    assert page_queries() == few <= COCKPIT_QUERIES + 8


def test_the_project_figures_are_grouped_by_unit_alone(bureau, frozen):
    """The project figures' statement groups by unit alone (a few hundred groups, hashed).
    Grouped by the unit and the latest month each project reported as well, PostgreSQL
    sorted every project: at province 60,000 rows spilled to disk to give 220 groups. The
    latest month is probed once per project for each end month and tested against each
    period's first month inside the sums."""
    _grow(bureau, 2)
    month = Period(PeriodKind.MONTH, date(2026, 11, 1), date(2026, 11, 30))
    f = CockpitFilters(period=month, today=DAY)
    with CaptureQueriesContext(connection) as captured:
        cockpit(bureau.chief, f)
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if "projects_investmentprogress" in q["sql"] and "contracted_fdi" in q["sql"]
    ]
    assert len(statements) == 1
    # One probe per distinct end month: November's (the period) and this month's (the year
    # to date, unless today is in November too).
    ends = {month.end.replace(day=1), DAY.replace(day=1)}
    assert statements[0].count('FROM "projects_investmentprogress"') == len(ends)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + statements[0])
        plan = cursor.fetchone()[0][0]["Plan"]

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    keys = [node["Group Key"] for node in nodes(plan) if "Group Key" in node]
    assert keys and all(len(key) == 1 and key[0].endswith("unit_id") for key in keys), keys
    # Each probe planned once (a sub-query flattened into the sums would copy a probe into
    # every FILTER that names its column).
    subplans = {
        n["Subplan Name"] for n in nodes(plan) if n.get("Subplan Name", "").startswith("SubPlan")
    }
    assert len(subplans) == len(ends), subplans


def test_a_cockpit_reverses_each_list_once_and_follows_the_script_prefix(bureau, frozen):
    """A cockpit links some 370 figures to a dozen lists: the lists' paths are reversed once
    each, not once per figure; the paths cached still follow the script prefix promo is
    served under (a bureau intranet may mount it at /promo/)."""
    from django.urls import set_script_prefix

    from promo.dashboard import selectors
    from tests.reversals import counted_reversals

    _grow(bureau, 2)
    f = CockpitFilters(period=Period(PeriodKind.YTD, date(2026, 1, 1), DAY), today=DAY)
    with counted_reversals() as calls:
        data = cockpit(bureau.chief, f)
    links = [cell["url"] for row in data["rows"] for cell in row.cells if cell.get("url")]
    assert len(links) > len(set(calls)) * 3, (len(links), calls)
    assert sorted(calls) == sorted(set(calls)), calls
    assert all(link.startswith("/") and not link.startswith("/promo/") for link in links)

    set_script_prefix("/promo/")
    try:
        assert selectors.list_url("leads:list", {"status": "valid"}) == (
            "/promo/leads/?status=valid"
        )
    finally:
        set_script_prefix("/")
    assert selectors.list_url("leads:list", {"status": "valid", "unit": ""}) == (
        "/leads/?status=valid"
    )


def test_target_labels_are_the_metrics_labels_in_the_users_language(bureau, frozen):
    from django.utils import translation

    from officers.choices import TargetMetric
    from officers.services import target_set

    target_set(
        actor=bureau.chief,
        year=DAY.year,
        unit=bureau.shanghai,
        metric=TargetMetric.SIGNED_COUNT,
        value=4,
        reason="test",
    )
    f = CockpitFilters(period=Period(PeriodKind.YTD, date(2026, 1, 1), DAY), today=DAY)
    with translation.override("en"):
        data = cockpit(bureau.chief, f)
        labels = [str(t["label"]) for row in data["rows"] for t in row.targets]
    assert "Newly signed projects" in labels, labels
