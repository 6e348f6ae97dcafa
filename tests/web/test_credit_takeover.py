"""Issue #13, finding 1: an officer of another unit cannot take over a lead, and its credit,
knowing only the company's name — over the pages and over the API, refused at the first step
with nothing written."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from leads.choices import LeadStatus
from leads.models import Lead, LeadAssistRequest, LeadStatusEvent, Visit
from officers.choices import AssignmentRole, Role
from officers.models import Assignment
from projects.models import Project
from projects.services import project_assignment_add
from promo.core.services import today
from tests.factories import make_investor, make_lead, make_officer

pytestmark = pytest.mark.django_db

NAME = "宁德样例新能源科技有限公司"


@pytest.fixture
def held(bureau):
    """Shenzhen's lead in negotiation; the Shanghai officer has never met its investor."""
    investor = make_investor(bureau.outsider, name=NAME)
    return make_lead(bureau.outsider, investor=investor, status=LeadStatus.NEGOTIATING)


def _written(lead):
    """Everything the takeover would write, counted; and the lead's status."""
    return (
        Visit.objects.count(),
        Assignment.objects.count(),
        LeadAssistRequest.objects.count(),
        Project.objects.count(),
        LeadStatusEvent.objects.count(),
        Lead.objects.get(pk=lead.pk).status,
    )


def _visit_form(**extra):
    return {
        "kind": "visit",
        "visited_on": today().isoformat(),
        "summary": "洽谈合作",
        "new_investor_name": NAME,
        "new_investor_industry": "new_energy",
        **extra,
    }


def test_another_units_investor_found_by_name_is_shown_but_cannot_be_used_for_a_visit(
    bureau, client_for, held
):
    before = _written(held)
    client = client_for(bureau.shanghai_officer)
    html = client.post("/visits/new/", _visit_form()).content.decode()
    # 防撞单: it exists, who holds it and since when — but it is not offered as a choice.
    assert NAME in html and "深圳办事处" in html
    assert timezone.localdate(held.investor.created_at).isoformat() in html
    assert f'name="use_candidate" value="{held.investor_id}"' not in html
    response = client.post("/visits/new/", _visit_form(use_candidate=str(held.investor_id)))
    assert response.status_code == 200
    assert _written(held) == before


def test_the_takeover_sequence_over_the_pages_is_refused_at_each_step_and_writes_nothing(
    bureau, client_for, held
):
    before = _written(held)
    client = client_for(bureau.shanghai_officer)
    client.post("/visits/new/", _visit_form(use_candidate=str(held.investor_id)))
    assert client.post(f"/leads/{held.pk}/assist/").status_code == 404
    assert client.get(f"/leads/{held.pk}/").status_code == 404
    assert client.post(f"/leads/{held.pk}/drop/", {"drop-reason": "不跟了"}).status_code == 404
    sign = {
        "contract_date": today().isoformat(),
        "total_investment": "990000",
        "park_kind": "economic_zone",
    }
    assert client.post(f"/leads/{held.pk}/sign/", sign).status_code == 404
    assert _written(held) == before


def test_the_takeover_sequence_over_the_api_is_refused_and_writes_nothing(bureau, held):
    before = _written(held)
    api = APIClient()
    api.force_login(bureau.shanghai_officer)
    answer = api.post(
        "/api/v1/investors/", {"name": NAME, "industry": "new_energy"}, format="json"
    ).json()
    # The duplicate is named with its holder and date, without an id to act on.
    (candidate,) = answer["candidates"]
    assert (candidate["unit"], candidate["selectable"], candidate["id"]) == (
        "深圳办事处",
        False,
        None,
    )
    visit = {
        "kind": "visit",
        "visited_on": today().isoformat(),
        "investor": held.investor_id,
        "summary": "洽谈",
    }
    assert api.post("/api/v1/visits/", visit, format="json").status_code == 400
    lead = {
        "investor": held.investor_id,
        "name": "抢单",
        "industry": "new_energy",
        "source_channel": "stationed",
    }
    assert api.post("/api/v1/leads/", lead, format="json").status_code == 400
    me = {"officer": bureau.shanghai_officer.pk, "role": "assisting"}
    assert api.post(f"/api/v1/leads/{held.pk}/assignments/", me, format="json").status_code == 404
    drop = {"to_status": "dropped", "reason": "不跟了"}
    assert api.post(f"/api/v1/leads/{held.pk}/transition/", drop, format="json").status_code == 404
    sign = {"contract_date": today().isoformat(), "total_investment": "990000"}
    assert api.post(f"/api/v1/leads/{held.pk}/sign/", sign, format="json").status_code == 404
    assert _written(held) == before


def test_a_visit_service_call_on_another_units_investor_is_refused_and_writes_nothing(bureau, held):
    from leads.services import lead_create, visit_log
    from promo.core.errors import PermissionDenied

    before = _written(held)
    with pytest.raises(PermissionDenied):
        visit_log(
            actor=bureau.shanghai_officer,
            kind="visit",
            visited_on=today(),
            investor=held.investor,
            summary="洽谈",
        )
    with pytest.raises(PermissionDenied):
        lead_create(
            actor=bureau.shanghai_officer,
            investor=held.investor,
            name="抢单",
            industry="new_energy",
            source_channel="stationed",
        )
    assert _written(held) == before


@pytest.fixture
def assisting(bureau, held):
    """The Shanghai officer is on the lead as 协办 (approved, or from older data)."""
    return Assignment.objects.create(
        officer=bureau.shanghai_officer, lead=held, role=AssignmentRole.ASSISTING
    )


