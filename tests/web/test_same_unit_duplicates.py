"""Same-unit duplicates on the lead form (issue #18, finding 7): the second open lead of a unit
on one investor is refused naming the first, and registered once the officer confirms it."""

from __future__ import annotations

import pytest

from leads.models import Lead
from leads.services import lead_create
from promo.core.services import today
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def _lead_form(investor, **extra):
    return {
        "investor": investor.pk,
        "name": "第二期扩产项目",
        "industry": "electronics",
        "chain_role": "build",
        "source_channel": "stationed",
        "estimated_amount": "30000",
        "estimated_fdi": "0",
        "first_contact_on": today().isoformat(),
        **extra,
    }


def test_the_second_lead_is_refused_with_the_first_named_and_linked(bureau, client_for):
    first = make_lead(bureau.shanghai_officer, name="一期电子项目")
    response = client_for(bureau.teammate).post("/leads/new/", _lead_form(first.investor))
    assert response.status_code == 200
    html = response.content.decode()
    assert "一期电子项目" in html and bureau.shanghai_officer.display_name in html
    assert f'href="/leads/{first.pk}/"' in html
    # The confirmation checkbox carries the id of the lead it names.
    assert 'name="confirm_duplicate"' in html and f'value="{first.pk}"' in html
    assert Lead.objects.filter(investor=first.investor).count() == 1


def test_the_confirmed_second_lead_is_registered_beside_the_first(bureau, client_for):
    first = make_lead(bureau.shanghai_officer)
    response = client_for(bureau.teammate).post(
        "/leads/new/", _lead_form(first.investor, confirm_duplicate=str(first.pk))
    )
    assert response.status_code == 302
    second = Lead.objects.get(investor=first.investor, name="第二期扩产项目")
    assert response.url == f"/leads/{second.pk}/"
    assert second.duplicate_of == first


def test_a_stale_confirmation_is_refused_and_names_the_newest_lead(bureau, client_for):
    first = make_lead(bureau.shanghai_officer)
    newer = lead_create(
        actor=bureau.shanghai_head,
        investor=first.investor,
        name="局长登记的另一个项目",
        industry="electronics",
        source_channel="stationed",
        confirm_duplicate=first.pk,
    )
    response = client_for(bureau.teammate).post(
        "/leads/new/", _lead_form(first.investor, confirm_duplicate=str(first.pk))
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "重新确认" in html and "局长登记的另一个项目" in html
    assert f'value="{newer.pk}"' in html
    assert Lead.objects.filter(investor=first.investor).count() == 2


def test_the_refusal_reads_in_english(bureau, client_for, settings):
    from django.utils import translation

    first = make_lead(bureau.shanghai_officer, name="一期电子项目")
    try:
        response = client_for(bureau.teammate).post(
            "/leads/new/", _lead_form(first.investor), HTTP_ACCEPT_LANGUAGE="en"
        )
        html = response.content.decode()
        assert "Your unit already follows" in html
    finally:
        translation.activate(settings.LANGUAGE_CODE)
