"""The agreement ledger's rules: statuses computed from verified rows and dates, four eyes on
every figure and every payment, clawback by the agreement's rule, and who may do what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction

from projects import services as project_services
from promo.agreements import services
from promo.agreements.choices import Payment, PromiseStatus, RequestStatus, TermStatus
from promo.agreements.models import AgreementLog, IncentiveRequest, Measurement, Promise, Term
from promo.agreements.selectors import (
    agreements_visible_to,
    clawback_for,
    promises_with_status,
    terms_with_status,
)
from promo.core.errors import Conflict, PermissionDenied, RuleViolation, TransitionNotAllowed
from promo.core.services import today
from tests.factories import stage_evidence

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def status_of(term: Term, on=None) -> str:
    return terms_with_status(Term.objects.filter(pk=term.pk), on).get().status


def promise_status_of(promise: Promise, on=None) -> str:
    return promises_with_status(Promise.objects.filter(pk=promise.pk), on).get().status


def tax_term(signed, *, target="50", due=None) -> Term:
    return services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric="annual_tax",
        target=target,
        due_on=due or today() - 30 * DAY,
    )


def measured(signed, term, value, *, on=None, verify=True) -> Measurement:
    item = services.measurement_record(
        term=term,
        actor=signed.officer,
        measured_on=on or term.due_on - 10 * DAY,
        value=value,
        source="税务部门年度数据",
    )
    if verify:
        item = services.measurement_verify(measurement=item, actor=signed.bureau.shanghai_head)
    return item


# --- investor's commitments ------------------------------------------------------------------


def test_an_amount_term_is_pending_until_due_then_met_partly_met_or_missed(signed):
    future = tax_term(signed, due=today() + 30 * DAY)
    assert status_of(future) == TermStatus.PENDING
    missed = tax_term(signed)
    assert status_of(missed) == TermStatus.MISSED
    partly = tax_term(signed)
    measured(signed, partly, "30")
    assert status_of(partly) == TermStatus.PARTLY_MET
    met = tax_term(signed)
    measured(signed, met, "50")
    assert status_of(met) == TermStatus.MET
    # Reached early: met before the due date.
    early = tax_term(signed, due=today() + 30 * DAY)
    measured(signed, early, "60", on=today())
    assert status_of(early) == TermStatus.MET


def test_the_due_day_itself_is_still_pending_and_the_next_day_missed(signed):
    term = tax_term(signed, due=today())
    assert status_of(term) == TermStatus.PENDING
    assert status_of(term, on=today() + DAY) == TermStatus.MISSED


def test_an_unverified_figure_does_not_count(signed):
    term = tax_term(signed)
    measured(signed, term, "80", verify=False)
    assert status_of(term) == TermStatus.MISSED


def test_a_figure_reached_after_the_due_date_does_not_undo_the_breach(signed):
    term = tax_term(signed)
    measured(signed, term, "20")
    measured(signed, term, "90", on=today())
    assert status_of(term) == TermStatus.PARTLY_MET


def test_date_commitments_follow_the_projects_actual_dates(signed):
    project = signed.project
    start = services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric="start_by",
        target=None,
        due_on=today() - 70 * DAY,
    )
    complete = services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric="complete_by",
        target=None,
        due_on=today() - 10 * DAY,
    )
    produce = services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric="produce_by",
        target=None,
        due_on=today() + 100 * DAY,
    )
    assert [status_of(t) for t in (start, complete, produce)] == [
        TermStatus.MISSED,
        TermStatus.MISSED,
        TermStatus.PENDING,
    ]
    project_services.project_advance(
        project=project,
        actor=signed.officer,
        to_stage="groundbreaking",
        actual_date=today() - 75 * DAY,
        evidence=stage_evidence("groundbreaking"),
    )
    project_services.project_advance(
        project=project,
        actor=signed.officer,
        to_stage="completed",
        actual_date=today() - 5 * DAY,
        evidence=stage_evidence("completed"),
    )
    assert [status_of(t) for t in (start, complete, produce)] == [
        TermStatus.MET,
        TermStatus.PARTLY_MET,  # completed five days late
        TermStatus.PENDING,
    ]


def test_a_date_commitment_takes_no_typed_figure(signed):
    term = services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric="start_by",
        target=None,
        due_on=today(),
    )
    with pytest.raises(RuleViolation) as caught:
        measured(signed, term, "1", on=today())
    assert "value" in caught.value.field_errors
    assert not Measurement.objects.exists()


def test_bad_input_is_refused_on_its_field_and_nothing_is_written(signed):
    cases = [
        (dict(metric="annual_tax", target="-5", due_on=today()), "target"),
        (dict(metric="annual_tax", target="abc", due_on=today()), "target"),
        (dict(metric="annual_tax", target="0", due_on=today()), "target"),
        (dict(metric="nonsense", target="5", due_on=today()), "metric"),
        (dict(metric="annual_tax", target="5", due_on=None), "due_on"),
        (dict(metric="annual_tax", target="5", due_on=today() - 100 * DAY), "due_on"),
    ]
    for fields, field in cases:
        with pytest.raises(RuleViolation) as caught:
            services.term_add(agreement=signed.agreement, actor=signed.officer, **fields)
        assert field in caught.value.field_errors, fields
    assert not Term.objects.exists()


def test_nobody_verifies_their_own_figure_not_even_by_sql(signed):
    term = tax_term(signed)
    item = measured(signed, term, "50", verify=False)
    with pytest.raises(PermissionDenied):
        services.measurement_verify(measurement=item, actor=signed.officer)
    item.refresh_from_db()
    assert item.verified_by_id is None
    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.filter(pk=item.pk).update(
            verified_by=signed.officer, verified_at=item.recorded_at
        )


def test_a_verified_figure_is_not_verified_twice(signed):
    item = measured(signed, tax_term(signed), "50")
    with pytest.raises(TransitionNotAllowed):
        services.measurement_verify(measurement=item, actor=signed.bureau.chief)


def test_a_waiver_is_the_heads_decision_with_a_reason(signed):
    term = tax_term(signed)
    with pytest.raises(PermissionDenied):
        services.term_waive(term=term, actor=signed.officer, reason="疫情影响")
    with pytest.raises(RuleViolation):
        services.term_waive(term=term, actor=signed.bureau.shanghai_head, reason="  ")
    assert status_of(term) == TermStatus.MISSED
    services.term_waive(
        term=term, actor=signed.bureau.shanghai_head, reason="疫情影响，经局务会同意"
    )
    assert status_of(term) == TermStatus.WAIVED
    term.refresh_from_db()
    assert term.waived_by == signed.bureau.shanghai_head


# --- the bureau's promises --------------------------------------------------------------------


def land_promise(signed, *, due) -> Promise:
    return services.promise_add(
        agreement=signed.agreement,
        actor=signed.officer,
        kind="land_delivery",
        description="交付净地120亩",
        owner_unit=signed.bureau.department,
        due_on=due,
    )


def test_a_bureau_promise_is_overdue_after_its_date_and_kept_late_when_delivered(signed):
    promise = land_promise(signed, due=today() - 10 * DAY)
    assert promise_status_of(promise) == PromiseStatus.OVERDUE
    services.promise_deliver(promise=promise, actor=signed.officer, delivered_on=today())
    assert promise_status_of(promise) == PromiseStatus.KEPT_LATE
    on_time = land_promise(signed, due=today() + 10 * DAY)
    assert promise_status_of(on_time) == PromiseStatus.PENDING
    services.promise_deliver(promise=on_time, actor=signed.officer, delivered_on=today())
    assert promise_status_of(on_time) == PromiseStatus.KEPT
    with pytest.raises(TransitionNotAllowed):
        services.promise_deliver(promise=on_time, actor=signed.officer, delivered_on=today())


def tranche(signed, *conditions, amount="100", due=None) -> Promise:
    return services.promise_add(
        agreement=signed.agreement,
        actor=signed.officer,
        kind="incentive",
        description="设备投资奖补第一期",
        owner_unit=signed.bureau.shanghai,
        due_on=due or today() + 30 * DAY,
        amount=amount,
        conditions=conditions,
    )


def test_a_tranche_is_payable_only_when_its_conditions_are_met(signed):
    term = tax_term(signed, due=today() + 60 * DAY)
    promise = tranche(signed, term)
    assert promise_status_of(promise) == PromiseStatus.NOT_PAYABLE
    with pytest.raises(TransitionNotAllowed):
        services.incentive_request(
            promise=promise, actor=signed.officer, action="pay", reason="申请兑现"
        )
    assert not IncentiveRequest.objects.exists()
    measured(signed, term, "55", on=today())
    assert promise_status_of(promise) == PromiseStatus.PENDING
    with pytest.raises(TransitionNotAllowed):
        services.promise_deliver(promise=promise, actor=signed.officer, delivered_on=today())


def test_paying_needs_a_second_persons_approval(signed):
    term = tax_term(signed)
    measured(signed, term, "50")
    promise = tranche(signed, term)
    request = services.incentive_request(
        promise=promise, actor=signed.officer, action="pay", reason="条件已满足"
    )
    assert request.amount == Decimal("100")
    promise.refresh_from_db()
    assert promise.payment == Payment.UNPAID
    # The 主办 who asked cannot approve, nor can a teammate or an outsider.
    for who in (signed.officer, signed.bureau.teammate, signed.bureau.outsider):
        with pytest.raises(PermissionDenied):
            services.incentive_decide(request=request, actor=who, approve=True)
    promise.refresh_from_db()
    assert promise.payment == Payment.UNPAID
    services.incentive_decide(request=request, actor=signed.bureau.shanghai_head, approve=True)
    promise.refresh_from_db()
    assert (promise.payment, promise.paid_amount, promise.delivered_on) == (
        Payment.PAID,
        Decimal("100"),
        today(),
    )
    assert promise_status_of(promise) == PromiseStatus.KEPT
    with pytest.raises(TransitionNotAllowed):
        services.incentive_decide(request=request, actor=signed.bureau.chief, approve=True)


def test_a_head_who_asks_needs_someone_else_to_approve(signed):
    """Four eyes in the database too: the requester never appears as the decider."""
    promise = tranche(signed, amount="80")
    head = signed.bureau.shanghai_head
    request = services.incentive_request(
        promise=promise, actor=head, action="withhold", reason="企业欠税"
    )
    with pytest.raises(PermissionDenied):
        services.incentive_decide(request=request, actor=head, approve=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        IncentiveRequest.objects.filter(pk=request.pk).update(decided_by=head)
    services.incentive_decide(request=request, actor=signed.bureau.chief, approve=True)
    promise.refresh_from_db()
    assert promise.payment == Payment.WITHHELD
    assert promise_status_of(promise) == PromiseStatus.WITHHELD


def test_a_rejection_needs_a_reason_and_changes_nothing(signed):
    promise = tranche(signed)
    request = services.incentive_request(
        promise=promise, actor=signed.officer, action="withhold", reason="企业欠税"
    )
    with pytest.raises(RuleViolation):
        services.incentive_decide(request=request, actor=signed.bureau.shanghai_head, approve=False)
    services.incentive_decide(
        request=request, actor=signed.bureau.shanghai_head, approve=False, note="欠税已补缴"
    )
    promise.refresh_from_db()
    request.refresh_from_db()
    assert (promise.payment, request.status) == (Payment.UNPAID, RequestStatus.REJECTED)


def test_a_second_request_while_one_is_open_is_refused(signed):
    promise = tranche(signed)
    services.incentive_request(
        promise=promise, actor=signed.officer, action="withhold", reason="一"
    )
    with pytest.raises(Conflict):
        services.incentive_request(
            promise=promise, actor=signed.bureau.shanghai_head, action="withhold", reason="二"
        )
    assert IncentiveRequest.objects.count() == 1


def paid_tranche(signed, term, *, amount="100") -> Promise:
    promise = tranche(signed, term, amount=amount)
    request = services.incentive_request(
        promise=promise, actor=signed.officer, action="pay", reason="兑现"
    )
    services.incentive_decide(request=request, actor=signed.bureau.shanghai_head, approve=True)
    promise.refresh_from_db()
    return promise


def test_clawback_pro_rata_takes_the_shortfall_share_of_what_was_paid(signed):
    term = tax_term(signed, due=today() + 20 * DAY)
    measured(signed, term, "50", on=today())  # met early: the tranche is paid
    promise = paid_tranche(signed, term, amount="100")
    # Then a correction: the tax office's figure for the due date is lower.
    with time_machine.travel(today() + 40 * DAY):
        measured(signed, term, "30", on=term.due_on)
        assert status_of(term) == TermStatus.PARTLY_MET
        promise = Promise.objects.select_related("agreement").get(pk=promise.pk)
        assert clawback_for(promise).amount == Decimal("40.00")  # 100 × (1 − 30/50)
        request = services.incentive_request(
            promise=promise, actor=signed.officer, action="clawback", reason="年税收未达承诺"
        )
        assert request.amount == Decimal("40.00")
        assert "30.00/50.00" in request.basis and "0.6000" in request.basis
        services.incentive_decide(request=request, actor=signed.bureau.chief, approve=True)
    promise.refresh_from_db()
    assert (promise.payment, promise.clawed_back_amount) == (Payment.CLAWED_BACK, Decimal("40.00"))


def test_clawback_is_refused_while_every_commitment_holds_and_when_the_rule_says_none(signed):
    term = tax_term(signed)
    measured(signed, term, "50")
    promise = paid_tranche(signed, term)
    with pytest.raises(TransitionNotAllowed):
        services.incentive_request(
            promise=promise, actor=signed.officer, action="clawback", reason="?"
        )
    signed.agreement.clawback_rule = "none"
    signed.agreement.save(update_fields=["clawback_rule"])
    broken = tax_term(signed)
    measured(signed, broken, "10")
    other = paid_before_the_breach(signed, broken)
    with pytest.raises(TransitionNotAllowed):
        services.incentive_request(
            promise=other, actor=signed.officer, action="clawback", reason="?"
        )


def paid_before_the_breach(signed, term) -> Promise:
    """A tranche on ``term`` already paid, as the rows stand when the payment was approved
    before the condition was judged (the approval flow itself is tested above)."""
    promise = tranche(signed, term)
    Promise.objects.filter(pk=promise.pk).update(
        payment=Payment.PAID, paid_amount=promise.amount, delivered_on=today()
    )
    promise.refresh_from_db()
    return promise


def test_full_clawback_takes_everything_paid(signed):
    signed.agreement.clawback_rule = "full"
    signed.agreement.save(update_fields=["clawback_rule"])
    term = tax_term(signed)
    measured(signed, term, "45")
    promise = paid_before_the_breach(signed, term)
    promise = Promise.objects.select_related("agreement").get(pk=promise.pk)
    assert clawback_for(promise).amount == Decimal("100.00")


# --- who sees and who may --------------------------------------------------------------------


def test_the_outsider_sees_no_agreement_and_changes_nothing(signed):
    outsider = signed.bureau.outsider
    assert not agreements_visible_to(outsider).exists()
    assert agreements_visible_to(signed.bureau.chief).count() == 1
    assert agreements_visible_to(signed.bureau.teammate).count() == 1
    term = tax_term(signed)
    before = AgreementLog.objects.count()
    with pytest.raises(PermissionDenied):
        services.term_add(
            agreement=signed.agreement, actor=outsider, metric="jobs", target="10", due_on=today()
        )
    with pytest.raises(PermissionDenied):
        services.measurement_record(
            term=term, actor=outsider, measured_on=today(), value="1", source="x"
        )
    with pytest.raises(PermissionDenied):
        services.term_waive(term=term, actor=outsider, reason="x")
    with pytest.raises(PermissionDenied):
        services.agreement_talk(agreement=signed.agreement, actor=outsider, note="x", decision="y")
    assert AgreementLog.objects.count() == before
    assert Term.objects.count() == 1 and not Measurement.objects.exists()


def test_a_teammate_sees_but_does_not_keep_the_agreement(signed):
    with pytest.raises(PermissionDenied):
        services.term_add(
            agreement=signed.agreement,
            actor=signed.bureau.teammate,
            metric="jobs",
            target="10",
            due_on=today(),
        )


def test_every_step_is_logged_with_its_actor(signed):
    term = tax_term(signed)
    measured(signed, term, "50")
    services.agreement_talk(
        agreement=signed.agreement, actor=signed.officer, note="约谈企业负责人", decision="限期整改"
    )
    log = list(signed.agreement.log.order_by("id").values_list("what", "actor__username"))
    assert log == [
        ("created", "sh_officer"),
        ("term_added", "sh_officer"),
        ("measured", "sh_officer"),
        ("verified", "sh_head"),
        ("talk", "sh_officer"),
    ]


def test_a_breach_of_another_commitment_opens_the_clawback_of_a_tranche_paid_up_front(signed):
    """追回条款: the tranche was paid on the start; the tax commitment, missed, opens the clawback."""
    start = services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric="start_by",
        target=None,
        due_on=today() - 10 * DAY,
    )
    project_services.project_advance(
        project=signed.project,
        actor=signed.officer,
        to_stage="groundbreaking",
        actual_date=today() - 20 * DAY,
        evidence=stage_evidence("groundbreaking"),
    )
    promise = paid_tranche(signed, start, amount="200")
    tax = tax_term(signed, target="80", due=today() - 1 * DAY)
    measured(signed, tax, "20")
    promise = Promise.objects.select_related("agreement").get(pk=promise.pk)
    assert promise_status_of(promise) == PromiseStatus.KEPT
    assert promises_with_status(Promise.objects.filter(pk=promise.pk)).get().clawback_due
    assert clawback_for(promise).amount == Decimal("150.00")  # 200 × (1 − 20/80)


def test_a_late_start_alone_gives_nothing_to_claw_back_pro_rata_but_everything_in_full(signed):
    tax = tax_term(signed, due=today() + 30 * DAY)
    measured(signed, tax, "50", on=today())
    promise = paid_tranche(signed, tax, amount="100")
    services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric="start_by",
        target=None,
        due_on=today() - 10 * DAY,
    )
    promise = Promise.objects.select_related("agreement").get(pk=promise.pk)
    assert clawback_for(promise).amount == Decimal("0.00")
    with pytest.raises(TransitionNotAllowed):
        services.incentive_request(
            promise=promise, actor=signed.officer, action="clawback", reason="未按期开工"
        )
    signed.agreement.clawback_rule = "full"
    signed.agreement.save(update_fields=["clawback_rule"])
    promise = Promise.objects.select_related("agreement").get(pk=promise.pk)
    assert clawback_for(promise).amount == Decimal("100.00")
