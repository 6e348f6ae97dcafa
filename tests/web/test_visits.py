"""Log a visit (登记走访): existing or new investor, duplicate check, errors next to fields."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leads.choices import LeadStatus
from leads.models import Investor, Visit
from promo.core.services import today
from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db


def visit_data(**overrides):
    data = {
        "kind": "visit",
        "visited_on": today().isoformat(),
        "summary": "介绍园区配套，客商有意扩产",
        "next_step": "",
        "next_step_due": "",
        "city": "上海",
    }
    data.update(overrides)
    return data


def test_form_renders_with_today_as_default_date(bureau, client_for):
    response = client_for(bureau.shanghai_officer).get("/visits/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{today().isoformat()}"' in html
    assert 'data-typeahead-for="id_investor"' in html
    assert 'for="id_summary"' in html


def test_log_visit_on_existing_investor_and_lead(bureau, client_for):
    me = bureau.shanghai_officer
    lead = make_lead(me, status=LeadStatus.VALID)
    response = client_for(me).post(
        "/visits/new/",
        visit_data(
            investor=lead.investor_id,
            lead=lead.pk,
            officers=[bureau.teammate.pk],
            next_step="安排实地考察",
            next_step_due=(today() + timedelta(days=7)).isoformat(),
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    visit = Visit.objects.get(lead=lead)
    assert set(visit.officers.values_list("pk", flat=True)) == {me.pk, bureau.teammate.pk}
    lead.refresh_from_db()
    assert lead.last_activity_on == today()


def test_log_visit_with_a_new_investor_creates_it(bureau, client_for):
    me = bureau.shanghai_officer
    response = client_for(me).post(
        "/visits/new/",
        visit_data(
            new_investor_name="上海新锐光电科技有限公司", new_investor_industry="electronics"
        ),
    )
    assert response.status_code == 302
    investor = Investor.objects.get(name="上海新锐光电科技有限公司")
    assert investor.unit == bureau.shanghai
    assert Visit.objects.filter(investor=investor, created_by=me).exists()


def test_a_close_match_is_offered_instead_of_a_silent_duplicate(bureau, client_for):
    me = bureau.shanghai_officer
    existing = make_investor(bureau.teammate, name="苏州ABC电子有限公司")
    client = client_for(me)
    response = client.post(
        "/visits/new/",
        visit_data(
            new_investor_name="苏州ＡＢＣ电子股份有限公司 ", new_investor_industry="electronics"
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "已有相近的客商" in html and "苏州ABC电子有限公司" in html and "上海办事处" in html
    assert "介绍园区配套，客商有意扩产" in html  # nothing typed is lost
    assert Investor.objects.count() == 1 and Visit.objects.count() == 0

    response = client.post(
        "/visits/new/",
        visit_data(
            new_investor_name="苏州ＡＢＣ电子股份有限公司 ",
            new_investor_industry="electronics",
            use_candidate=existing.pk,
        ),
    )
    assert response.status_code == 302
    assert Investor.objects.count() == 1
    assert Visit.objects.get().investor == existing


def test_confirming_distinct_creates_the_new_investor(bureau, client_for):
    # Only the English name matches: the officer may say it is another company.
    make_investor(
        bureau.outsider, name="苏州艾必希电子有限公司", name_en="ABC Electronics Co., Ltd."
    )
    response = client_for(bureau.shanghai_officer).post(
        "/visits/new/",
        visit_data(
            new_investor_name="ABC Electronics",
            new_investor_industry="electronics",
            confirm_distinct="on",
        ),
    )
    assert response.status_code == 302
    assert Investor.objects.count() == 2


def test_same_normalised_name_cannot_be_confirmed_distinct(bureau, client_for):
    make_investor(bureau.outsider, name="苏州ABC电子有限公司")
    response = client_for(bureau.shanghai_officer).post(
        "/visits/new/",
        visit_data(
            new_investor_name="苏州ABC电子股份有限公司",
            new_investor_industry="electronics",
            confirm_distinct="on",
        ),
    )
    assert response.status_code == 200
    assert "苏州ABC电子有限公司" in response.content.decode()
    assert Investor.objects.count() == 1 and not Visit.objects.exists()


def test_a_picked_candidate_must_be_one_of_the_matches(bureau, client_for):
    unrelated = make_investor(bureau.outsider, name="深圳无关科技有限公司")
    response = client_for(bureau.shanghai_officer).post(
        "/visits/new/",
        visit_data(
            new_investor_name="全新客商有限公司",
            new_investor_industry="electronics",
            use_candidate=unrelated.pk,
        ),
    )
    assert response.status_code == 200
    assert 'id="id_use_candidate_error"' in response.content.decode()
    assert Visit.objects.count() == 0


def test_log_a_visit_from_a_leads_page_preselects_lead_and_investor(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    response = client_for(bureau.shanghai_officer).get("/visits/new/", {"lead": lead.pk})
    form = response.context["form"]
    assert form["lead"].value() == lead.pk and form["investor"].value() == lead.investor_id
    # Another unit's lead is not preselected (nor revealed).
    other = make_lead(bureau.outsider)
    response = client_for(bureau.shanghai_officer).get("/visits/new/", {"lead": other.pk})
    assert response.context["form"]["lead"].value() is None
    assert other.name not in response.content.decode()


def test_service_error_is_shown_next_to_its_field_and_the_new_investor_is_not_kept(
    bureau, client_for
):
    response = client_for(bureau.shanghai_officer).post(
        "/visits/new/",
        visit_data(
            new_investor_name="上海新锐光电科技有限公司",
            new_investor_industry="electronics",
            next_step_due=(today() + timedelta(days=3)).isoformat(),
        ),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "next_step" in form.errors
    html = response.content.decode()
    assert 'id="id_next_step_error"' in html and 'aria-invalid="true"' in html
    assert 'value="上海新锐光电科技有限公司"' in html
    assert not Investor.objects.exists() and not Visit.objects.exists()


def test_future_date_and_missing_summary_are_refused_next_to_the_fields(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        "/visits/new/",
        visit_data(investor=investor.pk, summary=" ", visited_on=(today() + timedelta(days=1))),
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"summary"}
    response = client_for(bureau.shanghai_officer).post(
        "/visits/new/",
        visit_data(investor=investor.pk, visited_on=(today() + timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 200
    assert "日期不能晚于今天" in str(response.context["form"].errors["visited_on"])
    assert not Visit.objects.exists()


def test_outsider_cannot_log_a_visit_on_another_units_lead(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    response = client_for(bureau.outsider).post(
        "/visits/new/", visit_data(investor=lead.investor_id, lead=lead.pk)
    )
    assert response.status_code == 200
    assert "lead" in response.context["form"].errors
    assert not Visit.objects.exists()
    lead.refresh_from_db()
    assert lead.last_activity_on is None


def test_investor_search_returns_only_visible_investors(bureau, client_for):
    mine = make_investor(bureau.shanghai_officer, name="上海星河电子有限公司")
    make_investor(bureau.outsider, name="深圳星河电子有限公司")
    response = client_for(bureau.shanghai_officer).get("/investors/search/", {"q": "星河"})
    assert response.status_code == 200
    assert response.json() == {"results": [{"id": mine.pk, "name": mine.name}]}
    assert client_for(bureau.shanghai_officer).get("/investors/search/").json() == {"results": []}


def test_a_picked_investor_and_a_typed_new_name_are_refused_not_guessed(bureau, client_for):
    """Issue #15, finding 1: the search picked its single match, the officer then typed a new
    investor's name, and the visit was saved on the picked investor without a word."""
    me = bureau.shanghai_officer
    picked = make_investor(me, name="上海样例精密机械有限公司")
    response = client_for(me).post(
        "/visits/new/",
        visit_data(
            investor=picked.pk,
            new_investor_name="苏州全新样例材料有限公司",
            new_investor_industry="new_materials",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["new_investor_name"]
    assert "上海样例精密机械有限公司" in errors[0]
    assert not Visit.objects.filter(investor=picked).exists()
    assert not Investor.objects.filter(name="苏州全新样例材料有限公司").exists()
