"""The cockpit's monthly signing trend (月度签约趋势): signings per month of the period's year
and of the year before, counted by contract date with their 签约总投资, for the chosen unit's
sub-tree — read from the month sums unless the cockpit is narrowed by industry, region or
channel."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.choices import LeadStatus
from projects.models import Project
from promo.core.choices import Industry
from promo.dashboard.forms import Period, PeriodKind
from promo.dashboard.selectors import CockpitFilters, monthly_trend
from tests.factories import make_lead, make_officer, sign_lead
from tests.reports.seed import TODAY

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
YEAR = DAY.year


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def _sign(officer, day: date, amount: int, **lead_fields) -> Project:
    """A signing dated ``day`` (signed today, its date then set as a correction would)."""
    lead = make_lead(officer, status=LeadStatus.NEGOTIATING, **lead_fields)
    project = sign_lead(officer, lead, contract_date=DAY, amount=amount)
    Project.objects.filter(pk=project.pk).update(contract_date=day)
    return project


def _series(trend: dict, key: str) -> dict[int, float]:
    """The months with a value (1-12 → value)."""
    return {m + 1: v for m, v in enumerate(trend[key]) if v}


def test_the_trend_counts_signings_by_month_for_the_unit_and_follows_every_write(bureau, frozen):
    ytd = Period(PeriodKind.YTD, date(YEAR, 1, 1), DAY)
    shanghai = bureau.shanghai_officer
    moved = _sign(shanghai, date(YEAR, 2, 10), 300)
    _sign(shanghai, date(YEAR, 2, 20), 200, industry=Industry.AUTO)
    _sign(bureau.sub_unit_officer, date(YEAR, 3, 1), 1000)
    _sign(shanghai, date(YEAR - 1, 3, 5), 50)
    corrected = _sign(shanghai, date(YEAR - 1, 11, 30), 70)
    # Another unit's signing and one two years back are not in the Shanghai office's trend.
    shenzhen = _sign(make_officer(bureau.shenzhen), date(YEAR, 2, 1), 9)
    _sign(shanghai, date(YEAR - 2, 2, 1), 11)

    def trend(unit=None, **narrowing):
        return monthly_trend(
            bureau.chief, CockpitFilters(period=ytd, today=DAY, unit=unit, **narrowing)
        )

    office = trend(bureau.shanghai)
    assert _series(office, "count") == {2: 2, 3: 1}
    assert _series(office, "amount") == {2: 500, 3: 1000}
    assert _series(office, "count_last") == {3: 1, 11: 1}
    assert _series(office, "amount_last") == {3: 50, 11: 70}
    whole = trend()
    assert _series(whole, "count") == {2: 3, 3: 1}
    assert _series(whole, "amount") == {2: 509, 3: 1000}
    # Narrowed: counted from the projects, under the same rule.
    assert _series(trend(bureau.shanghai, industry=Industry.AUTO), "count") == {2: 1}

    # A corrected contract date, a project moved to another unit, a corrected amount.
    Project.objects.filter(pk=moved.pk).update(contract_date=date(YEAR, 4, 2))
    Project.objects.filter(pk=shenzhen.pk).update(unit=bureau.shanghai)
    Project.objects.filter(pk=corrected.pk).update(signed_investment=75, total_investment=75)
    office = trend(bureau.shanghai)
    assert _series(office, "count") == {2: 2, 3: 1, 4: 1}
    assert _series(office, "amount") == {2: 209, 3: 1000, 4: 300}
    assert _series(office, "count_last") == {3: 1, 11: 1}
    assert _series(office, "amount_last") == {3: 50, 11: 75}


def test_the_trend_reads_the_month_sums_unless_narrowed(bureau, frozen):
    ytd = Period(PeriodKind.YTD, date(YEAR, 1, 1), DAY)
    _sign(bureau.shanghai_officer, DAY - timedelta(days=3), 100)

    def statements(**narrowing) -> list[str]:
        f = CockpitFilters(period=ytd, today=DAY, unit=bureau.shanghai, **narrowing)
        with CaptureQueriesContext(connection) as captured:
            monthly_trend(bureau.chief, f)
        return [q["sql"] for q in captured.captured_queries]

    plain = statements()
    assert len(plain) == 1
    assert "dashboard_monthlyunitfigure" in plain[0] and "projects_project" not in plain[0]
    narrowed = statements(industry=Industry.AUTO)
    assert len(narrowed) == 1 and '"projects_project"' in narrowed[0]
