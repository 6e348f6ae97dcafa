"""The enquiry clock (办理时限, issue #20): each step met from the records, on the day they say."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from leads import services as lead_services
from leads.choices import ClockState, ClockStep, LeadStatus, SourceChannel
from leads.models import Intermediary, Lead, ReferrerFeedback, Visit
from leads.selectors import clock_overdue, clock_rows, lead_clock, with_enquiry_clock
from promo.core.errors import DomainError, PermissionDenied
from tests.factories import make_lead

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 2)  # a Monday


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def later(days: int, hour: int = 10) -> datetime:
    return at(DAY + timedelta(days=days), hour)


def clock(lead: Lead, on: date) -> dict[str, object]:
    annotated = with_enquiry_clock(Lead.objects.filter(pk=lead.pk)).get()
    return {row.step: row for row in clock_rows(annotated, on=on)}


def log_visit(officer, lead, *, visited_on: date | None = None):
    return lead_services.visit_log(
        actor=officer,
        kind="call",
        visited_on=visited_on or lead_services.today(),
        investor=lead.investor,
        lead=lead,
        summary="电话沟通投资意向",
    )


def referred_lead(officer, **fields) -> Lead:
    broker = Intermediary.objects.create(name="王顾问", kind="person", unit=officer.unit)
    return make_lead(
        officer, source_channel=SourceChannel.INTERMEDIARY, intermediary=broker, **fields
    )


def test_a_new_lead_owes_a_response_in_one_day_and_an_assessment_in_three(bureau):
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(bureau.shanghai_officer)
    rows = clock(lead, DAY)
    # A stationed officer's lead has no referrer to tell, and is not negotiating.
    assert set(rows) == {ClockStep.RESPOND, ClockStep.ASSESS}
    assert rows[ClockStep.RESPOND].due == DAY + timedelta(days=1)
    assert rows[ClockStep.ASSESS].due == DAY + timedelta(days=3)
    assert all(row.state == ClockState.DUE for row in rows.values())


def test_the_due_day_itself_is_not_late_and_the_next_day_is_one_day_late(bureau):
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(bureau.shanghai_officer)
    assert clock(lead, DAY + timedelta(days=1))[ClockStep.RESPOND].state == ClockState.DUE
    late = clock(lead, DAY + timedelta(days=2))[ClockStep.RESPOND]
    assert (late.state, late.days_late) == (ClockState.OVERDUE, 1)
    leads = with_enquiry_clock(Lead.objects.filter(pk=lead.pk))
    assert not leads.filter(clock_overdue(ClockStep.RESPOND, on=DAY + timedelta(days=1))).exists()
    assert leads.filter(clock_overdue(ClockStep.RESPOND, on=DAY + timedelta(days=2))).exists()


def test_a_lead_registered_late_at_night_counts_from_that_day_in_the_bureaus_time_zone(bureau):
    # 23:30 in Shanghai is 15:30 UTC the same day; 00:30 the next morning is still the day
    # before in UTC. The clock counts local days.
    with time_machine.travel(at(DAY, 23, 30), tick=False):
        night = make_lead(bureau.shanghai_officer)
    with time_machine.travel(at(DAY + timedelta(days=1), 0, 30), tick=False):
        morning = make_lead(bureau.shanghai_officer)
    assert clock(night, DAY)[ClockStep.RESPOND].due == DAY + timedelta(days=1)
    assert clock(morning, DAY)[ClockStep.RESPOND].due == DAY + timedelta(days=2)


def test_the_first_visit_logged_on_the_lead_meets_the_response_and_names_who(bureau):
    me = bureau.shanghai_officer
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(me)
    with time_machine.travel(later(1), tick=False):
        log_visit(bureau.teammate, lead)
    with time_machine.travel(later(5), tick=False):
        log_visit(me, lead)
        rows = lead_clock(lead, on=DAY + timedelta(days=5))
    respond = next(item for item in rows if item["row"].step == ClockStep.RESPOND)
    assert respond["row"].state == ClockState.MET
    assert respond["row"].met_on == DAY + timedelta(days=1)
    assert respond["by"] == "陈静"


def test_a_response_logged_late_is_met_late_by_the_days_past_due(bureau):
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(bureau.shanghai_officer)
    with time_machine.travel(later(4), tick=False):
        log_visit(bureau.shanghai_officer, lead)
    row = clock(lead, DAY + timedelta(days=10))[ClockStep.RESPOND]
    assert (row.state, row.met_on, row.days_late) == (ClockState.MET_LATE, later(4).date(), 3)


def test_a_backdated_visit_meets_the_step_on_the_day_it_was_logged_not_the_day_typed(bureau):
    """Logging on day 4 a call dated day 1 does not make the response on time."""
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(bureau.shanghai_officer)
    with time_machine.travel(later(4), tick=False):
        log_visit(bureau.shanghai_officer, lead, visited_on=DAY + timedelta(days=1))
    row = clock(lead, DAY + timedelta(days=4))[ClockStep.RESPOND]
    assert (row.state, row.met_on) == (ClockState.MET_LATE, DAY + timedelta(days=4))


def test_an_earlier_meeting_logged_after_registration_answers_on_the_day_it_is_logged(bureau):
    """An import brings a lead's visits after the lead; an officer types in last week's
    meeting: either way the answer is on record from the day it is logged, not before."""
    me = bureau.shanghai_officer
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(me)
    with time_machine.travel(later(3), tick=False):
        log_visit(me, lead, visited_on=DAY - timedelta(days=7))
    row = clock(lead, DAY + timedelta(days=3))[ClockStep.RESPOND]
    assert (row.state, row.met_on, row.days_late) == (
        ClockState.MET_LATE,
        DAY + timedelta(days=3),
        2,
    )


def test_a_visit_recorded_before_the_lead_existed_is_never_its_response(bureau):
    """The services keep a visit's lead as logged; a visit put on the lead afterwards by other
    means (the admin, SQL) was no answer to it."""
    me = bureau.shanghai_officer
    with time_machine.travel(at(DAY - timedelta(days=7)), tick=False):
        earlier = make_lead(me)
        visit = log_visit(me, earlier)
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(me, investor=earlier.investor, confirm_duplicate=earlier.pk)
    Visit.objects.filter(pk=visit.pk).update(lead=lead)
    assert clock(lead, DAY + timedelta(days=2))[ClockStep.RESPOND].state == ClockState.OVERDUE


def test_the_assessment_is_met_when_the_lead_leaves_information_by_whoever_moved_it(bureau):
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(bureau.shanghai_officer)
    with time_machine.travel(later(2), tick=False):
        lead_services.lead_qualify(lead=lead, actor=bureau.shanghai_head)
    rows = {item["row"].step: item for item in lead_clock(lead, on=DAY + timedelta(days=6))}
    assert rows[ClockStep.ASSESS]["row"].state == ClockState.MET
    assert rows[ClockStep.ASSESS]["row"].met_on == DAY + timedelta(days=2)
    assert rows[ClockStep.ASSESS]["by"] == "李主任"


def test_rejecting_a_lead_is_an_assessment_and_stops_the_other_steps(bureau):
    with time_machine.travel(at(DAY), tick=False):
        lead = referred_lead(bureau.shanghai_officer)
    with time_machine.travel(later(5), tick=False):
        lead_services.lead_reject(
            lead=lead, actor=bureau.shanghai_officer, reject_reason="land_grab"
        )
    rows = clock(lead, DAY + timedelta(days=30))
    assert (rows[ClockStep.ASSESS].state, rows[ClockStep.ASSESS].days_late) == (
        ClockState.MET_LATE,
        2,
    )
    assert rows[ClockStep.RESPOND].state == ClockState.STOPPED
    assert rows[ClockStep.REFERRER_FEEDBACK].state == ClockState.STOPPED
    leads = with_enquiry_clock(Lead.objects.filter(pk=lead.pk))
    for step in ClockStep:
        assert not leads.filter(clock_overdue(step, on=DAY + timedelta(days=30))).exists()


def test_only_a_referred_lead_owes_the_referrer_feedback(bureau):
    me = bureau.shanghai_officer
    with time_machine.travel(at(DAY), tick=False):
        broker_lead = referred_lead(me)
        referral = make_lead(me, source_channel=SourceChannel.INVESTOR_REFERRAL)
        stationed = make_lead(me)
    assert clock(broker_lead, DAY)[ClockStep.REFERRER_FEEDBACK].due == DAY + timedelta(days=7)
    assert ClockStep.REFERRER_FEEDBACK in clock(referral, DAY)
    assert ClockStep.REFERRER_FEEDBACK not in clock(stationed, DAY)
    with pytest.raises(DomainError):
        lead_services.referrer_feedback_record(lead=stationed, actor=me, note="已告知")
    assert not ReferrerFeedback.objects.exists()


def test_recorded_feedback_meets_the_step_on_the_day_it_was_recorded_and_stays(bureau):
    me = bureau.shanghai_officer
    with time_machine.travel(at(DAY), tick=False):
        lead = referred_lead(me)
    with time_machine.travel(later(8), tick=False):
        lead_services.referrer_feedback_record(lead=lead, actor=me, note="电话告知王顾问：已对接")
    with time_machine.travel(later(9), tick=False):
        lead_services.referrer_feedback_record(lead=lead, actor=bureau.teammate, note="再次反馈")
    rows = {item["row"].step: item for item in lead_clock(lead, on=DAY + timedelta(days=9))}
    feedback = rows[ClockStep.REFERRER_FEEDBACK]
    assert (feedback["row"].state, feedback["row"].met_on, feedback["row"].days_late) == (
        ClockState.MET_LATE,
        DAY + timedelta(days=8),
        1,
    )
    assert feedback["by"] == "张明"
    assert ReferrerFeedback.objects.filter(lead=lead).count() == 2


def test_feedback_needs_a_note(bureau):
    lead = referred_lead(bureau.shanghai_officer)
    with pytest.raises(DomainError):
        lead_services.referrer_feedback_record(lead=lead, actor=bureau.shanghai_officer, note=" ")
    assert not ReferrerFeedback.objects.exists()


def test_an_outsider_cannot_record_feedback_and_nothing_is_written(bureau):
    lead = referred_lead(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        lead_services.referrer_feedback_record(lead=lead, actor=bureau.outsider, note="已告知")
    assert not ReferrerFeedback.objects.exists()


def test_a_department_submitter_cannot_record_feedback(bureau):
    lead = referred_lead(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        lead_services.referrer_feedback_record(lead=lead, actor=bureau.submitter, note="已告知")
    assert not ReferrerFeedback.objects.exists()


def test_feedback_rows_are_append_only(bureau):
    from django.db import InternalError, transaction

    lead = referred_lead(bureau.shanghai_officer)
    row = lead_services.referrer_feedback_record(
        lead=lead, actor=bureau.shanghai_officer, note="已告知"
    )
    with pytest.raises(InternalError), transaction.atomic():
        ReferrerFeedback.objects.filter(pk=row.pk).update(note="改过")
    row.refresh_from_db()
    assert row.note == "已告知"


def test_a_progress_report_is_due_every_period_while_negotiating(bureau):
    me = bureau.shanghai_officer
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(me)
        log_visit(me, lead)
        lead_services.lead_qualify(lead=lead, actor=me)
        lead = lead_services.lead_start_negotiation(lead=lead, actor=me)
    row = clock(lead, DAY + timedelta(days=14))[ClockStep.PROGRESS_REPORT]
    assert (row.due, row.state) == (DAY + timedelta(days=14), ClockState.DUE)
    row = clock(lead, DAY + timedelta(days=16))[ClockStep.PROGRESS_REPORT]
    assert (row.state, row.days_late) == (ClockState.OVERDUE, 2)
    with time_machine.travel(later(16), tick=False):
        log_visit(bureau.teammate, lead)
    row = clock(lead, DAY + timedelta(days=16))[ClockStep.PROGRESS_REPORT]
    assert (row.met_on, row.due, row.state) == (
        DAY + timedelta(days=16),
        DAY + timedelta(days=30),
        ClockState.DUE,
    )


def test_no_progress_report_is_owed_before_negotiating_or_after_signing(bureau):
    with time_machine.travel(at(DAY), tick=False):
        valid = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    assert ClockStep.PROGRESS_REPORT not in clock(valid, DAY + timedelta(days=60))


@override_settings(PROMO_CLOCK_RESPOND_DAYS=2, PROMO_CLOCK_ASSESS_DAYS=5)
def test_the_days_per_step_come_from_the_settings(bureau):
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(bureau.shanghai_officer)
    rows = clock(lead, DAY)
    assert rows[ClockStep.RESPOND].due == DAY + timedelta(days=2)
    assert rows[ClockStep.ASSESS].due == DAY + timedelta(days=5)


def test_the_pages_rows_and_the_lights_condition_agree_on_every_step_and_day(bureau):
    """clock_rows (the pages) and clock_overdue (the lights, SQL) are one rule written twice:
    over leads in every state and a month of days, they name the same overdue steps."""
    me = bureau.shanghai_officer
    with time_machine.travel(at(DAY), tick=False):
        leads = [make_lead(me), referred_lead(me), referred_lead(me), make_lead(me)]
    with time_machine.travel(later(2), tick=False):
        log_visit(me, leads[1])
        lead_services.lead_qualify(lead=leads[1], actor=me)
        lead_services.lead_drop(lead=leads[3], actor=me, reason="投资方暂缓")
    with time_machine.travel(later(5), tick=False):
        lead_services.lead_start_negotiation(lead=leads[1], actor=me)
        lead_services.referrer_feedback_record(lead=leads[2], actor=me, note="已告知")
    with time_machine.travel(later(24), tick=False):
        log_visit(me, leads[1])
    annotated = with_enquiry_clock(Lead.objects.filter(pk__in=[lead.pk for lead in leads]))
    for offset in range(0, 40, 3):
        on = DAY + timedelta(days=offset)
        by_rows = {
            (lead.pk, row.step)
            for lead in annotated
            for row in clock_rows(lead, on=on)
            if row.state == ClockState.OVERDUE
        }
        by_sql = {
            (pk, step)
            for step in ClockStep
            for pk in annotated.filter(clock_overdue(step, on=on)).values_list("pk", flat=True)
        }
        assert by_rows == by_sql, on


def test_a_lead_brought_in_already_negotiating_counts_its_progress_from_its_registration(bureau):
    """An import or a synced system brings a lead in 在谈 since months, or without the date it
    entered negotiation: its clock starts when it arrives, like every step — not overdue on
    the day it arrives for the months before promo knew it."""
    me = bureau.shanghai_officer
    with time_machine.travel(at(DAY), tick=False):
        lead = make_lead(me, status=LeadStatus.NEGOTIATING)  # negotiating_on: 90 days back
        undated = make_lead(me, status=LeadStatus.NEGOTIATING)
    Lead.objects.filter(pk=undated.pk).update(negotiating_on=None, qualified_on=None)
    for each in (lead, undated):
        row = clock(each, DAY)[ClockStep.PROGRESS_REPORT]
        assert (row.due, row.state) == (DAY + timedelta(days=14), ClockState.DUE)
    leads = with_enquiry_clock(Lead.objects.filter(pk__in=[lead.pk, undated.pk]))
    on = DAY + timedelta(days=14)
    assert not leads.filter(clock_overdue(ClockStep.PROGRESS_REPORT, on=on)).exists()
    assert leads.filter(clock_overdue(ClockStep.PROGRESS_REPORT, on=on + timedelta(1))).count() == 2
