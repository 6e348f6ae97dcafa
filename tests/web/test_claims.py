"""防撞单 in the browser pages: join as 协办, file a claim, heads decide, the claimant withdraws."""

from __future__ import annotations

import pytest

from leads.choices import AssistRequestStatus, ClaimOutcome, ClaimStatus, LeadStatus
from leads.models import LeadAssistRequest, LeadClaim
from leads.services import lead_claim_file
from officers.choices import AssignmentRole, Role
from officers.models import Assignment
from promo.core.services import today
from tests.factories import make_investor, make_lead, make_officer, met_elsewhere

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(bureau):
    """Shenzhen holds an active lead; the Shanghai officer has met the same investor."""
    investor = make_investor(bureau.outsider, name="宁德样例新能源有限公司")
    lead = make_lead(bureau.outsider, investor=investor, status=LeadStatus.VALID)
    met_elsewhere(bureau.shanghai_officer, investor)
    return lead


@pytest.fixture
def shenzhen_head(bureau):
    return make_officer(
        bureau.shenzhen, role=Role.UNIT_HEAD, username="sz_head", full_name="孙主任"
    )


@pytest.fixture
def claim(bureau, held):
    return lead_claim_file(lead=held, actor=bureau.shanghai_officer, reason="投资方总部在上海")


def _lead_form(investor):
    return {
        "investor": investor.pk,
        "name": "新能源电池项目",
        "industry": "new_energy",
        "chain_role": "build",
        "source_channel": "stationed",
        "estimated_amount": "30000",
        "estimated_fdi": "0",
        "first_contact_on": today().isoformat(),
    }


def test_held_elsewhere_offers_assist_and_claim_on_each_holder(bureau, client_for, held):
    response = client_for(bureau.shanghai_officer).post(
        "/leads/new/", _lead_form(held.investor) | {"industry": held.industry}
    )
    html = response.content.decode()
    assert f'action="/leads/{held.pk}/assist/"' in html
    assert f'action="/leads/{held.pk}/claim/"' in html and "申请协办" in html


def test_asking_to_assist_files_a_request_the_holding_head_approves_on_the_claims_page(
    bureau, client_for, held, shenzhen_head
):
    client = client_for(bureau.shanghai_officer)
    response = client.post(f"/leads/{held.pk}/assist/")
    assert response.status_code == 302 and response.url == "/claims/"
    request = LeadAssistRequest.objects.get(lead=held, requester=bureau.shanghai_officer)
    assert request.status == AssistRequestStatus.OPEN
    assert not Assignment.objects.filter(lead=held, officer=bureau.shanghai_officer).exists()
    assert client.get(f"/leads/{held.pk}/").status_code == 404
    # The 主办 sees the notice; only the holding head is offered the decision.
    lead_officer_page = client_for(bureau.outsider).get("/claims/").content.decode()
    decide = f'action="/assist-requests/{request.pk}/decide/"'
    assert "协办申请" in lead_officer_page and decide not in lead_officer_page
    request.refresh_from_db()
    assert request.notice_read_at is not None
    head = client_for(shenzhen_head)
    assert decide in head.get("/claims/").content.decode()
    assert head.post(f"/assist-requests/{request.pk}/decide/", {"approve": "1"}).status_code == 302
    assert Assignment.objects.filter(
        lead=held, officer=bureau.shanghai_officer, role=AssignmentRole.ASSISTING
    ).exists()
    assert client.get(f"/leads/{held.pk}/").status_code == 200


def test_an_assisting_officer_is_not_offered_status_changes_or_signing(
    bureau, client_for, held, shenzhen_head
):
    from leads.services import lead_assist_decide, lead_assist_request

    request = lead_assist_request(lead=held, actor=bureau.shanghai_officer)
    lead_assist_decide(request=request, actor=shenzhen_head, approve=True)
    html = client_for(bureau.shanghai_officer).get(f"/leads/{held.pk}/").content.decode()
    assert f"/leads/{held.pk}/drop/" not in html and f"/leads/{held.pk}/sign/" not in html
    assert (
        f"/leads/{held.pk}/drop/"
        in client_for(bureau.outsider).get(f"/leads/{held.pk}/").content.decode()
    )


def test_officer_who_does_not_know_the_investor_cannot_join_and_nothing_changes(bureau, client_for):
    lead = make_lead(bureau.outsider, status=LeadStatus.VALID)
    before = Assignment.objects.count()
    client = client_for(bureau.shanghai_officer)
    assert client.post(f"/leads/{lead.pk}/assist/").status_code == 404
    assert (
        client.post(f"/leads/{lead.pk}/claim/", {f"claim{lead.pk}-reason": "x"}).status_code == 404
    )
    assert Assignment.objects.count() == before and not LeadClaim.objects.exists()