def test_an_assisting_officer_cannot_drop_or_sign_the_lead_and_nothing_changes(
    bureau, client_for, held, assisting
):
    before = _written(held)
    client = client_for(bureau.shanghai_officer)
    assert client.get(f"/leads/{held.pk}/").status_code == 200
    assert client.post(f"/leads/{held.pk}/drop/", {"drop-reason": "不跟了"}).status_code == 403
    sign = {
        "contract_date": today().isoformat(),
        "total_investment": "990000",
        "park_kind": "economic_zone",
    }
    assert client.post(f"/leads/{held.pk}/sign/", sign).status_code == 403
    api = APIClient()
    api.force_login(bureau.shanghai_officer)
    answer = api.post(
        f"/api/v1/leads/{held.pk}/sign/",
        {"contract_date": today().isoformat(), "total_investment": "990000"},
        format="json",
    )
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
    assert _written(held) == before


def test_an_assisting_officer_cannot_make_himself_lead_officer_of_the_project(
    bureau, held, assisting
):
    from projects.services import project_sign_lead
    from promo.core.errors import PermissionDenied

    # A lead without a 主办 (its officer left): the head signs, the project has none yet.
    Assignment.objects.filter(lead=held, role=AssignmentRole.LEAD).delete()
    head = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD)
    project = project_sign_lead(
        lead=held, actor=head, contract_date=today(), total_investment=12000
    )
    assert not project.assignments.filter(role=AssignmentRole.LEAD).exists()
    before = _written(held)
    with pytest.raises(PermissionDenied):
        project_assignment_add(
            actor=bureau.shanghai_officer,
            officer=bureau.shanghai_officer,
            role=AssignmentRole.LEAD,
            project=project,
        )
    assert _written(held) == before
    # A second person — the unit head — names the 主办.
    project_assignment_add(
        actor=head, officer=bureau.outsider, role=AssignmentRole.LEAD, project=project
    )


def test_a_head_signing_leaves_the_credit_with_the_leads_lead_officer(bureau, held):
    from projects.services import project_sign_lead

    head = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD)
    project = project_sign_lead(
        lead=held, actor=head, contract_date=today(), total_investment=12000
    )
    assert list(project.assignments.values_list("officer", "role")) == [
        (bureau.outsider.pk, AssignmentRole.LEAD)
    ]


def test_an_assisting_officer_is_not_offered_a_project_stage_change_and_is_refused(
    bureau, client_for
):
    from projects.models import ProjectStageEvent
    from tests.factories import make_project

    project = make_project(bureau.outsider)
    Assignment.objects.create(
        officer=bureau.shanghai_officer, project=project, role=AssignmentRole.ASSISTING
    )
    client = client_for(bureau.shanghai_officer)
    page = client.get(f"/projects/{project.pk}/")
    assert page.status_code == 200 and "/advance/" not in page.content.decode()
    events = ProjectStageEvent.objects.count()
    response = client.post(f"/projects/{project.pk}/advance/", {"actual_date": today()})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.stage == "signed" and ProjectStageEvent.objects.count() == events
    assert (
        "/advance/" in client_for(bureau.outsider).get(f"/projects/{project.pk}/").content.decode()
    )


# --- the way in that remains: a request to join as 协办, from the duplicate check ------------


def _takeover_rows():
    """What a takeover writes, counted: leads, visits, assignments and projects."""
    return (
        Lead.objects.count(),
        Visit.objects.count(),
        Assignment.objects.count(),
        Project.objects.count(),
    )


def test_the_visit_forms_duplicate_check_offers_only_a_request_to_join_the_held_lead(
    bureau, client_for, held
):
    client = client_for(bureau.shanghai_officer)
    html = client.post("/visits/new/", _visit_form()).content.decode()
    # The button submits the form (and the names typed in it) to the request, nothing else.
    assert f'formaction="/leads/{held.pk}/assist/"' in html
    assert f'/leads/{held.pk}/"' not in html and "/sign/" not in html


def test_asking_to_join_by_the_name_found_files_a_request_and_grants_nothing(
    bureau, client_for, held
):
    before = _takeover_rows()
    client = client_for(bureau.shanghai_officer)
    response = client.post(f"/leads/{held.pk}/assist/", _visit_form())
    assert response.status_code == 302 and response["Location"] == "/claims/"
    request = LeadAssistRequest.objects.get(lead=held)
    # For the holding unit's head to decide; the lead's 主办 is told.
    assert (request.requester, request.status, request.notified) == (
        bureau.shanghai_officer,
        "open",
        bureau.outsider,
    )
    assert _takeover_rows() == before
    assert client.get(f"/leads/{held.pk}/").status_code == 404
    assert client.post(f"/leads/{held.pk}/drop/", {"drop-reason": "不跟了"}).status_code == 404
    # Asking again is the same request.
    client.post(f"/leads/{held.pk}/assist/", _visit_form())
    assert LeadAssistRequest.objects.filter(lead=held).count() == 1
    assert _takeover_rows() == before


def test_a_lead_id_with_another_name_or_none_is_refused_as_if_it_did_not_exist(
    bureau, client_for, held
):
    client = client_for(bureau.shanghai_officer)
    other = make_investor(bureau.outsider, name="完全无关的贸易有限公司")
    for names in ({}, {"new_investor_name": "完全无关的贸易有限公司"}, {"new_investor_name": "  "}):
        assert client.post(f"/leads/{held.pk}/assist/", names).status_code == 404
    assert client.post("/leads/999999/assist/", _visit_form()).status_code == 404
    assert not LeadAssistRequest.objects.exists()
    assert other.pk  # the other investor exists: its name finds it, not the held lead's
