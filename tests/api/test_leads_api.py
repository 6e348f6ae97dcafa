"""Leads over the API: scoped reads, creation and transitions through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leads.choices import LeadStatus
from leads.models import Lead, LeadStatusEvent
from projects.models import Project
from promo.core.services import today
from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_outsider_sees_none_of_shanghais_leads_and_gets_404_on_detail(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    outsider = client_for(bureau.outsider)

    assert ids(outsider.get("/api/v1/leads/")) == set()
    response = outsider.get(f"/api/v1/leads/{lead.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_teammate_and_chief_see_the_lead_sub_unit_officer_does_not(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    assert ids(client_for(bureau.teammate).get("/api/v1/leads/")) == {lead.pk}
    assert ids(client_for(bureau.chief).get("/api/v1/leads/")) == {lead.pk}
    # The Pudong team sees its own sub-tree, not its parent office's leads.
    assert ids(client_for(bureau.sub_unit_officer).get("/api/v1/leads/")) == set()


def test_lead_detail_shows_status_allowed_transitions_and_assignments(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    body = client_for(bureau.shanghai_officer).get(f"/api/v1/leads/{lead.pk}/").json()
    assert body["status"] == "information"
    assert body["allowed_transitions"] == ["dropped", "rejected", "valid"]
    assert body["assignments"][0]["officer"]["id"] == bureau.shanghai_officer.pk
    assert body["investor"]["id"] == lead.investor_id
    assert body["project"] is None


def test_create_lead_goes_through_the_service_and_writes_the_first_event(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        "/api/v1/leads/",
        {
            "investor": investor.pk,
            "name": "新能源电池项目",
            "industry": "new_energy",
            "source_channel": "stationed",
            "estimated_amount": "25000.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.status == LeadStatus.INFORMATION
    assert lead.unit == bureau.shanghai
    assert list(lead.status_events.values_list("to_status", flat=True)) == ["information"]
    assert lead.assignments.get().officer == bureau.shanghai_officer


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"estimated_amount": "-5"}, "estimated_amount"),
        ({"estimated_amount": "abc"}, "estimated_amount"),
        ({"estimated_amount": "1e20"}, "estimated_amount"),
        ({"name": "项" * 5000}, "name"),
        ({"description": "x" * 30000}, "description"),
        ({"industry": "spaceships"}, "industry"),
        ({"first_contact_on": "2999-01-01"}, "first_contact_on"),
        ({"first_contact_on": "2024-02-30"}, "first_contact_on"),
        ({"investor": 99999999}, "investor"),
        ({"investor": "one"}, "investor"),
        ({"status": "signed"}, "status"),
        ({"source_channel": "intermediary"}, "intermediary"),
    ],
)
def test_bad_lead_input_is_a_400_naming_the_field_and_nothing_is_written(
    bureau, client_for, payload, field
):
    investor = make_investor(bureau.shanghai_officer)
    before = (Lead.objects.count(), LeadStatusEvent.objects.count())
    body = {
        "investor": investor.pk,
        "name": "项目",
        "industry": "electronics",
        "source_channel": "stationed",
        **payload,
    }
    response = client_for(bureau.shanghai_officer).post("/api/v1/leads/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert response.json()["code"] in ("invalid", "rule_violation")
    assert (Lead.objects.count(), LeadStatusEvent.objects.count()) == before


def test_investor_outside_scope_cannot_be_used_for_a_lead(bureau, client_for):
    shenzhen_investor = make_investor(bureau.outsider)
    response = client_for(bureau.shanghai_officer).post(
        "/api/v1/leads/",
        {
            "investor": shenzhen_investor.pk,
            "name": "x",
            "industry": "electronics",
            "source_channel": "stationed",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "investor" in response.json()["fields"]
    assert not Lead.objects.exists()


def test_malformed_json_is_a_400_not_a_500(bureau, client_for):
    response = client_for(bureau.shanghai_officer).post(
        "/api/v1/leads/", data='{"name": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_a_json_list_instead_of_an_object_is_a_400(bureau, client_for):
    response = client_for(bureau.shanghai_officer).post("/api/v1/leads/", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_transition_qualifies_the_lead_and_writes_one_event(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.teammate).post(
        f"/api/v1/leads/{lead.pk}/transition/",
        {"to_status": "valid", "note": "已核实"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "valid"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VALID
    assert lead.qualified_on == today()
    event = lead.status_events.last()
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        bureau.teammate,
        "information",
        "valid",
        "已核实",
    )


def test_refused_transition_is_409_and_nothing_changes(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    events = LeadStatusEvent.objects.count()
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/transition/", {"to_status": "negotiating"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert body["status"] == "information"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION
    assert LeadStatusEvent.objects.count() == events


def test_drop_without_reason_is_400_on_reason_and_nothing_changes(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/transition/", {"to_status": "dropped"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "rule_violation"
    assert "reason" in response.json()["fields"]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION


def test_transition_to_signed_is_refused_signing_has_its_own_action(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/transition/", {"to_status": "signed"}, format="json"
    )
    assert response.status_code == 400
    assert "to_status" in response.json()["fields"]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEGOTIATING


def test_outsider_transition_is_404_and_nothing_changes(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.outsider).post(
        f"/api/v1/leads/{lead.pk}/transition/", {"to_status": "valid"}, format="json"
    )
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION
    assert lead.status_events.count() == 1


def test_submitter_may_read_own_lead_but_not_move_it(bureau, client_for):
    investor = make_investor(bureau.submitter)
    lead = make_lead(bureau.submitter, investor=investor, unit=bureau.department)
    client = client_for(bureau.submitter)
    assert ids(client.get("/api/v1/leads/")) == {lead.pk}
    response = client.post(
        f"/api/v1/leads/{lead.pk}/transition/", {"to_status": "valid"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION


def test_unknown_field_is_refused(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/transition/",
        {"to_status": "valid", "qualified_on": "2020-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "qualified_on" in response.json()["fields"]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION


def test_sign_creates_the_project_and_marks_the_lead_signed(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    contract_date = today() - timedelta(days=3)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/sign/",
        {"contract_date": contract_date.isoformat(), "total_investment": "15000"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["lead"] == lead.pk
    assert body["stage"] == "signed"
    assert body["size_class"] == "100m"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SIGNED
    assert lead.signed_on == contract_date
    assert Project.objects.get().pk == body["id"]


def test_signing_an_information_lead_is_409_and_no_project_is_born(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/sign/",
        {"contract_date": today().isoformat(), "total_investment": "15000"},
        format="json",
    )
    assert response.status_code == 409
    assert not Project.objects.exists()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION


def test_sign_with_zero_investment_is_400_and_nothing_written(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/sign/",
        {"contract_date": today().isoformat(), "total_investment": "0"},
        format="json",
    )
    assert response.status_code == 400
    assert "total_investment" in response.json()["fields"]
    assert not Project.objects.exists()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEGOTIATING


def test_anonymous_caller_is_refused(db, client):
    response = client.get("/api/v1/leads/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "permission_denied")


def test_field_messages_follow_accept_language(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    english = client.post("/api/v1/leads/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["fields"]["investor"] == ["This field is required."]
    chinese = client.post("/api/v1/leads/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json()["fields"]["investor"] == ["该字段是必填项。"]


def test_unknown_api_urls_answer_json_404_for_every_method(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    for response in (
        client.get("/api/v1/leads/0.5/"),
        client.post("/api/v1/leads/0.5/transition/", {}, format="json"),
        client.get("/api/v1/nothing-here/"),
        client.get("/api/v1/projects/a%0Ab/progress/"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_options_is_not_offered(bureau, client_for):
    response = client_for(bureau.chief).options("/api/v1/investors/by-external-id/a/b/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_assisting_officer_from_another_unit_then_sees_the_lead(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/leads/{lead.pk}/assignments/",
        {"officer": bureau.outsider.pk, "role": "assisting"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    roles = {(a["officer"]["id"], a["role"]) for a in response.json()["assignments"]}
    assert (bureau.outsider.pk, "assisting") in roles
    assert client_for(bureau.outsider).get(f"/api/v1/leads/{lead.pk}/").status_code == 200


def test_a_second_lead_officer_is_refused_and_nothing_written(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_head).post(
        f"/api/v1/leads/{lead.pk}/assignments/",
        {"officer": bureau.teammate.pk, "role": "lead"},
        format="json",
    )
    assert response.status_code == 400
    assert "officer" in response.json()["fields"]
    assert lead.assignments.count() == 1