def test_claim_without_reason_comes_back_with_the_error(bureau, client_for, held):
    response = client_for(bureau.shanghai_officer).post(
        f"/leads/{held.pk}/claim/", {f"claim{held.pk}-reason": ""}
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not LeadClaim.objects.exists()


def test_filed_claim_is_listed_with_each_sides_decision(bureau, client_for, held):
    client = client_for(bureau.shanghai_officer)
    response = client.post(f"/leads/{held.pk}/claim/", {f"claim{held.pk}-reason": "总部在上海"})
    assert response.status_code == 302 and response.url == "/claims/"
    claim = LeadClaim.objects.get()
    assert claim.claimant == bureau.shanghai_officer and claim.reason == "总部在上海"
    html = client.get("/claims/").content.decode()
    assert "总部在上海" in html and "尚未表态" in html and "撤回申请" in html
    # An officer may not decide: no decision form for them.
    assert f"/claims/{claim.pk}/decide/" not in html


def test_open_claim_awaits_each_head_on_the_home_page_until_they_decide(
    bureau, client_for, claim, shenzhen_head
):
    sh_head = client_for(bureau.shanghai_head)
    sz_head = client_for(shenzhen_head)
    assert "待我协调的撞单" in sh_head.get("/").content.decode()
    assert "待我协调的撞单" in sz_head.get("/").content.decode()
    assert "待我协调的撞单" not in client_for(bureau.shanghai_officer).get("/").content.decode()
    assert "待我协调的撞单" in client_for(bureau.chief).get("/").content.decode()

    data = {f"c{claim.pk}-outcome": ClaimOutcome.ASSIST, f"c{claim.pk}-note": ""}
    assert sz_head.post(f"/claims/{claim.pk}/decide/", data).status_code == 302
    claim.refresh_from_db()
    assert claim.holder_decision == ClaimOutcome.ASSIST and claim.status == ClaimStatus.OPEN
    assert "待我协调的撞单" not in sz_head.get("/").content.decode()

    assert sh_head.post(f"/claims/{claim.pk}/decide/", data).status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.RESOLVED and claim.outcome == ClaimOutcome.ASSIST
    assert Assignment.objects.filter(lead=claim.lead, officer=bureau.shanghai_officer).exists()


def test_chief_settles_a_claim_alone(bureau, client_for, claim):
    data = {f"c{claim.pk}-outcome": ClaimOutcome.TRANSFER}
    client_for(bureau.chief).post(f"/claims/{claim.pk}/decide/", data)
    claim.refresh_from_db()
    claim.lead.refresh_from_db()
    assert claim.outcome == ClaimOutcome.TRANSFER and claim.lead.unit == bureau.shanghai


def test_officer_who_may_not_decide_is_refused_and_nothing_changes(bureau, client_for, claim):
    data = {f"c{claim.pk}-outcome": ClaimOutcome.TRANSFER}
    # The claimant can see the claim but is no head: 403.
    response = client_for(bureau.shanghai_officer).post(f"/claims/{claim.pk}/decide/", data)
    assert response.status_code == 403
    # An officer of a unit outside the claim does not see it at all: 404.
    stranger = make_officer(bureau.department, role=Role.UNIT_HEAD, username="fgw_head")
    assert client_for(stranger).post(f"/claims/{claim.pk}/decide/", data).status_code == 404
    assert client_for(stranger).post(f"/claims/{claim.pk}/withdraw/").status_code == 404
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.OPEN
    assert claim.holder_decision == "" and claim.claimant_decision == ""


def test_decision_without_an_outcome_changes_nothing(bureau, client_for, claim):
    response = client_for(bureau.chief).post(f"/claims/{claim.pk}/decide/", {})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.OPEN


def test_only_the_claimant_may_withdraw(bureau, client_for, claim):
    assert client_for(bureau.teammate).post(f"/claims/{claim.pk}/withdraw/").status_code == 403
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.OPEN
    client_for(bureau.shanghai_officer).post(f"/claims/{claim.pk}/withdraw/")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN


def test_claims_of_other_units_are_not_listed(bureau, client_for, claim):
    stranger = make_officer(bureau.department, username="fgw_officer")
    html = client_for(stranger).get("/claims/").content.decode()
    assert claim.reason not in html and "暂无撞单协调申请" in html


def test_claim_list_query_count_is_the_same_for_2_and_20_claims(bureau, client_for, shenzhen_head):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(shenzhen_head)

    def add(n):
        for _ in range(n):
            investor = make_investor(bureau.outsider)
            lead = make_lead(bureau.outsider, investor=investor, status=LeadStatus.VALID)
            met_elsewhere(bureau.shanghai_officer, investor)
            lead_claim_file(lead=lead, actor=bureau.shanghai_officer, reason="总部在上海")

    add(2)
    with CaptureQueriesContext(connection) as few:
        client.get("/claims/")
    add(18)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/claims/")
    assert len(response.context["claims"]) == 20
    assert len(many) == len(few)


def test_lead_page_shows_an_open_claim_to_the_holding_unit(bureau, client_for, claim):
    html = client_for(bureau.outsider).get(f"/leads/{claim.lead_id}/").content.decode()
    assert "待协调的撞单" in html and "上海办事处" in html
