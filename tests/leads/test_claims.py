"""防撞单: one investor, one active lead per bureau — join it, or let the two unit heads settle."""

from __future__ import annotations

import pytest
from django.utils import timezone

from leads.choices import AssistRequestStatus, ClaimOutcome, ClaimStatus, LeadStatus
from leads.models import Lead, LeadAssistRequest, LeadClaim
from leads.selectors import claims_visible_to, leads_visible_to
from leads.services import (
    lead_assist_decide,
    lead_assist_request,
    lead_claim_decide,
    lead_claim_file,
    lead_claim_withdraw,
    lead_create,
)
from officers.choices import AssignmentRole, Role
from promo.core.errors import HeldElsewhere, PermissionDenied, TransitionNotAllowed
from tests.factories import fresh, make_investor, make_lead, make_officer, met_elsewhere


@pytest.fixture
def held(bureau):
    """Shenzhen holds an active lead; Shanghai has met the same investor."""
    investor = make_investor(bureau.outsider, name="宁德样例新能源有限公司")
    lead = make_lead(bureau.outsider, investor=investor, status=LeadStatus.VALID)
    met_elsewhere(bureau.shanghai_officer, investor)
    return lead


@pytest.fixture
def shenzhen_head(bureau):
    return make_officer(bureau.shenzhen, role=Role.UNIT_HEAD, username="sz_head")


def new_lead_for(officer, investor):
    return lead_create(
        actor=officer,
        investor=investor,
        name="上海登记的同一客商项目",
        industry="new_energy",
        source_channel="stationed",
    )


def test_a_second_lead_on_an_investor_another_unit_holds_is_refused_with_who_and_since(
    bureau, held
):
    with pytest.raises(HeldElsewhere) as err:
        new_lead_for(bureau.shanghai_officer, held.investor)
    holder = err.value.extra["holders"][0]
    assert (holder["lead"], holder["unit"], holder["registered_by"]) == (
        held.pk,
        "深圳办事处",
        bureau.outsider.display_name,
    )
    assert holder["since"] == timezone.localdate(held.created_at).isoformat()
    assert err.value.status == 409
    assert Lead.objects.filter(investor=held.investor).count() == 1


def test_a_closed_lead_does_not_block_a_new_one(bureau, held):
    from leads.services import lead_drop

    lead_drop(lead=held, actor=bureau.outsider, reason="对方暂缓投资")
    lead = new_lead_for(bureau.shanghai_officer, held.investor)
    assert lead.unit == bureau.shanghai


def test_asking_to_assist_grants_nothing_until_the_holding_head_approves(
    bureau, held, shenzhen_head
):
    request = lead_assist_request(lead=held, actor=bureau.shanghai_officer)
    assert request.status == AssistRequestStatus.OPEN
    # The 主办 is named on the request: the notice of who asked to join their lead.
    assert request.notified == bureau.outsider
    assert held not in leads_visible_to(fresh(bureau.shanghai_officer))
    assert held.assignments.count() == 1
    # Asking again does not pile up requests.
    assert lead_assist_request(lead=held, actor=bureau.shanghai_officer) == request
    request = lead_assist_decide(request=request, actor=shenzhen_head, approve=True)
    assert (request.status, request.decided_by) == (AssistRequestStatus.APPROVED, shenzhen_head)
    assert held.assignments.get(officer=bureau.shanghai_officer).role == AssignmentRole.ASSISTING
    assert held in leads_visible_to(fresh(bureau.shanghai_officer))


def test_only_the_holding_head_or_a_chief_decides_an_assist_request_and_nothing_changes(
    bureau, held
):
    request = lead_assist_request(lead=held, actor=bureau.shanghai_officer)
    for actor in (bureau.shanghai_officer, bureau.shanghai_head, bureau.outsider):
        with pytest.raises(PermissionDenied):
            lead_assist_decide(request=request, actor=actor, approve=True)
    request.refresh_from_db()
    assert request.status == AssistRequestStatus.OPEN and request.decided_by is None
    assert held.assignments.count() == 1
    request = lead_assist_decide(request=request, actor=bureau.chief, approve=False)
    assert request.status == AssistRequestStatus.REFUSED
    assert held.assignments.count() == 1


