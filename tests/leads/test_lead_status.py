"""The lead lifecycle: the transition table, its one service, its events and constraints."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from leads.choices import LEAD_TRANSITIONS, OPEN_LEAD_STATUSES, LeadStatus, lead_can_transition
from leads.models import Lead, LeadStatusEvent
from leads.services import lead_drop, lead_qualify, lead_reject, lead_transition
from promo.core.errors import PermissionDenied, RuleViolation, TransitionNotAllowed
from promo.core.services import today
from tests.factories import make_bureau, make_lead

TERMINAL = {LeadStatus.SIGNED, LeadStatus.DROPPED, LeadStatus.REJECTED}


def test_terminal_statuses_have_no_way_out():
    for status in TERMINAL:
        assert LEAD_TRANSITIONS[status] == frozenset()
        for target in LeadStatus.values:
            assert not lead_can_transition(status, target)
    assert OPEN_LEAD_STATUSES == {
        LeadStatus.INFORMATION,
        LeadStatus.VALID,
        LeadStatus.NEGOTIATING,
    }


def test_the_pipeline_cannot_skip_a_stage():
    assert not lead_can_transition(LeadStatus.INFORMATION, LeadStatus.NEGOTIATING)
    assert not lead_can_transition(LeadStatus.INFORMATION, LeadStatus.SIGNED)
    assert not lead_can_transition(LeadStatus.VALID, LeadStatus.SIGNED)
    assert not lead_can_transition(LeadStatus.NEGOTIATING, LeadStatus.VALID)


def test_every_status_is_reachable_from_information():
    seen, frontier = {LeadStatus.INFORMATION}, [LeadStatus.INFORMATION]
    while frontier:
        for target in LEAD_TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(LeadStatus.values)


def test_qualify_records_status_date_and_event(bureau):
    lead = make_lead(bureau.shanghai_officer)
    lead = lead_qualify(lead=lead, actor=bureau.teammate, note="已与董事长确认")
    assert lead.status == LeadStatus.VALID
    assert lead.qualified_on == today()
    event = lead.status_events.order_by("-id").first()
    assert (event.from_status, event.to_status, event.actor) == (
        LeadStatus.INFORMATION,
        LeadStatus.VALID,
        bureau.teammate,
    )
    assert event.note == "已与董事长确认"


def test_drop_without_reason_is_refused_and_nothing_is_written(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    events_before = lead.status_events.count()
    with pytest.raises(RuleViolation) as err:
        lead_drop(lead=lead, actor=bureau.shanghai_officer, reason="   ")
    assert "reason" in err.value.field_errors
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VALID
    assert lead.status_events.count() == events_before


def test_reject_needs_one_of_the_screening_reasons(bureau):
    lead = make_lead(bureau.shanghai_officer)
    with pytest.raises(RuleViolation):
        lead_reject(lead=lead, actor=bureau.shanghai_officer, reject_reason="不喜欢")
    lead = lead_reject(lead=lead, actor=bureau.shanghai_officer, reject_reason="eia_safety")
    assert lead.status == LeadStatus.REJECTED
    assert lead.closed_on == today()
    assert lead.status_events.last().reason == "环评安评不过关"


def test_a_terminal_lead_cannot_be_reopened(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.DROPPED)
    with pytest.raises(TransitionNotAllowed) as err:
        lead_qualify(lead=lead, actor=bureau.chief)
    assert err.value.status == 409
    assert err.value.code == "transition_not_allowed"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DROPPED


def test_outsider_cannot_qualify_lead_and_no_event_is_written(bureau):
    lead = make_lead(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        lead_qualify(lead=lead, actor=bureau.outsider)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION
    assert lead.status_events.count() == 1


def test_department_submitter_cannot_move_even_their_own_lead(bureau):
    lead = make_lead(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        lead_qualify(lead=lead, actor=bureau.submitter)
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.INFORMATION


def test_future_status_date_is_refused(bureau):
    from datetime import timedelta

    lead = make_lead(bureau.shanghai_officer)
    with pytest.raises(RuleViolation):
        lead_transition(
            lead=lead,
            actor=bureau.shanghai_officer,
            to_status=LeadStatus.VALID,
            on_date=today() + timedelta(days=1),
        )


def test_database_refuses_a_dropped_lead_without_reason(bureau):
    lead = make_lead(bureau.shanghai_officer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.DROPPED, drop_reason="")


def test_status_events_are_append_only_even_for_raw_sql(bureau):
    lead = make_lead(bureau.shanghai_officer)
    event = lead.status_events.get()
    with pytest.raises(InternalError) as err, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE leads_leadstatusevent SET to_status = 'signed' WHERE id = %s", [event.pk]
            )
    assert "append_only" in str(err.value)
    with pytest.raises(InternalError), transaction.atomic():
        LeadStatusEvent.objects.filter(pk=event.pk).delete()
    assert LeadStatusEvent.objects.filter(pk=event.pk, to_status=LeadStatus.INFORMATION).exists()


class TestRandomTransitionSequences(HypothesisTestCase):
    """Any sequence of requested transitions ends where the table says, with one event per step."""

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(LeadStatus.values), min_size=1, max_size=6))
    def test_service_follows_the_table(self, requested):
        personas = make_bureau()
        actor = personas.shanghai_officer
        lead = make_lead(actor)
        expected = LeadStatus.INFORMATION
        accepted = 0
        for target in requested:
            if target == LeadStatus.SIGNED:
                # Signing happens through projects.services.project_sign_lead only.
                continue
            allowed = lead_can_transition(expected, target)
            try:
                lead_transition(
                    lead=lead,
                    actor=actor,
                    to_status=target,
                    reason="原因" if target == LeadStatus.DROPPED else "",
                    reject_reason="low_level_duplicate" if target == LeadStatus.REJECTED else "",
                )
            except TransitionNotAllowed:
                assert not allowed
            else:
                assert allowed
                expected = target
                accepted += 1
        lead.refresh_from_db()
        assert lead.status == expected
        assert lead.status_events.count() == accepted + 1


def test_nightly_activity_refresh_is_idempotent(bureau):
    from django.db import connection

    from leads.choices import VisitKind
    from leads.services import visit_log
    from leads.tasks import refresh_lead_activity

    lead = make_lead(bureau.shanghai_officer)
    visit_log(
        actor=bureau.shanghai_officer,
        kind=VisitKind.CALL,
        visited_on=today(),
        investor=lead.investor,
        lead=lead,
        summary="电话跟进",
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET last_activity_on = NULL WHERE id = %s", [lead.pk])
    assert refresh_lead_activity() == 1
    assert refresh_lead_activity() == 0
    lead.refresh_from_db()
    assert lead.last_activity_on == today()


def test_status_dates_cannot_run_backwards(bureau):
    from datetime import timedelta

    lead = make_lead(bureau.shanghai_officer)
    lead = lead_transition(
        lead=lead,
        actor=bureau.shanghai_officer,
        to_status=LeadStatus.VALID,
        on_date=today() - timedelta(days=5),
    )
    with pytest.raises(RuleViolation) as err:
        lead_transition(
            lead=lead,
            actor=bureau.shanghai_officer,
            to_status=LeadStatus.NEGOTIATING,
            on_date=today() - timedelta(days=6),
        )
    assert "on_date" in err.value.field_errors
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(
            status=LeadStatus.NEGOTIATING, negotiating_on=today() - timedelta(days=9)
        )
