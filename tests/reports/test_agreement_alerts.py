"""Agreements in the traffic lights (#20): a commitment due soon and not met is yellow, one in
breach red for the project's 主办, a bureau promise overdue red for its owner unit's head; each
clears when the rows say so (a verified figure, a waiver, a delivery)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from promo.agreements import services
from promo.core.services import today
from promo.reports.choices import AlertLevel, AlertRule
from promo.reports.models import Alert
from promo.reports.services import alerts_evaluate
from tests.factories import make_project

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
AGREEMENT_RULES = (
    AlertRule.AGREEMENT_AT_RISK,
    AlertRule.AGREEMENT_BREACH,
    AlertRule.PROMISE_OVERDUE,
)


def lights() -> dict[str, tuple[str, str, int | None]]:
    """The open agreement lights: subject → (rule, level, responsible)."""
    return {
        a.subject_key: (a.rule, a.level, a.responsible_id)
        for a in Alert.objects.filter(rule__in=AGREEMENT_RULES, resolved_on__isnull=True)
    }


@pytest.fixture
def agreement(bureau):
    officer = bureau.shanghai_officer
    project = make_project(officer, contract_date=today() - 60 * DAY)
    return services.agreement_create(
        project=project, actor=officer, kind="main", title="协议", signed_on=project.contract_date
    )


def test_due_soon_is_yellow_missed_is_red_and_a_verified_figure_clears_it(bureau, agreement):
    officer = bureau.shanghai_officer
    tax = services.term_add(
        agreement=agreement,
        actor=officer,
        metric="annual_tax",
        target="100",
        due_on=today() + 10 * DAY,
    )
    services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="50", due_on=today() + 200 * DAY
    )
    alerts_evaluate(on=today())
    assert lights() == {
        f"term:{tax.pk}": (AlertRule.AGREEMENT_AT_RISK, AlertLevel.YELLOW, officer.pk)
    }
    alerts_evaluate(on=today() + 11 * DAY)
    assert lights() == {f"term:{tax.pk}": (AlertRule.AGREEMENT_BREACH, AlertLevel.RED, officer.pk)}
    detail = Alert.objects.get(rule=AlertRule.AGREEMENT_BREACH).detail
    assert "年税收" in detail and agreement.project.name in detail
    # The tax office's figure for the due date arrives and is verified: the light clears.
    item = services.measurement_record(
        term=tax, actor=officer, measured_on=today(), value="120", source="税务"
    )
    services.measurement_verify(measurement=item, actor=bureau.shanghai_head)
    alerts_evaluate(on=today() + 12 * DAY)
    assert lights() == {}


def test_a_waiver_clears_a_breach(bureau, agreement):
    tax = services.term_add(
        agreement=agreement, actor=bureau.shanghai_officer, metric="annual_tax", target="100",
        due_on=today() - DAY,
    )  # fmt: skip
    alerts_evaluate(on=today())
    assert [rule for rule, _level, _who in lights().values()] == [AlertRule.AGREEMENT_BREACH]
    services.term_waive(term=tax, actor=bureau.shanghai_head, reason="不可抗力")
    alerts_evaluate(on=today())
    assert lights() == {}


def test_the_bureaus_overdue_promise_is_red_for_its_owner_unit_until_delivered(bureau, agreement):
    promise = services.promise_add(
        agreement=agreement,
        actor=bureau.shanghai_officer,
        kind="land_delivery",
        description="交付净地",
        owner_unit=bureau.shanghai,
        due_on=today() - 5 * DAY,
    )
    alerts_evaluate(on=today())
    assert lights() == {
        f"promise:{promise.pk}": (
            AlertRule.PROMISE_OVERDUE,
            AlertLevel.RED,
            bureau.shanghai_head.pk,
        )
    }
    alert = Alert.objects.get(rule=AlertRule.PROMISE_OVERDUE)
    assert (alert.unit, alert.project) == (bureau.shanghai, agreement.project)
    assert "逾期 5 天未兑现" in alert.detail
    services.promise_deliver(promise=promise, actor=bureau.shanghai_officer, delivered_on=today())
    alerts_evaluate(on=today())
    assert lights() == {}


def test_an_incentive_not_yet_payable_is_owed_by_nobody(bureau, agreement):
    officer = bureau.shanghai_officer
    term = services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="50", due_on=today() + 90 * DAY
    )
    services.promise_add(
        agreement=agreement, actor=officer, kind="incentive", description="用工奖补",
        owner_unit=bureau.shanghai, due_on=today() - DAY, amount="10", conditions=[term],
    )  # fmt: skip
    alerts_evaluate(on=today())
    assert [rule for rule, _level, _who in lights().values()] == []
