"""The campaign admin: chiefs launch and change races through the services; others cannot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from promo.campaigns.models import Campaign
from promo.core.services import today

pytestmark = pytest.mark.django_db


def admin_client(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def form_data(bureau, **overrides) -> dict:
    data = {
        "name": "大干60天",
        "start": (today() - timedelta(days=10)).isoformat(),
        "end": (today() + timedelta(days=50)).isoformat(),
        "unit": str(bureau.bureau.pk),
        "metrics_text": "signed_amount:30, signed_count:20, visits:10",
        "rank_officers": "on",
        "metrics-TOTAL_FORMS": "0",
        "metrics-INITIAL_FORMS": "0",
        "metrics-MIN_NUM_FORMS": "0",
        "metrics-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_chief_adds_and_changes_a_campaign_through_the_services(bureau):
    bureau.chief.is_staff = True
    bureau.chief.save(update_fields=["is_staff"])
    client = admin_client(bureau.chief)
    add_url = reverse("admin:campaigns_campaign_add")
    assert client.get(add_url).status_code == 200
    response = client.post(add_url, form_data(bureau))
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert campaign.created_by == bureau.chief
    assert dict(campaign.metrics.values_list("figure", "weight")) == {
        "signed_amount": Decimal("30.00"),
        "signed_count": Decimal("20.00"),
        "visits": Decimal("10.00"),
    }
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert "signed_amount:30" in page.content.decode()
    data = form_data(bureau, metrics_text="valid_leads:1", name="大干六十天")
    response = client.post(change_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign.refresh_from_db()
    assert campaign.name == "大干六十天"
    assert list(campaign.metrics.values_list("figure", flat=True)) == ["valid_leads"]


def test_bad_metrics_and_dates_are_form_errors_and_nothing_is_written(bureau):
    bureau.chief.is_staff = True
    bureau.chief.save(update_fields=["is_staff"])
    client = admin_client(bureau.chief)
    add_url = reverse("admin:campaigns_campaign_add")
    response = client.post(add_url, form_data(bureau, metrics_text="golf:3"))
    assert response.status_code == 200
    assert "未知指标" in response.content.decode()
    backwards = form_data(bureau, end=(today() - timedelta(days=30)).isoformat())
    response = client.post(add_url, backwards)
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert not Campaign.objects.exists()


def test_unit_head_cannot_open_the_campaign_admin(bureau):
    client = admin_client(bureau.shanghai_head)
    assert client.get(reverse("admin:campaigns_campaign_changelist")).status_code == 403
    assert (
        client.post(reverse("admin:campaigns_campaign_add"), form_data(bureau)).status_code == 403
    )
    assert not Campaign.objects.exists()
