"""One probe for "reported progress in [start, end]" (projects.models.last_progress_month).

The cockpit counts the projects whose arrived FDI a period sums — those that reported a month
in the period — for the period and the year to date in one statement: it reads, once per
project, the latest month reported up to the period's end, and tests it against each start
(``reported_since``). That must agree with the EXISTS the list behind the link filters by
(``progress_reported_between``), for every start and end, including a project with no report,
and with a report after the end.
"""

from __future__ import annotations

from datetime import date

import pytest

from projects.models import (
    InvestmentProgress,
    Project,
    last_progress_month,
    progress_reported_between,
    reported_since,
)
from tests.factories import make_bureau, make_project

pytestmark = pytest.mark.django_db

MONTHS = {
    "none": [],
    "one": [date(2026, 3, 1)],
    "gappy": [date(2025, 11, 1), date(2026, 2, 1), date(2026, 6, 1)],
}
DAYS = [
    date(2025, 10, 31),
    date(2025, 11, 1),
    date(2025, 11, 30),
    date(2026, 1, 15),
    date(2026, 2, 1),
    date(2026, 2, 28),
    date(2026, 3, 1),
    date(2026, 3, 31),
    date(2026, 5, 20),
    date(2026, 6, 1),
    date(2026, 7, 1),
]


@pytest.fixture
def projects() -> dict[str, Project]:
    b = make_bureau()
    made = {}
    for name, months in MONTHS.items():
        project = make_project(b.shanghai_officer)
        # Straight into the table: the service refuses future months, the probe must not care.
        InvestmentProgress.objects.bulk_create(
            InvestmentProgress(
                project=project,
                month=month,
                agreed_investment=1,
                paid_in=1,
                fixed_asset_investment=1,
                reported_by=b.shanghai_officer,
            )
            for month in months
        )
        made[name] = project
    return made


def test_the_latest_month_up_to_the_end_answers_every_period(projects):
    checked, answers = 0, set()
    for end in DAYS:
        probed = dict(
            Project.objects.filter(pk__in=[p.pk for p in projects.values()])
            .annotate(last=last_progress_month(end))
            .values_list("pk", "last")
        )
        for start in [None, *(d for d in DAYS if d <= end)]:
            reporting = set(
                Project.objects.filter(
                    progress_reported_between(start, end), pk__in=probed
                ).values_list("pk", flat=True)
            )
            assert {pk for pk, last in probed.items() if reported_since(last, start)} == (
                reporting
            ), (start, end)
            checked += 1
            answers.add(projects["gappy"].pk in reporting)
    # Both answers were seen: some periods hold a report of "gappy" and some do not.
    assert checked > 60 and answers == {True, False}
    assert reported_since(date(2026, 2, 1), date(2026, 2, 28))
    assert not reported_since(date(2026, 2, 1), date(2026, 3, 1))
    assert not reported_since(None, None)


def test_no_end_reads_the_latest_month_of_all(projects):
    last = dict(
        Project.objects.filter(pk__in=[p.pk for p in projects.values()])
        .annotate(last=last_progress_month(None))
        .values_list("pk", "last")
    )
    assert last == {
        projects["none"].pk: None,
        projects["one"].pk: date(2026, 3, 1),
        projects["gappy"].pk: date(2026, 6, 1),
    }