def test_an_officer_who_never_met_the_investor_cannot_join_and_nothing_changes(bureau, held):
    with pytest.raises(PermissionDenied):
        lead_assist_request(lead=held, actor=bureau.sub_unit_officer)
    with pytest.raises(PermissionDenied):
        lead_claim_file(lead=held, actor=bureau.sub_unit_officer, reason="想要")
    assert held.assignments.count() == 1
    assert not LeadClaim.objects.exists() and not LeadAssistRequest.objects.exists()


def test_both_heads_agreeing_on_transfer_moves_the_lead(bureau, held, shenzhen_head):
    claim = lead_claim_file(lead=held, actor=bureau.shanghai_officer, reason="客商总部在上海")
    assert claim in claims_visible_to(bureau.shanghai_head)
    assert claim in claims_visible_to(shenzhen_head)
    claim = lead_claim_decide(claim=claim, actor=shenzhen_head, outcome=ClaimOutcome.TRANSFER)
    assert claim.status == ClaimStatus.OPEN
    claim = lead_claim_decide(
        claim=claim, actor=bureau.shanghai_head, outcome=ClaimOutcome.TRANSFER, note="双方同意"
    )
    assert claim.status == ClaimStatus.RESOLVED
    assert claim.outcome == ClaimOutcome.TRANSFER
    held.refresh_from_db()
    assert held.unit == bureau.shanghai
    roles = dict(held.assignments.values_list("officer__username", "role"))
    assert roles == {"sh_officer": AssignmentRole.LEAD, "sz_officer": AssignmentRole.ASSISTING}


def test_heads_disagreeing_leave_it_open_until_a_chief_decides(bureau, held, shenzhen_head):
    claim = lead_claim_file(lead=held, actor=bureau.shanghai_officer, reason="客商总部在上海")
    lead_claim_decide(claim=claim, actor=shenzhen_head, outcome=ClaimOutcome.REFUSE)
    claim = lead_claim_decide(
        claim=claim, actor=bureau.shanghai_head, outcome=ClaimOutcome.TRANSFER
    )
    assert claim.status == ClaimStatus.OPEN
    claim = lead_claim_decide(claim=claim, actor=bureau.chief, outcome=ClaimOutcome.ASSIST)
    assert claim.outcome == ClaimOutcome.ASSIST
    held.refresh_from_db()
    assert held.unit == bureau.shenzhen
    assert held.assignments.filter(
        officer=bureau.shanghai_officer, role=AssignmentRole.ASSISTING
    ).exists()
    with pytest.raises(TransitionNotAllowed):
        lead_claim_decide(claim=claim, actor=bureau.chief, outcome=ClaimOutcome.TRANSFER)


def test_a_settled_separate_project_lets_the_claiming_unit_register_its_own(bureau, held):
    claim = lead_claim_file(lead=held, actor=bureau.shanghai_officer, reason="这是二期新项目")
    lead_claim_decide(claim=claim, actor=bureau.chief, outcome=ClaimOutcome.SEPARATE)
    lead = new_lead_for(bureau.shanghai_officer, held.investor)
    assert lead.unit == bureau.shanghai
    assert Lead.objects.filter(investor=held.investor).count() == 2


def test_an_officer_who_is_not_a_head_cannot_decide_and_nothing_changes(bureau, held):
    claim = lead_claim_file(lead=held, actor=bureau.shanghai_officer, reason="客商总部在上海")
    with pytest.raises(PermissionDenied):
        lead_claim_decide(claim=claim, actor=bureau.teammate, outcome=ClaimOutcome.TRANSFER)
    with pytest.raises(PermissionDenied):
        lead_claim_decide(claim=claim, actor=bureau.outsider, outcome=ClaimOutcome.REFUSE)
    claim.refresh_from_db()
    assert (claim.holder_decision, claim.claimant_decision, claim.status) == (
        "",
        "",
        ClaimStatus.OPEN,
    )


def test_one_open_claim_per_unit_and_the_claimant_may_withdraw(bureau, held):
    from promo.core.errors import Conflict

    claim = lead_claim_file(lead=held, actor=bureau.shanghai_officer, reason="客商总部在上海")
    with pytest.raises(Conflict):
        lead_claim_file(lead=held, actor=bureau.teammate, reason="再申请一次")
    with pytest.raises(PermissionDenied):
        lead_claim_withdraw(claim=claim, actor=bureau.teammate)
    claim = lead_claim_withdraw(claim=claim, actor=bureau.shanghai_officer)
    assert claim.status == ClaimStatus.WITHDRAWN
