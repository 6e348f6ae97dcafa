"""The lead funnel of each calendar month, quarter and year, kept per unit by a trigger
(promo/dashboard/summary_funnel.py, decision 0028; issue #17, the cold cockpit).

What is pinned: after any sequence of events the summary read of a calendar period (and of a
year to date no lead is dated after) equals the funnel computed from the leads — counts,
median days and their counts, by row and for the total, for the bureau and for one office;
a period the summary does not keep, or a year to date with a lead dated after it, is
computed from the leads; the cockpit reads the summary when it may; the nightly
reconciliation finds a tampered row and corrects it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pgtrigger
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.choices import LeadStatus
from leads.models import Lead, LeadStatusEvent
from officers.choices import Role
from promo.core.errors import RuleViolation
from promo.core.services import today
from promo.dashboard import summary, summary_funnel
from promo.dashboard.forms import Period, PeriodKind, period_for
from promo.dashboard.funnel import funnel_counts
from promo.dashboard.models import FunnelPeriodFigure
from promo.dashboard.selectors import CockpitFilters, funnel
from promo.reports.choices import SystemNoticeKind
from promo.reports.models import SystemNotice
from tests.dashboard.test_summary import SPAN, _event, _World
from tests.factories import make_investor, make_lead, make_officer

pytestmark = pytest.mark.django_db


def _raw(total_unit, start: date, end: date, units, own) -> dict:
    leads = Lead.objects.all()
    if total_unit is not None:
        leads = leads.filter(unit__path__startswith=total_unit.path)
    return funnel_counts(leads, start, end, units, own)


def _cases(bureau) -> list[tuple]:
    """(total unit, rows, own rows): the bureau's cockpit, and one office's."""
    return [
        (None, [bureau.shanghai, bureau.shenzhen, bureau.department], [bureau.bureau]),
        (bureau.shanghai, [bureau.shanghai_team], [bureau.shanghai]),
        (None, [], []),
    ]


def _assert_summary_equals_raw(bureau, start: date, end: date) -> None:
    for total_unit, units, own in _cases(bureau):
        fast = summary_funnel.funnel_from_summary(start, end, units, own, total_unit)
        assert fast is not None, (start, end)
        assert fast == _raw(total_unit, start, end, units, own), (total_unit, start, end)


def _periods_around(day: date) -> list[tuple[date, date]]:
    month = period_for(PeriodKind.MONTH, day)
    quarter = period_for(PeriodKind.QUARTER, day)
    return [
        (month.start, month.end),
        (quarter.start, quarter.end),
        (date(day.year, 1, 1), date(day.year, 12, 31)),
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(_event, min_size=1, max_size=12),
    back=st.integers(0, SPAN + 10),
    registered_back=st.lists(st.integers(0, SPAN), max_size=3),
)
def test_the_funnel_summary_equals_the_leads_after_random_events(
    bureau, events, back, registered_back
):
    world = _World(bureau)
    for kind, a, c in events:
        try:
            world.apply(kind, a, c)
        except RuleViolation:
            pass  # refused by the domain: nothing written
    # A registration re-dated by a bulk correction (one UPDATE of created_at).
    for i, days in enumerate(registered_back):
        leads = list(Lead.objects.order_by("pk"))
        if leads:
            lead = leads[i % len(leads)]
            Lead.objects.filter(pk=lead.pk).update(created_at=lead.created_at - timedelta(days))
    for start, end in _periods_around(today() - timedelta(days=back)):
        _assert_summary_equals_raw(bureau, start, end)
    # The year to date: nothing is dated after today, so it is read from its year.
    _assert_summary_equals_raw(bureau, date(today().year, 1, 1), today())
    assert summary_funnel.compare(connection.cursor(), today() - timedelta(SPAN), today()) == []


def test_a_lead_dated_after_the_year_to_date_sends_it_to_the_leads(bureau):
    lead = make_lead(bureau.shanghai_officer, investor=make_investor(bureau.shanghai_officer))
    start, end = date(today().year, 1, 1), today()
    assert summary_funnel.funnel_from_summary(start, end, [], [], None) is not None
    later = today() + timedelta(days=1)
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.VALID, qualified_on=later)
    # The year counts it as qualified, the year to date does not: read from the leads.
    assert summary_funnel.funnel_from_summary(start, end, [], [], None) is None
    year = summary_funnel.funnel_from_summary(start, date(start.year, 12, 31), [], [], None)
    if later.year == start.year:
        assert year is not None and year[None][LeadStatus.VALID] == 1
    cockpit_funnel = funnel(bureau.chief, CockpitFilters(period=period_for("ytd", end), today=end))
    assert cockpit_funnel["steps"][1]["count"] == 0  # 有效: the lead qualifies tomorrow
    assert cockpit_funnel["steps"][0]["count"] == 1


def test_a_deleted_lead_leaves_the_summary(bureau):
    lead = make_lead(bureau.shanghai_officer, investor=make_investor(bureau.shanghai_officer))
    assert FunnelPeriodFigure.objects.filter(unit=bureau.shanghai).exists()
    # The status events are append-only (pgtrigger): set aside for this one deletion.
    with transaction.atomic(), pgtrigger.ignore():
        LeadStatusEvent.objects.filter(lead=lead).delete()
        Lead.objects.filter(pk=lead.pk).delete()
    assert (
        list(
            FunnelPeriodFigure.objects.filter(unit=bureau.shanghai)
            .exclude(count=0)
            .values("figure")
        )
        == []
    )
    assert summary_funnel.compare(connection.cursor(), today() - timedelta(400), today()) == []


# The rows this transaction inserted into or updated in the summary.
WRITTEN = (
    "SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables "
    f"WHERE relname = '{summary_funnel.FUNNEL_TABLE}'"
)


def test_an_update_of_no_counted_column_writes_no_row(bureau):
    make_lead(bureau.shanghai_officer, investor=make_investor(bureau.shanghai_officer))
    with connection.cursor() as cursor:
        cursor.execute(WRITTEN)
        before = cursor.fetchone()[0]
        Lead.objects.update(last_activity_on=today())
        cursor.execute(WRITTEN)
        assert cursor.fetchone()[0] == before
        Lead.objects.update(qualified_on=today(), status=LeadStatus.VALID)
        cursor.execute(WRITTEN)
        assert cursor.fetchone()[0] > before


@given(st.lists(st.integers(0, 400), min_size=1, max_size=40))
def test_the_median_of_a_histogram_is_percentile_cont(values):
    histogram: dict[int, int] = {}
    for value in values:
        histogram[value] = histogram.get(value, 0) + 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(%s::int[]) AS v",
            [values],
        )
        assert summary_funnel.median(histogram) == cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 11, 1), date(2026, 11, 30), ("month", date(2026, 11, 1), False)),
        (date(2026, 2, 1), date(2026, 2, 28), ("month", date(2026, 2, 1), False)),
        (date(2026, 10, 1), date(2026, 12, 31), ("quarter", date(2026, 10, 1), False)),
        (date(2026, 1, 1), date(2026, 12, 31), ("year", date(2026, 1, 1), False)),
        (date(2026, 1, 1), date(2026, 12, 6), ("year", date(2026, 1, 1), True)),
        (date(2026, 1, 1), date(2026, 1, 31), ("month", date(2026, 1, 1), False)),
        (date(2026, 1, 1), date(2026, 3, 31), ("quarter", date(2026, 1, 1), False)),
        (date(2026, 11, 2), date(2026, 11, 30), None),
        (date(2026, 11, 1), date(2026, 11, 29), None),
        (date(2026, 2, 1), date(2026, 4, 30), None),
        (date(2025, 12, 1), date(2026, 1, 31), None),
        (date(2025, 1, 1), date(2026, 3, 31), None),
        (date(2026, 3, 1), date(2026, 2, 1), None),
    ],
)
def test_the_periods_the_summary_keeps(start, end, expected):
    assert summary_funnel.calendar_period(start, end) == expected


def test_the_cockpit_reads_the_summary_and_a_narrowed_one_the_leads(bureau):
    make_lead(bureau.shanghai_officer, investor=make_investor(bureau.shanghai_officer))
    day = today()
    cases = [
        (bureau.chief, CockpitFilters(period=period_for("ytd", day), today=day), True),
        (bureau.chief, CockpitFilters(period=period_for("month", day), today=day), True),
        (
            bureau.shanghai_head,
            CockpitFilters(period=period_for("quarter", day), today=day, unit=bureau.shanghai),
            True,
        ),
        (
            bureau.chief,
            CockpitFilters(period=period_for("ytd", day), today=day, industry="electronics"),
            False,
        ),
        (
            bureau.chief,
            CockpitFilters(
                period=Period(PeriodKind.CUSTOM, day - timedelta(days=10), day), today=day
            ),
            False,
        ),
        # A year to date that ended before today: from the leads, without asking the summary.
        (
            bureau.chief,
            CockpitFilters(period=period_for("ytd", day - timedelta(days=400)), today=day),
            False,
        ),
    ]
    for officer, f, from_summary in cases:
        with CaptureQueriesContext(connection) as queries:
            result = funnel(officer, f)
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert (summary_funnel.FUNNEL_TABLE in sql) is from_summary, f
        assert result["steps"][0]["count"] >= (1 if f.period.start <= day <= f.period.end else 0)


def test_reconciliation_finds_a_tampered_funnel_row_and_corrects_it(bureau):
    make_officer(bureau.bureau, role=Role.ADMIN)
    make_lead(bureau.shanghai_officer, investor=make_investor(bureau.shanghai_officer))
    row = FunnelPeriodFigure.objects.filter(
        unit=bureau.shanghai, kind="month", figure=LeadStatus.INFORMATION
    ).get()
    FunnelPeriodFigure.objects.filter(pk=row.pk).update(count=row.count + 5)
    result = summary.reconcile(today())
    assert [m.figure for m in result.mismatches] == ["funnel month information 0"]
    assert result.mismatches[0].stored[0] == row.count + 5
    assert result.mismatches[0].expected[0] == row.count
    assert SystemNotice.objects.filter(kind=SystemNoticeKind.SUMMARY_MISMATCH).exists()
    key = {"unit": bureau.shanghai, "kind": "month", "start": row.start, "days": 0}
    assert FunnelPeriodFigure.objects.get(**key, figure=LeadStatus.INFORMATION).count == row.count
    assert summary.compare(*summary.reconcile_window(today())) == []
