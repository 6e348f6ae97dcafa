"""Same-unit duplicates over the API (issue #18, finding 7): 409 duplicate_in_unit naming the
unit's newest open lead, then 201 when the caller re-posts with confirm_duplicate."""

from __future__ import annotations

import pytest

from leads.models import Lead
from tests.factories import make_lead, met_elsewhere

pytestmark = pytest.mark.django_db


def body(investor, **extra):
    return {
        "investor": investor.pk,
        "name": "二期扩产项目",
        "industry": "electronics",
        "source_channel": "stationed",
        "estimated_amount": "8000.00",
        **extra,
    }


def test_409_duplicate_in_unit_then_201_with_the_confirmation(bureau, client_for):
    first = make_lead(bureau.shanghai_officer, name="一期项目")
    api = client_for(bureau.teammate)
    refused = api.post("/api/v1/leads/", body(first.investor), format="json")
    assert refused.status_code == 409
    answer = refused.json()
    assert answer["code"] == "duplicate_in_unit"
    assert answer["lead"] == first.pk and answer["lead_name"] == "一期项目"
    assert answer["holder"] == bureau.shanghai_officer.display_name
    assert answer["status"] == "information"
    assert Lead.objects.filter(investor=first.investor).count() == 1

    created = api.post(
        "/api/v1/leads/", body(first.investor, confirm_duplicate=answer["lead"]), format="json"
    )
    assert created.status_code == 201, created.json()
    second = Lead.objects.get(pk=created.json()["id"])
    assert second.duplicate_of == first


def test_a_stale_or_foreign_confirmation_is_409_again(bureau, client_for):
    first = make_lead(bureau.shanghai_officer)
    other = make_lead(bureau.shanghai_officer)  # another investor: not the one to confirm
    api = client_for(bureau.teammate)
    for named in (other.pk, 999999):
        refused = api.post(
            "/api/v1/leads/", body(first.investor, confirm_duplicate=named), format="json"
        )
        assert refused.status_code == 409 and refused.json()["code"] == "duplicate_in_unit"
        assert refused.json()["lead"] == first.pk
    assert Lead.objects.filter(investor=first.investor).count() == 1


def test_a_bad_confirmation_is_a_400_on_its_field(bureau, client_for):
    first = make_lead(bureau.shanghai_officer)
    refused = client_for(bureau.teammate).post(
        "/api/v1/leads/", body(first.investor, confirm_duplicate="abc"), format="json"
    )
    assert refused.status_code == 400 and "confirm_duplicate" in refused.json()["fields"]


def test_another_unit_still_gets_held_elsewhere(bureau, client_for):
    first = make_lead(bureau.shanghai_officer)
    met_elsewhere(bureau.outsider, first.investor)
    refused = client_for(bureau.outsider).post(
        "/api/v1/leads/", body(first.investor, confirm_duplicate=first.pk), format="json"
    )
    assert refused.status_code == 409 and refused.json()["code"] == "held_elsewhere"
