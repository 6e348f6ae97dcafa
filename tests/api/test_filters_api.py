"""The FilterSets over the API: sub-tree units, assigned officer, amounts, staleness, dates,
ordering whitelist and ?fields= trimming."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from leads.choices import LeadStatus, VisitKind
from leads.services import assignment_add, visit_log
from promo.core.services import today
from tests.factories import make_investor, make_lead, make_project

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_unit_filter_includes_sub_units(bureau, client_for):
    office = make_lead(bureau.shanghai_officer)
    pudong = make_lead(bureau.sub_unit_officer)
    shenzhen = make_lead(bureau.outsider)
    chief = client_for(bureau.chief)
    assert ids(chief.get("/api/v1/leads/", {"unit": bureau.shanghai.pk})) == {office.pk, pudong.pk}
    assert ids(chief.get("/api/v1/leads/", {"unit": bureau.shanghai_team.pk})) == {pudong.pk}
    assert ids(chief.get("/api/v1/leads/", {"unit": bureau.shenzhen.pk})) == {shenzhen.pk}
    assert ids(chief.get("/api/v1/leads/", {"unit": 99999999})) == set()


def test_unit_filter_never_widens_the_scope(bureau, client_for):
    make_lead(bureau.shanghai_officer)
    outsider = client_for(bureau.outsider)
    assert ids(outsider.get("/api/v1/leads/", {"unit": bureau.shanghai.pk})) == set()


def test_status_amount_and_officer_filters(bureau, client_for):
    small = make_lead(bureau.shanghai_officer, amount=100)
    big = make_lead(bureau.shanghai_officer, amount=50000, status=LeadStatus.VALID)
    teammates = make_lead(bureau.teammate, amount=800)
    assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.shanghai_officer,
        role="assisting",
        lead=teammates,
    )
    client = client_for(bureau.shanghai_head)
    assert ids(client.get("/api/v1/leads/", {"status": "valid"})) == {big.pk}
    assert ids(client.get("/api/v1/leads/?status=valid&status=information")) == {
        small.pk,
        big.pk,
        teammates.pk,
    }
    assert ids(client.get("/api/v1/leads/", {"amount_min": 500, "amount_max": 1000})) == {
        teammates.pk
    }
    assert ids(client.get("/api/v1/leads/", {"officer": bureau.teammate.pk})) == {teammates.pk}
    assert ids(client.get("/api/v1/leads/", {"officer": bureau.shanghai_officer.pk})) == {
        small.pk,
        big.pk,
        teammates.pk,
    }


def test_industry_chain_role_channel_and_investor_region(bureau, client_for):
    hk_investor = make_investor(bureau.shanghai_officer, region="hk")
    hk = make_lead(
        bureau.shanghai_officer,
        investor=hk_investor,
        industry="biomedicine",
        chain_role="fill",
        source_channel="event",
    )
    other = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    for params in (
        {"industry": "biomedicine"},
        {"chain_role": "fill"},
        {"source_channel": "event"},
        {"investor_region": "hk"},
    ):
        assert ids(client.get("/api/v1/leads/", params)) == {hk.pk}, params
    assert ids(client.get("/api/v1/leads/", {"investor_region": "domestic"})) == {other.pk}


def test_stale_days_finds_open_leads_without_follow_up(bureau, client_for):
    with time_machine.travel(today() - timedelta(days=40)):
        stale = make_lead(bureau.shanghai_officer)
        make_lead(bureau.shanghai_officer, status=LeadStatus.DROPPED)
    fresh = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    assert ids(client.get("/api/v1/leads/", {"stale_days": 30})) == {stale.pk}
    # A lead created today has not yet gone a day without follow-up.
    assert fresh.pk not in ids(client.get("/api/v1/leads/", {"stale_days": 0}))


def test_updated_after_returns_only_changed_rows(bureau, client_for):
    with time_machine.travel(today() - timedelta(days=10)):
        old = make_lead(bureau.shanghai_officer)
    new = make_lead(bureau.shanghai_officer)
    since = (today() - timedelta(days=1)).isoformat() + "T00:00:00+08:00"
    client = client_for(bureau.shanghai_officer)
    assert ids(client.get("/api/v1/leads/", {"updated_after": since})) == {new.pk}
    assert old.pk not in ids(client.get("/api/v1/leads/", {"updated_after": since}))


def test_bad_filter_values_are_400_with_the_field(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    for params, field in (
        ({"status": "nonsense"}, "status"),
        ({"amount_min": "lots"}, "amount_min"),
        ({"updated_after": "yesterday"}, "updated_after"),
        ({"stale_days": -3}, "stale_days"),
        ({"unit": "shanghai"}, "unit"),
    ):
        response = client.get("/api/v1/leads/", params)
        assert response.status_code == 400, params
        assert field in response.json()["fields"], params


def test_project_filters_stage_size_and_contract_dates(bureau, client_for):
    small = make_project(bureau.shanghai_officer, amount=500, contract_date=today() - timedelta(60))
    key = make_project(bureau.sub_unit_officer, amount=20000, contract_date=today() - timedelta(5))
    client = client_for(bureau.chief)
    assert ids(client.get("/api/v1/projects/", {"size_class": "100m"})) == {key.pk}
    assert ids(client.get("/api/v1/projects/", {"size_class": "small"})) == {small.pk}
    assert ids(client.get("/api/v1/projects/", {"unit": bureau.shanghai.pk})) == {small.pk, key.pk}
    after = (today() - timedelta(days=10)).isoformat()
    assert ids(client.get("/api/v1/projects/", {"contract_date_after": after})) == {key.pk}
    assert ids(client.get("/api/v1/projects/", {"contract_date_before": after})) == {small.pk}
    assert ids(client.get("/api/v1/projects/", {"stage": "groundbreaking"})) == set()


def test_visit_filters_by_date_kind_lead_and_investor(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)

    def log(kind, days_ago, lead=None):
        return client.post(
            "/api/v1/visits/",
            {
                "kind": kind,
                "visited_on": (today() - timedelta(days=days_ago)).isoformat(),
                "investor": lead.investor_id if lead else make_investor(bureau.teammate).pk,
                "lead": lead.pk if lead else None,
                "summary": "交流",
            },
            format="json",
        ).json()["id"]

    on_lead = log("inspection", 3, lead)
    elsewhere = log("call", 20)
    assert ids(client.get("/api/v1/visits/", {"lead": lead.pk})) == {on_lead}
    assert ids(client.get("/api/v1/visits/", {"investor": lead.investor_id})) == {on_lead}
    assert ids(client.get("/api/v1/visits/", {"kind": "call"})) == {elsewhere}
    after = (today() - timedelta(days=10)).isoformat()
    assert ids(client.get("/api/v1/visits/", {"visited_on_after": after})) == {on_lead}


def test_investor_visit_filters_look_among_the_callers_visible_visits(bureau, client_for):
    inspected = make_lead(bureau.shanghai_officer)
    called = make_lead(bureau.shanghai_officer)
    for lead, kind in ((inspected, VisitKind.INSPECTION), (called, VisitKind.CALL)):
        visit_log(
            actor=bureau.shanghai_officer,
            kind=kind,
            visited_on=today(),
            investor=lead.investor,
            lead=lead,
            summary="交流",
        )
    params = {"visit_kind": VisitKind.INSPECTION}
    head = client_for(bureau.shanghai_head)
    assert ids(head.get("/api/v1/investors/", params)) == {inspected.investor_id}
    assert ids(head.get("/api/v1/investors/")) >= {inspected.investor_id, called.investor_id}
    assert ids(client_for(bureau.outsider).get("/api/v1/investors/", params)) == set()


def test_ordering_is_whitelisted(bureau, client_for):
    cheap = make_lead(bureau.shanghai_officer, amount=10)
    dear = make_lead(bureau.shanghai_officer, amount=90000)
    client = client_for(bureau.shanghai_officer)
    rows = client.get("/api/v1/leads/", {"ordering": "-estimated_amount"}).json()["results"]
    assert [r["id"] for r in rows] == [dear.pk, cheap.pk]
    rows = client.get("/api/v1/leads/", {"ordering": "estimated_amount"}).json()["results"]
    assert [r["id"] for r in rows] == [cheap.pk, dear.pk]
    refused = client.get("/api/v1/leads/", {"ordering": "created_by__password"})
    assert refused.status_code == 400
    assert "ordering" in refused.json()["fields"]


def test_fields_trims_the_response(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    rows = client.get("/api/v1/leads/", {"fields": "id,status"}).json()["results"]
    assert rows == [{"id": lead.pk, "status": "information"}]
    detail = client.get(f"/api/v1/leads/{lead.pk}/", {"fields": "name"}).json()
    assert detail == {"name": lead.name}
    bad = client.get("/api/v1/leads/", {"fields": "id,password"})
    assert bad.status_code == 400
    assert "fields" in bad.json()["fields"]


def test_times_postgres_cannot_take_are_converted_or_refused(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    odd_offset = client.get("/api/v1/leads/", {"updated_after": "2000-01-01T05:19:01-18:58"})
    assert ids(odd_offset) == {lead.pk}
    too_early = client.get("/api/v1/leads/", {"updated_after": "0001-01-01T00:00:00+10:00"})
    assert too_early.status_code == 400
    assert "updated_after" in too_early.json()["fields"]
    feed = client.get("/api/v1/leads/deleted/", {"deleted_after": "2000-01-01T05:19:01-18:58"})
    assert feed.status_code == 200
