"""The enquiry clock's breaches in the traffic lights (办理时限逾期, issue #20)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from leads import services as lead_services
from leads.choices import SourceChannel
from leads.models import Intermediary
from promo.reports.choices import AlertLevel, AlertRule, EscalationStep
from promo.reports.models import Alert, AlertNotice
from promo.reports.services import alerts_evaluate
from tests.factories import make_lead

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 2)


def at(offset: int) -> datetime:
    day = DAY + timedelta(days=offset)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ)


def evaluate(offset: int) -> dict[str, int]:
    with time_machine.travel(at(offset), tick=False):
        return alerts_evaluate(on=DAY + timedelta(days=offset))


def clock_alerts(**filters):
    return Alert.objects.filter(rule=AlertRule.CLOCK_OVERDUE, **filters)


def open_steps(lead) -> dict[str, Alert]:
    return {
        a.subject_key.rsplit(":", 1)[1]: a
        for a in clock_alerts(lead=lead, resolved_on__isnull=True)
    }


def test_no_light_on_the_due_day_a_yellow_light_per_step_the_day_after(bureau):
    me = bureau.shanghai_officer
    with time_machine.travel(at(0), tick=False):
        lead = make_lead(me)
    evaluate(1)
    assert not clock_alerts().exists()
    evaluate(2)
    respond = open_steps(lead)["respond"]
    assert (respond.level, respond.responsible_id, respond.unit_id) == (
        AlertLevel.YELLOW,
        me.pk,
        bureau.shanghai.pk,
    )
    assert respond.subject_key == f"lead:{lead.pk}:respond"
    assert respond.detail == f"{lead.name}：首次响应逾期 1 天"
    evaluate(4)
    assert set(open_steps(lead)) == {"respond", "assess"}
    assert open_steps(lead)["respond"].detail.endswith("逾期 3 天")


def test_the_light_clears_when_the_records_meet_the_step(bureau):
    me = bureau.shanghai_officer
    with time_machine.travel(at(0), tick=False):
        lead = make_lead(me)
    evaluate(4)
    with time_machine.travel(at(5), tick=False):
        lead_services.visit_log(
            actor=me,
            kind="call",
            visited_on=DAY + timedelta(days=5),
            investor=lead.investor,
            lead=lead,
            summary="电话沟通",
        )
        lead_services.lead_qualify(lead=lead, actor=me)
    evaluate(5)
    assert open_steps(lead) == {}
    assert clock_alerts(lead=lead, resolved_on=DAY + timedelta(days=5)).count() == 2


def test_recorded_feedback_clears_the_referrer_light_and_a_dropped_lead_clears_all(bureau):
    me = bureau.shanghai_officer
    broker = Intermediary.objects.create(name="王顾问", kind="person", unit=bureau.shanghai)
    with time_machine.travel(at(0), tick=False):
        lead = make_lead(me, source_channel=SourceChannel.INTERMEDIARY, intermediary=broker)
    evaluate(8)
    assert set(open_steps(lead)) == {"respond", "assess", "referrer_feedback"}
    with time_machine.travel(at(9), tick=False):
        lead_services.referrer_feedback_record(lead=lead, actor=me, note="已告知王顾问")
    evaluate(9)
    assert set(open_steps(lead)) == {"respond", "assess"}
    with time_machine.travel(at(10), tick=False):
        lead_services.lead_drop(lead=lead, actor=me, reason="投资方暂缓")
    evaluate(10)
    assert open_steps(lead) == {}


def test_a_quiet_negotiation_lights_the_progress_report_until_a_visit_is_logged(bureau):
    me = bureau.shanghai_officer
    with time_machine.travel(at(0), tick=False):
        lead = make_lead(me)
        lead_services.visit_log(
            actor=me,
            kind="call",
            visited_on=DAY,
            investor=lead.investor,
            lead=lead,
            summary="初次接洽",
        )
        lead_services.lead_qualify(lead=lead, actor=me)
        lead_services.lead_start_negotiation(lead=lead, actor=me)
    evaluate(14)
    assert open_steps(lead) == {}
    evaluate(15)
    assert set(open_steps(lead)) == {"progress_report"}
    with time_machine.travel(at(16), tick=False):
        lead_services.visit_log(
            actor=me,
            kind="negotiation",
            visited_on=DAY + timedelta(days=16),
            investor=lead.investor,
            lead=lead,
            summary="商谈用地",
        )
    evaluate(16)
    assert open_steps(lead) == {}


def test_a_clock_light_climbs_the_ladder_like_any_other(bureau, settings):
    me = bureau.shanghai_officer
    with time_machine.travel(at(0), tick=False):
        lead = make_lead(me)
    evaluate(2)
    alert = open_steps(lead)["respond"]
    assert set(AlertNotice.objects.filter(alert=alert).values_list("step", "recipient_id")) == {
        (EscalationStep.OFFICER, me.pk)
    }
    evaluate(2 + settings.PROMO_ESCALATE_TO_HEAD_DAYS)
    assert (EscalationStep.UNIT_HEAD, bureau.shanghai_head.pk) in set(
        AlertNotice.objects.filter(alert=alert).values_list("step", "recipient_id")
    )


def test_a_second_run_the_same_day_writes_nothing(bureau):
    with time_machine.travel(at(0), tick=False):
        make_lead(bureau.shanghai_officer)
    first = evaluate(5)
    assert first["opened"] >= 2
    assert evaluate(5) == {"opened": 0, "cleared": 0, "notices": 0}
