"""Trend-based at-risk (趋势预警, #20): a commitment is yellow when the least-squares line through
its verified measurements, read at its due date, falls short of the target; red once missed.
Every projection below is worked out by hand in the test's comment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from promo.agreements import services
from promo.agreements.choices import TermStatus
from promo.agreements.models import Term
from promo.agreements.selectors import term_list, terms_with_trend
from promo.core.services import today
from promo.reports.choices import AlertLevel, AlertRule
from promo.reports.models import Alert
from promo.reports.services import alerts_evaluate

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def measure(signed, term: Term, days_ago: int, value: str, *, verify: bool = True) -> None:
    item = services.measurement_record(
        term=term,
        actor=signed.officer,
        measured_on=today() - days_ago * DAY,
        value=value,
        source="统计局",
    )
    if verify:
        services.measurement_verify(measurement=item, actor=signed.bureau.shanghai_head)


def add(signed, metric: str, target: str, due_in: int) -> Term:
    return services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric=metric,
        target=target,
        due_on=today() + due_in * DAY,
    )


def trend(term: Term):
    return terms_with_trend(Term.objects.filter(pk=term.pk)).get()


def light(term: Term) -> tuple[str, str] | None:
    alert = Alert.objects.filter(subject_key=f"term:{term.pk}", resolved_on__isnull=True).first()
    return (alert.rule, alert.level) if alert else None


def test_on_track_by_trend_is_not_at_risk_even_inside_the_window(signed):
    # 200 sixty days ago, 500 today: slope 5/day; due in 20 days → 500 + 5 × 20 = 600 ≥ 600.
    term = add(signed, "total_investment", "600", due_in=20)
    measure(signed, term, 60, "200")
    measure(signed, term, 0, "500")
    row = trend(term)
    assert (row.status, row.projected, row.at_risk) == (
        TermStatus.PENDING,
        Decimal("600.00"),
        False,
    )
    alerts_evaluate(on=today())
    assert light(term) is None


def test_at_risk_by_trend_far_from_the_due_date_is_yellow(signed):
    # Three points, least squares: x = −60, −30, 0 (days from today), y = 100, 160, 190.
    # x̄ = −30, ȳ = 150; Σ(x−x̄)(y−ȳ) = (−30)(−50) + 0 + 30·40 = 2700; Σ(x−x̄)² = 1800;
    # slope 1.5/day, intercept at today 150 + 1.5·30 = 195; due in 300 days → 195 + 450 = 645.
    term = add(signed, "annual_tax", "1000", due_in=300)
    measure(signed, term, 60, "100")
    measure(signed, term, 30, "160")
    measure(signed, term, 0, "190")
    row = trend(term)
    assert (row.projected, row.at_risk) == (Decimal("645.00"), True)
    alerts_evaluate(on=today())
    assert light(term) == (AlertRule.AGREEMENT_AT_RISK, AlertLevel.YELLOW)
    assert [t.pk for t in term_list(signed.officer, status="at_risk")] == [term.pk]


def test_an_unverified_measurement_does_not_count_in_the_trend(signed):
    # Verified: 100 sixty days ago, 400 thirty days ago → slope 10/day; at due (in 30 days,
    # i.e. 90 days after the first) 100 + 10 × 90 = 1000 ≥ 1000. The unverified 0 is ignored.
    term = add(signed, "jobs", "1000", due_in=30)
    measure(signed, term, 60, "100")
    measure(signed, term, 30, "400")
    measure(signed, term, 0, "0", verify=False)
    assert (trend(term).projected, trend(term).at_risk) == (Decimal("1000.00"), False)


def test_no_measurements_falls_back_to_the_window(signed, settings):
    settings.PROMO_ALERT_AGREEMENT_RISK_DAYS = 30
    soon = add(signed, "annual_tax", "100", due_in=10)
    later = add(signed, "annual_tax", "100", due_in=200)
    one = add(signed, "jobs", "100", due_in=200)
    measure(signed, one, 0, "10")  # one point draws no line
    assert [(trend(t).projected, trend(t).at_risk) for t in (soon, later, one)] == [
        (None, True),
        (None, False),
        (None, False),
    ]
    alerts_evaluate(on=today())
    assert (light(soon), light(later), light(one)) == (
        (AlertRule.AGREEMENT_AT_RISK, AlertLevel.YELLOW),
        None,
        None,
    )


def test_missed_is_red_not_yellow_and_met_is_neither(signed):
    # Due yesterday: 30 of 100 verified by then → 部分履约 (breach, red) whatever the trend says.
    missed = add(signed, "annual_tax", "100", due_in=-1)
    measure(signed, missed, 40, "10")
    measure(signed, missed, 5, "30")
    met = add(signed, "jobs", "50", due_in=100)
    measure(signed, met, 10, "60")
    measure(signed, met, 5, "40")  # falling, but the target is already reached: 已履约
    rows = {t.pk: trend(t) for t in (missed, met)}
    assert (rows[missed.pk].status, rows[missed.pk].at_risk) == (TermStatus.PARTLY_MET, False)
    assert (rows[met.pk].status, rows[met.pk].at_risk) == (TermStatus.PENDING, True)
    alerts_evaluate(on=today())
    assert light(missed) == (AlertRule.AGREEMENT_BREACH, AlertLevel.RED)


def test_a_date_commitment_has_no_trend(signed, settings):
    settings.PROMO_ALERT_AGREEMENT_RISK_DAYS = 30
    start = add(signed, "start_by", "0", due_in=20)
    assert (trend(start).projected, trend(start).at_risk) == (None, True)


def test_the_commitments_list_reads_in_the_same_queries_for_2_and_12_terms(signed, client_for):
    from django.urls import reverse

    client = client_for(signed.bureau.chief)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            page = client.get(reverse("agreements:terms") + "?status=&metric=annual_tax")
            assert page.status_code == 200
        return len(ctx.captured_queries)

    for n in range(2):
        measure(signed, add(signed, "annual_tax", "100", due_in=100 + n), 10, "5")
    few = count()
    assert few <= 12  # the bench's ceiling per request
    for n in range(10):
        term = add(signed, "annual_tax", "100", due_in=200 + n)
        measure(signed, term, 20, "5")
        measure(signed, term, 10, "9")
    assert count() == few


def test_a_day_that_does_not_exist_is_404_not_an_error(signed, client_for):
    client = client_for(signed.bureau.chief)
    for day in ("2026-02-30", "yesterday"):
        for name in ("agreements:terms", "agreements:list", "agreements:promises"):
            from django.urls import reverse

            assert client.get(f"{reverse(name)}?on={day}").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("cohort", ["0", "99999", "²", "-1", "1.5"])
def test_a_cohort_no_calendar_has_is_never_a_server_error(bureau, cohort):
    from rest_framework.test import APIClient

    page = Client()
    page.force_login(bureau.chief)
    assert page.get("/agreements/", {"cohort": cohort}).status_code == 200  # ignored
    api = APIClient()
    api.force_login(bureau.chief)
    response = api.get("/api/v1/agreements/", {"cohort": cohort})
    assert response.status_code == 400, response.content
