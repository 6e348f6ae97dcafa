"""Investors, visits, units, officers and targets over the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leads.models import Investor, Visit
from officers import services as officer_services
from promo.core.services import today
from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_register_investor_and_duplicate_is_409_with_candidates(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    body = {"name": "苏州精密机械有限公司", "industry": "equipment"}
    first = client.post("/api/v1/investors/", body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["unit"]["id"] == bureau.shanghai.pk

    again = client_for(bureau.outsider).post(
        "/api/v1/investors/",
        {"name": "苏州精密机械(有限公司)", "industry": "equipment"},
        format="json",
    )
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_suspected"
    # Shanghai's investor is named with its holder, without an id Shenzhen could act on.
    (candidate,) = again.json()["candidates"]
    assert (candidate["unit"], candidate["id"], candidate["selectable"]) == (
        "上海办事处",
        None,
        False,
    )
    assert Investor.objects.count() == 1


def test_investor_patch_goes_through_the_service(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.teammate).patch(
        f"/api/v1/investors/{investor.pk}/", {"city": "苏州", "is_listed": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    investor.refresh_from_db()
    assert (investor.city, investor.is_listed) == ("苏州", True)


def test_investor_patch_of_unit_is_refused(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).patch(
        f"/api/v1/investors/{investor.pk}/", {"unit": bureau.shenzhen.pk}, format="json"
    )
    assert response.status_code == 400
    investor.refresh_from_db()
    assert investor.unit == bureau.shanghai


def test_outsider_cannot_patch_shanghai_investor(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.outsider).patch(
        f"/api/v1/investors/{investor.pk}/", {"city": "深圳"}, format="json"
    )
    assert response.status_code == 404
    investor.refresh_from_db()
    assert investor.city == ""


def test_investor_credit_code_with_bad_check_digit_is_400(bureau, client_for):
    response = client_for(bureau.shanghai_officer).post(
        "/api/v1/investors/",
        {"name": "某公司", "industry": "equipment", "credit_code": "91310000MA1FL0000X"},
        format="json",
    )
    assert response.status_code == 400
    assert "credit_code" in response.json()["fields"]
    assert not Investor.objects.exists()


def test_log_visit_updates_lead_activity(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    visited_on = today() - timedelta(days=2)
    response = client_for(bureau.shanghai_officer).post(
        "/api/v1/visits/",
        {
            "kind": "inspection",
            "visited_on": visited_on.isoformat(),
            "investor": lead.investor_id,
            "lead": lead.pk,
            "summary": "客商实地考察园区",
            "officers": [bureau.teammate.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {o["id"] for o in body["officers"]} == {bureau.shanghai_officer.pk, bureau.teammate.pk}
    lead.refresh_from_db()
    assert lead.first_inspection_on == visited_on
    assert lead.last_activity_on == visited_on


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"visited_on": "2999-01-01"}, "visited_on"),
        ({"summary": ""}, "summary"),
        ({"kind": "party"}, "kind"),
        (
            {"next_step_due": (today() - timedelta(days=30)).isoformat(), "next_step": "回访"},
            "next_step_due",
        ),
        ({"officers": [987654321]}, "officers"),
        ({"officers": "all"}, "officers"),
    ],
)
def test_bad_visit_is_400_and_nothing_written(bureau, client_for, payload, field):
    investor = make_investor(bureau.shanghai_officer)
    body = {
        "kind": "visit",
        "visited_on": (today() - timedelta(days=1)).isoformat(),
        "investor": investor.pk,
        "summary": "拜访",
        **payload,
    }
    response = client_for(bureau.shanghai_officer).post("/api/v1/visits/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not Visit.objects.exists()


def test_units_and_officers_are_scoped(bureau, client_for):
    outsider = client_for(bureau.outsider)
    assert ids(outsider.get("/api/v1/units/")) == {bureau.shenzhen.pk}
    assert ids(outsider.get("/api/v1/officers/")) == {bureau.outsider.pk}
    assert outsider.get(f"/api/v1/officers/{bureau.shanghai_officer.pk}/").status_code == 404
    chief_units = ids(client_for(bureau.chief).get("/api/v1/units/"))
    assert {bureau.shanghai.pk, bureau.shenzhen.pk, bureau.shanghai_team.pk} <= chief_units


def test_officers_never_expose_credentials(bureau, client_for):
    body = client_for(bureau.chief).get(f"/api/v1/officers/{bureau.teammate.pk}/").json()
    assert "password" not in body
    assert body["unit"]["id"] == bureau.shanghai.pk


def test_targets_are_read_inside_scope(bureau, client_for):
    target = officer_services.target_set(
        actor=bureau.chief, year=today().year, metric="signed_count", value=12, unit=bureau.shanghai
    )
    assert ids(client_for(bureau.teammate).get("/api/v1/targets/")) == {target.pk}
    assert ids(client_for(bureau.outsider).get("/api/v1/targets/")) == set()
    response = client_for(bureau.teammate).post("/api/v1/targets/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_investor_detail_nests_its_current_contacts(bureau, client_for):
    from leads import services as lead_services

    me = bureau.shanghai_officer
    investor = make_investor(me)
    kept = lead_services.contact_add(
        actor=me, investor=investor, name="李经理", phone="13800000000", is_primary=True
    )
    gone = lead_services.contact_add(actor=me, investor=investor, name="离职者")
    client = client_for(me)
    before = client.get(f"/api/v1/investors/{investor.pk}/")
    lead_services.contact_remove(actor=me, contact=gone)
    response = client.get(f"/api/v1/investors/{investor.pk}/")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["contacts"]] == [kept.pk]
    assert response.json()["contacts"][0]["is_primary"] is True
    assert response["ETag"] != before["ETag"]  # a contact change moves the investor's version
    listed = client.get("/api/v1/investors/").json()["results"]
    assert all("contacts" not in row for row in listed)
    assert client_for(bureau.outsider).get(f"/api/v1/investors/{investor.pk}/").status_code == 404
