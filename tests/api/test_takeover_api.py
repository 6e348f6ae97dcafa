"""Issue #13, finding 1, over the REST API: an integrator acting for an officer of another
unit, knowing only the company's name, cannot take over the lead that names it.

Step by step as an integrator would try it — register the investor, log a visit on it, join
the lead, drop it, sign it — each refused with nothing written (leads, visits, assignments,
projects counted after each step). Asking to join as 协办 by the name the duplicate check
found is the one thing accepted, and it only files a request the holding unit's head decides.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from leads.choices import AssistRequestStatus, LeadStatus
from leads.models import Lead, LeadAssistRequest, Visit
from officers.models import Assignment
from projects.models import Project
from promo.core.services import today
from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db

NAME = "宁德样例新能源科技有限公司"


@pytest.fixture
def held(bureau):
    investor = make_investor(bureau.outsider, name=NAME)
    return make_lead(bureau.outsider, investor=investor, status=LeadStatus.NEGOTIATING)


def rows():
    return (
        Lead.objects.count(),
        Visit.objects.count(),
        Assignment.objects.count(),
        Project.objects.count(),
    )


def test_the_takeover_sequence_over_the_api_files_only_a_request(bureau, client_for, held):
    api = client_for(bureau.shanghai_officer)
    before = rows()

    # 1. Registering the name: the duplicate is named, with its open lead, nothing to act on.
    answer = api.post("/api/v1/investors/", {"name": NAME, "industry": "new_energy"}, format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "duplicate_suspected"
    (candidate,) = answer.json()["candidates"]
    since = timezone.localdate(held.created_at).isoformat()
    assert candidate == {
        "id": None,
        "name": NAME,
        "unit": "深圳办事处",
        "since": timezone.localdate(held.investor.created_at).isoformat(),
        "selectable": False,
        "open_leads": [{"id": held.pk, "unit": "深圳办事处", "since": since}],
    }
    again = {"name": NAME, "industry": "new_energy", "confirm_distinct": True}
    assert api.post("/api/v1/investors/", again, format="json").status_code == 409
    assert rows() == before

    # 2. A visit on it, or a lead of one's own on it: refused.
    visit = {
        "kind": "visit",
        "visited_on": today().isoformat(),
        "investor": held.investor_id,
        "summary": "洽谈",
    }
    assert api.post("/api/v1/visits/", visit, format="json").status_code == 400
    assert rows() == before

    # 3. Joining as 协办 directly: the lead is not there for the caller.
    me = {"officer": bureau.shanghai_officer.pk, "role": "assisting"}
    path = f"/api/v1/leads/{held.pk}/"
    assert api.post(f"{path}assignments/", me, format="json").status_code == 404
    assert rows() == before

    # 4. Asking to join: without the name, or with another one, it is not there either…
    for body in ({}, {"name": "完全无关的贸易有限公司"}):
        answer = api.post(f"{path}assist-request/", body, format="json")
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert not LeadAssistRequest.objects.exists()
    # …with the name the duplicate check found, a request, and nothing more.
    answer = api.post(f"{path}assist-request/", {"name": NAME}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["lead"] == held.pk and answer.json()["status"] == "open"
    request = LeadAssistRequest.objects.get()
    assert (request.requester, request.notified, request.status) == (
        bureau.shanghai_officer,
        bureau.outsider,
        AssistRequestStatus.OPEN,
    )
    twice = api.post(f"{path}assist-request/", {"name": NAME}, format="json")
    assert twice.json()["id"] == request.pk and LeadAssistRequest.objects.count() == 1
    assert rows() == before

    # 5. Reading, dropping or signing the lead: still not there.
    assert api.get(path).status_code == 404
    drop = {"to_status": "dropped", "reason": "不跟了"}
    assert api.post(f"{path}transition/", drop, format="json").status_code == 404
    sign = {"contract_date": today().isoformat(), "total_investment": "990000"}
    assert api.post(f"{path}sign/", sign, format="json").status_code == 404
    assert rows() == before
    held.refresh_from_db()
    assert held.status == LeadStatus.NEGOTIATING


def test_an_assist_request_on_a_closed_lead_is_refused_with_a_reason(bureau, client_for):
    investor = make_investor(bureau.outsider, name=NAME)
    lead = make_lead(bureau.outsider, investor=investor, status=LeadStatus.DROPPED)
    answer = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/assist-request/", {"name": NAME}, format="json"
    )
    assert answer.status_code == 409 and answer.json()["code"] == "transition_not_allowed"
    assert not LeadAssistRequest.objects.exists()
