"""Lead list and lead page: filters, timeline, status actions, signing; outsiders get 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.choices import LeadStatus
from leads.models import Lead, LeadStatusEvent
from projects.models import Project
from promo.core.services import today
from tests.factories import make_investor, make_lead, met_elsewhere

pytestmark = pytest.mark.django_db


def test_list_shows_visible_leads_only(bureau, client_for):
    mine = make_lead(bureau.shanghai_officer, name="上海芯片封测项目")
    theirs = make_lead(bureau.outsider, name="深圳电池项目")
    response = client_for(bureau.shanghai_officer).get("/leads/")
    assert response.status_code == 200
    html = response.content.decode()
    assert mine.name in html and theirs.name not in html


def test_list_filters_by_status_text_and_mine(bureau, client_for):
    me = bureau.shanghai_officer
    valid = make_lead(me, status=LeadStatus.VALID, name="新能源电池项目")
    make_lead(me, status=LeadStatus.INFORMATION, name="食品加工项目")
    teammates = make_lead(bureau.teammate, status=LeadStatus.VALID, name="新能源储能项目")
    client = client_for(me)

    rows = client.get("/leads/", {"status": "valid"}).context["page"].object_list
    assert {lead.pk for lead in rows} == {valid.pk, teammates.pk}
    rows = client.get("/leads/", {"status": "valid", "mine": "1"}).context["page"].object_list
    assert [lead.pk for lead in rows] == [valid.pk]
    rows = client.get("/leads/", {"officer": bureau.teammate.pk}).context["page"].object_list
    assert [lead.pk for lead in rows] == [teammates.pk]
    rows = client.get("/leads/", {"q": "储能"}).context["page"].object_list
    assert [lead.pk for lead in rows] == [teammates.pk]
    investor_name = valid.investor.name
    rows = client.get("/leads/", {"q": investor_name}).context["page"].object_list
    assert [lead.pk for lead in rows] == [valid.pk]


def test_list_filters_by_amount_range_and_staleness(bureau, client_for):
    me = bureau.shanghai_officer
    big = make_lead(me, amount=50000)
    make_lead(me, amount=500)
    client = client_for(me)
    rows = client.get("/leads/", {"amount_min": "10000"}).context["page"].object_list
    assert [lead.pk for lead in rows] == [big.pk]
    Lead.objects.filter(pk=big.pk).update(last_activity_on=today() - timedelta(days=40))
    rows = client.get("/leads/", {"stale_days": "30"}).context["page"].object_list
    assert [lead.pk for lead in rows] == [big.pk]


def test_bad_filter_value_comes_back_with_an_error_and_the_value_kept(bureau, client_for):
    make_lead(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).get("/leads/", {"amount_min": "abc"})
    assert response.status_code == 200
    assert "amount_min" in response.context["filter_form"].errors
    assert 'value="abc"' in response.content.decode()
    assert list(response.context["page"].object_list) == []


def test_list_paginates(bureau, client_for):
    me = bureau.shanghai_officer
    # One investor each: a unit's second open lead on one investor needs a confirmation
    # (decision 0013).
    for _ in range(23):
        make_lead(me)
    client = client_for(me)
    first = client.get("/leads/")
    assert len(first.context["page"].object_list) == 20
    assert len(client.get("/leads/", {"page": 2}).context["page"].object_list) == 3


def test_list_query_count_is_the_same_for_2_and_20_rows(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    for _ in range(2):
        make_lead(me)
    with CaptureQueriesContext(connection) as few:
        client.get("/leads/", {"status": "information"})
    for _ in range(18):
        make_lead(me)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/leads/", {"status": "information"})
    assert len(response.context["page"].object_list) == 20
    assert len(many) == len(few)
    # Session, officer (with its unit and the sub-tree's ids), count, page, unit and officer
    # choices, the bell's unread count (the session is written at most once a minute).
    assert len(few) == 7


def test_detail_shows_timeline_and_only_allowed_actions(bureau, client_for):
    me = bureau.shanghai_officer
    lead = make_lead(me, status=LeadStatus.VALID)
    lead_services.visit_log(
        actor=me,
        kind="inspection",
        visited_on=today(),
        investor=lead.investor,
        lead=lead,
        summary="客商实地考察园区",
    )
    response = client_for(me).get(f"/leads/{lead.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "客商实地考察园区" in html and "实地考察" in html
    slugs = [action["slug"] for action in response.context["actions"]]
    assert slugs == ["negotiate", "drop", "reject"]
    assert not response.context["can_sign"]
    assert f"/leads/{lead.pk}/sign/" not in html


def test_terminal_lead_offers_no_actions(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.DROPPED)
    response = client_for(bureau.shanghai_officer).get(f"/leads/{lead.pk}/")
    assert response.context["actions"] == [] and not response.context["can_sign"]


def test_qualify_moves_the_lead_and_writes_an_event(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/leads/{lead.pk}/qualify/", {"qualify-note": "已核实"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VALID
    assert lead.status_events.last().note == "已核实"


def test_drop_without_reason_comes_back_with_the_error_and_nothing_changes(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    response = client_for(bureau.shanghai_officer).post(
        f"/leads/{lead.pk}/drop/", {"drop-reason": "", "drop-note": "客商电话未接"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_drop-reason_error"' in html
    assert 'value="客商电话未接"' in html
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VALID


def test_drop_and_reject_keep_the_reason(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    dropped = make_lead(bureau.shanghai_officer)
    client.post(f"/leads/{dropped.pk}/drop/", {"drop-reason": "投资方战略调整"})
    dropped.refresh_from_db()
    assert dropped.status == LeadStatus.DROPPED and dropped.drop_reason == "投资方战略调整"
    rejected = make_lead(bureau.shanghai_officer)
    client.post(f"/leads/{rejected.pk}/reject/", {"reject-reject_reason": "land_grab"})
    rejected.refresh_from_db()
    assert rejected.status == LeadStatus.REJECTED and rejected.reject_reason == "land_grab"


def test_refused_transition_says_why(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)  # 信息: cannot go straight to 在谈
    response = client_for(bureau.shanghai_officer).post(f"/leads/{lead.pk}/negotiate/", {})
    assert response.status_code == 200
    assert "不能变更为" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION


def test_outsider_gets_404_on_detail_and_actions_and_nothing_changes(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    events = LeadStatusEvent.objects.filter(lead=lead).count()
    client = client_for(bureau.outsider)
    assert client.get(f"/leads/{lead.pk}/").status_code == 404
    assert client.post(f"/leads/{lead.pk}/drop/", {"drop-reason": "x"}).status_code == 404
    assert client.get(f"/leads/{lead.pk}/sign/").status_code == 404
    response = client.post(
        f"/leads/{lead.pk}/sign/",
        {
            "name": "x",
            "contract_date": today().isoformat(),
            "total_investment": "100",
            "park_kind": "other",
        },
    )
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEGOTIATING
    assert LeadStatusEvent.objects.filter(lead=lead).count() == events
    assert not Project.objects.exists()


def test_sign_form_is_prefilled_from_the_lead(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING, amount=15000)
    response = client_for(bureau.shanghai_officer).get(f"/leads/{lead.pk}/sign/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{lead.name}"' in html and 'value="15000' in html


def test_sign_creates_the_project_and_bad_plan_dates_come_back(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    client = client_for(bureau.shanghai_officer)
    data = {
        "name": "芯片封测基地",
        "contract_date": today().isoformat(),
        "total_investment": "20000",
        "park_kind": "high_tech_zone",
        "groundbreaking_planned": (today() - timedelta(days=5)).isoformat(),
    }
    response = client.post(f"/leads/{lead.pk}/sign/", data)
    assert response.status_code == 200
    assert "groundbreaking_planned" in response.context["form"].errors
    assert 'value="芯片封测基地"' in response.content.decode()
    assert not Project.objects.exists()

    data["groundbreaking_planned"] = (today() + timedelta(days=60)).isoformat()
    response = client.post(f"/leads/{lead.pk}/sign/", data)
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SIGNED and project.lead == lead


def test_sign_page_redirects_when_the_lead_cannot_be_signed(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).get(f"/leads/{lead.pk}/sign/")
    assert response.status_code == 302


def lead_form_data(investor, **overrides):
    data = {
        "investor": investor.pk,
        "name": "动力电池二期",
        "industry": "new_energy",
        "chain_role": "fill",
        "source_channel": "stationed",
        "estimated_amount": "30000",
        "estimated_fdi": "",
        "first_contact_on": today().isoformat(),
    }
    data.update(overrides)
    return data


def test_register_a_lead_makes_me_lead_officer(bureau, client_for):
    me = bureau.shanghai_officer
    investor = make_investor(me)
    client = client_for(me)
    response = client.get("/leads/new/", {"investor": investor.pk})
    assert response.status_code == 200
    response = client.post("/leads/new/", lead_form_data(investor))
    lead = Lead.objects.get(name="动力电池二期")
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert lead.unit == bureau.shanghai and lead.assignments.get().officer == me


def test_register_a_lead_bad_input_comes_back_filled(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        "/leads/new/", lead_form_data(investor, source_channel="intermediary")
    )
    assert response.status_code == 200
    assert "intermediary" in response.context["form"].errors
    assert 'value="动力电池二期"' in response.content.decode()
    assert not Lead.objects.exists()


def test_another_units_active_lead_is_named_before_a_second_one_is_registered(bureau, client_for):
    investor = make_investor(bureau.outsider, name="比亚迪样例电池有限公司")
    make_lead(bureau.outsider, investor=investor, status=LeadStatus.VALID)
    # The Shanghai office met the same investor (a visit of older data): it is visible.
    met_elsewhere(bureau.shanghai_officer, investor, summary="初次拜访")
    client = client_for(bureau.shanghai_officer)
    response = client.post("/leads/new/", lead_form_data(investor))
    assert response.status_code == 200
    html = response.content.decode()
    assert "深圳办事处" in html and "刘洋" in html and "撞单协调" in html
    assert Lead.objects.filter(investor=investor).count() == 1


def test_cannot_register_a_lead_on_an_invisible_investor(bureau, client_for):
    investor = make_investor(bureau.outsider)
    response = client_for(bureau.shanghai_officer).post("/leads/new/", lead_form_data(investor))
    assert response.status_code == 200
    assert "investor" in response.context["form"].errors
    assert not Lead.objects.exists()


def test_detail_query_count_does_not_grow_with_the_timeline(bureau, client_for):
    me = bureau.shanghai_officer
    lead = make_lead(me, status=LeadStatus.VALID)
    client = client_for(me)

    def log(n):
        for _ in range(n):
            visit = lead_services.visit_log(
                actor=me,
                kind="call",
                visited_on=today(),
                investor=lead.investor,
                lead=lead,
                summary="电话跟进",
            )
            visit.officers.add(bureau.teammate)

    log(2)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/leads/{lead.pk}/")
    log(18)
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/leads/{lead.pk}/")
    assert response.content.decode().count("电话跟进") == 20
    assert "陈静" in response.content.decode()
    assert len(many) == len(few)


def test_the_lead_form_chooses_no_industry_or_chain_role_for_the_officer(bureau, client_for):
    """Issue #15, finding 11: 行业 = 电子信息 and 链 = 建链 were pre-selected (the lists' first
    entries) and saved unnoticed. Nothing is chosen now; leaving them is an error next to each
    field, and nothing is written."""
    me = bureau.shanghai_officer
    investor = make_investor(me, industry="new_energy")
    client = client_for(me)
    page = client.get("/leads/new/")
    for name in ("industry", "chain_role", "source_channel"):
        assert page.context["form"][name].value() in (None, "")
    html = page.content.decode()
    assert '<option value="" selected>—</option>' in html
    response = client.post(
        "/leads/new/", lead_form_data(investor, industry="", chain_role="", source_channel="")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["industry"] == ["请选择行业。"]
    assert errors["chain_role"] == ["请选择产业链定位。"]
    assert errors["source_channel"] == ["请选择信息来源。"]
    assert not Lead.objects.exists()
    # Started from an investor's page, its recorded industry is filled in (visibly).
    page = client.get("/leads/new/", {"investor": investor.pk})
    assert page.context["form"]["industry"].value() == "new_energy"
    assert page.context["form"]["chain_role"].value() in (None, "")


def test_the_lead_form_says_what_is_missing_in_english_too(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        "/leads/new/",
        lead_form_data(investor, industry="", chain_role=""),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    errors = response.context["form"].errors
    assert errors["industry"] == ["Choose an industry."]
    assert errors["chain_role"] == ["Choose the place in the industry chain."]
