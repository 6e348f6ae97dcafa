"""Traffic lights (红黄灯): each rule fires and clears; the escalation ladder notifies once per step."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from leads import services as lead_services
from leads.choices import LeadStatus, VisitKind
from projects.choices import ProblemKind, Stage
from projects.services import (
    problem_ask_again,
    problem_raise,
    problem_resolve,
    project_advance,
    project_create,
)
from promo.core.choices import Industry
from promo.core.errors import PermissionDenied
from promo.reports.choices import AlertLevel, AlertRule, EscalationStep
from promo.reports.models import Alert, AlertNotice
from promo.reports.selectors import alerts_visible_to, unread_notice_count
from promo.reports.services import alert_acknowledge, alerts_evaluate, notice_mark_read
from tests.factories import make_investor, make_lead, stage_evidence

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
D = date(2026, 11, 25)


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=TZ), tick=False) as traveller:
        yield traveller


@pytest.fixture
def no_unit_rule(settings):
    # Keep the monthly valid-lead rule out of tests about other rules.
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32


def project(actor, signed: date, **plan):
    return project_create(
        actor=actor,
        investor=make_investor(actor),
        name=f"项目{signed}",
        industry=Industry.ELECTRONICS,
        contract_date=signed,
        total_investment=500,
        **plan,
    )


def open_alert(rule, **subject):
    return Alert.objects.filter(rule=rule, resolved_on__isnull=True, **subject).first()


def test_late_milestone_turns_yellow_then_red_and_clears_when_the_stage_is_reached(
    bureau, clock, no_unit_rule
):
    p = project(
        bureau.shanghai_officer, date(2026, 10, 1), groundbreaking_planned=date(2026, 11, 1)
    )
    alerts_evaluate(on=date(2026, 11, 1))
    assert open_alert(AlertRule.MILESTONE_OVERDUE) is None  # due today is not late

    alerts_evaluate(on=D)
    alert = open_alert(AlertRule.MILESTONE_OVERDUE, project=p)
    assert (alert.level, alert.responsible) == (AlertLevel.YELLOW, bureau.shanghai_officer)
    assert alert.detail.endswith("节点逾期 24 天")

    alerts_evaluate(on=date(2027, 1, 30))  # 90 days late: red, the same alert
    assert Alert.objects.filter(rule=AlertRule.MILESTONE_OVERDUE).count() == 1
    assert open_alert(AlertRule.MILESTONE_OVERDUE).level == AlertLevel.RED

    project_advance(
        project=p,
        actor=bureau.shanghai_officer,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=date(2026, 11, 20),
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    result = alerts_evaluate(on=date(2027, 1, 31))
    assert open_alert(AlertRule.MILESTONE_OVERDUE) is None
    assert Alert.objects.get(rule=AlertRule.MILESTONE_OVERDUE).resolved_on == date(2027, 1, 31)
    assert result["cleared"] >= 1


def test_signed_and_not_started_after_three_months_is_red(bureau, clock, no_unit_rule):
    p = project(bureau.outsider, date(2026, 8, 1))
    alerts_evaluate(on=date(2026, 10, 29))  # 89 days
    assert open_alert(AlertRule.NOT_STARTED) is None
    alerts_evaluate(on=date(2026, 10, 30))  # 90 days
    alert = open_alert(AlertRule.NOT_STARTED, project=p)
    assert (alert.level, alert.unit) == (AlertLevel.RED, bureau.shenzhen)
    project_advance(
        project=p,
        actor=bureau.outsider,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=D,
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    alerts_evaluate(on=D)
    assert open_alert(AlertRule.NOT_STARTED) is None


def test_completed_but_not_producing_turns_yellow_and_clears_on_production(
    bureau, clock, no_unit_rule
):
    p = project(bureau.outsider, date(2025, 12, 1))
    for stage, on in (
        (Stage.GROUNDBREAKING, date(2026, 1, 10)),
        (Stage.COMPLETED, date(2026, 3, 1)),
    ):
        project_advance(
            project=p,
            actor=bureau.outsider,
            to_stage=stage,
            actual_date=on,
            evidence=stage_evidence(stage),
        )
    alerts_evaluate(on=date(2026, 8, 27))  # 179 days
    assert open_alert(AlertRule.NOT_PRODUCING) is None
    alerts_evaluate(on=date(2026, 8, 28))  # 180 days
    assert open_alert(AlertRule.NOT_PRODUCING, project=p).level == AlertLevel.YELLOW
    project_advance(
        project=p,
        actor=bureau.outsider,
        to_stage=Stage.PRODUCING,
        actual_date=D,
        evidence=stage_evidence(Stage.PRODUCING),
    )
    alerts_evaluate(on=D)
    assert open_alert(AlertRule.NOT_PRODUCING) is None


def test_lead_without_follow_up_turns_yellow_and_a_visit_clears_it(bureau, clock, no_unit_rule):
    clock.move_to(datetime(2026, 10, 1, 9, 0, tzinfo=TZ))
    lead = make_lead(bureau.shanghai_officer)
    clock.move_to(datetime(2026, 11, 25, 10, 0, tzinfo=TZ))
    alerts_evaluate(on=date(2026, 10, 30))  # 29 days
    assert open_alert(AlertRule.LEAD_NO_FOLLOW_UP) is None
    alerts_evaluate(on=D)
    alert = open_alert(AlertRule.LEAD_NO_FOLLOW_UP, lead=lead)
    assert (alert.level, alert.responsible) == (AlertLevel.YELLOW, bureau.shanghai_officer)

    lead_services.visit_log(
        actor=bureau.shanghai_officer,
        kind=VisitKind.CALL,
        visited_on=date(2026, 11, 20),
        investor=lead.investor,
        lead=lead,
        summary="电话跟进",
    )
    alerts_evaluate(on=D)
    assert open_alert(AlertRule.LEAD_NO_FOLLOW_UP) is None


def test_quiet_negotiation_turns_red(bureau, clock, no_unit_rule):
    lead = make_lead(bureau.outsider)
    for status, on in (
        (LeadStatus.VALID, date(2026, 11, 1)),
        (LeadStatus.NEGOTIATING, date(2026, 11, 2)),
    ):
        lead = lead_services.lead_transition(
            lead=lead, actor=bureau.outsider, to_status=status, on_date=on
        )
    alerts_evaluate(on=date(2026, 11, 16))  # 14 days
    assert open_alert(AlertRule.NEGOTIATION_QUIET) is None
    alerts_evaluate(on=date(2026, 11, 17))  # 15 days
    assert open_alert(AlertRule.NEGOTIATION_QUIET, lead=lead).level == AlertLevel.RED
    lead_services.lead_drop(lead=lead, actor=bureau.outsider, reason="投资方取消计划")
    alerts_evaluate(on=D)
    assert open_alert(AlertRule.NEGOTIATION_QUIET) is None


def test_units_without_a_valid_lead_this_month_turn_yellow_from_the_20th(bureau, clock):
    lead = make_lead(bureau.sub_unit_officer)
    lead_services.lead_transition(
        lead=lead,
        actor=bureau.sub_unit_officer,
        to_status=LeadStatus.VALID,
        on_date=date(2026, 11, 5),
    )
    alerts_evaluate(on=date(2026, 11, 19))
    assert not Alert.objects.filter(rule=AlertRule.NO_VALID_LEAD).exists()

    alerts_evaluate(on=date(2026, 11, 20))
    lit = Alert.objects.filter(rule=AlertRule.NO_VALID_LEAD, resolved_on__isnull=True)
    # The Pudong group's lead counts for it and for the Shanghai office above it.
    assert {a.unit for a in lit} == {bureau.shenzhen, bureau.department}
    responsible = {a.unit: a.responsible for a in lit}
    assert responsible == {bureau.shenzhen: bureau.outsider, bureau.department: bureau.submitter}

    alerts_evaluate(on=date(2026, 12, 1))  # a new month: November's lights clear
    assert not Alert.objects.filter(rule=AlertRule.NO_VALID_LEAD, resolved_on__isnull=True).exists()


def test_problem_overdue_is_yellow_asked_twice_is_red_and_both_clear_when_resolved(
    bureau, clock, no_unit_rule
):
    p = project(bureau.shanghai_officer, date(2026, 11, 1))
    problem = problem_raise(
        project=p,
        actor=bureau.shanghai_officer,
        kind=ProblemKind.POWER,
        title="临时用电未接通",
        owner_unit=bureau.shanghai,
        due_on=date(2026, 11, 10),
        raised_on=date(2026, 11, 1),
    )
    alerts_evaluate(on=date(2026, 11, 10))
    assert open_alert(AlertRule.PROBLEM_OVERDUE) is None
    alerts_evaluate(on=date(2026, 11, 11))
    assert open_alert(AlertRule.PROBLEM_OVERDUE, problem=problem).level == AlertLevel.YELLOW
    problem_ask_again(problem=problem, actor=bureau.shanghai_officer)
    alerts_evaluate(on=D)
    assert open_alert(AlertRule.PROBLEM_ASKED_TWICE, problem=problem).level == AlertLevel.RED
    problem_resolve(problem=problem, actor=bureau.shanghai_head, resolution="已接通")
    alerts_evaluate(on=D)
    assert open_alert(AlertRule.PROBLEM_OVERDUE) is None
    assert open_alert(AlertRule.PROBLEM_ASKED_TWICE) is None


def notices_of(alert):
    return sorted(alert.notices.values_list("step", "recipient__username"))


def test_ladder_notifies_officer_then_unit_head_then_chief_once_each(bureau, clock, no_unit_rule):
    # Signed by the Pudong group: its head is the Shanghai office's head, one level up.
    p = project(bureau.sub_unit_officer, date(2026, 8, 1))
    start = date(2026, 11, 1)
    alerts_evaluate(on=start)
    alert = open_alert(AlertRule.NOT_STARTED, project=p)
    assert notices_of(alert) == [(EscalationStep.OFFICER, "pd_officer")]
    assert unread_notice_count(bureau.sub_unit_officer) == 1

    alerts_evaluate(on=date(2026, 11, 3))
    assert len(notices_of(alert)) == 1
    alerts_evaluate(on=date(2026, 11, 4))  # three days: the unit head
    second = alerts_evaluate(on=date(2026, 11, 4))
    assert second["notices"] == 0
    assert notices_of(alert) == [
        (EscalationStep.OFFICER, "pd_officer"),
        (EscalationStep.UNIT_HEAD, "sh_head"),
    ]

    alerts_evaluate(on=date(2026, 11, 8))  # seven days: the chief
    alerts_evaluate(on=date(2026, 11, 9))
    assert notices_of(alert) == [
        (EscalationStep.OFFICER, "pd_officer"),
        (EscalationStep.UNIT_HEAD, "sh_head"),
        (EscalationStep.CHIEF, "chief"),
    ]

    project_advance(
        project=p,
        actor=bureau.sub_unit_officer,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=D,
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    alerts_evaluate(on=D)
    assert AlertNotice.objects.filter(alert=alert).count() == 3
    assert unread_notice_count(bureau.chief) == 0  # the light is out


def test_acknowledged_alert_stops_climbing_and_outsider_cannot_acknowledge(
    bureau, clock, no_unit_rule
):
    project(bureau.shanghai_officer, date(2026, 8, 1))
    alerts_evaluate(on=date(2026, 11, 1))
    alert = open_alert(AlertRule.NOT_STARTED)

    with pytest.raises(PermissionDenied):
        alert_acknowledge(alert=alert, actor=bureau.outsider)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None

    alert_acknowledge(alert=alert, actor=bureau.shanghai_officer)
    assert unread_notice_count(bureau.shanghai_officer) == 0
    alerts_evaluate(on=date(2026, 11, 10))
    assert notices_of(alert) == [(EscalationStep.OFFICER, "sh_officer")]
    alert.refresh_from_db()
    assert alert.acknowledged_by == bureau.shanghai_officer and alert.is_open


def test_bell_counts_unread_and_only_the_recipient_marks_read(bureau, clock, no_unit_rule):
    project(bureau.shanghai_officer, date(2026, 8, 1))
    alerts_evaluate(on=date(2026, 11, 1))
    notice = AlertNotice.objects.get()
    with pytest.raises(PermissionDenied):
        notice_mark_read(notice=notice, actor=bureau.teammate)
    assert unread_notice_count(bureau.shanghai_officer) == 1
    notice_mark_read(notice=notice, actor=bureau.shanghai_officer)
    assert unread_notice_count(bureau.shanghai_officer) == 0


def test_lights_are_visible_to_their_units_and_the_chief_only(bureau, clock, no_unit_rule):
    project(bureau.shanghai_officer, date(2026, 8, 1))
    alerts_evaluate(on=D)
    assert alerts_visible_to(bureau.shanghai_head).count() == 1
    assert alerts_visible_to(bureau.chief).count() == 1
    assert alerts_visible_to(bureau.outsider).count() == 0
