"""League tables follow the cockpit's rule: at most a minute old, kept fresh by Celery."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from promo.campaigns.tasks import refresh_campaign_leagues
from promo.core.services import today
from promo.reports.choices import Figure
from tests.campaigns.test_campaigns import client_for, new_campaign
from tests.factories import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def minute(settings):
    settings.PROMO_DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def race(bureau, minute):
    """A campaign on signings, and the chief's client reading it."""
    campaign = new_campaign(bureau.chief, bureau.bureau, {Figure.SIGNED_COUNT: 1})
    return campaign, client_for(bureau.chief)


def signed(context, unit_name: str) -> int:
    rows = {row["subject"].name: row["cells"][0]["value"] for row in context["units"]}
    return rows[unit_name]


def test_a_league_being_read_is_recomputed_by_the_task_at_half_its_age(bureau, race):
    campaign, client = race
    url = f"/campaigns/{campaign.pk}/screen/"
    first = client.get(url).context
    make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=1))

    assert refresh_campaign_leagues.apply().get() == 0  # still young: nothing to do
    with time_machine.travel(timezone.now() + timedelta(seconds=40), tick=False):
        assert refresh_campaign_leagues.apply().get() == 1
        served = client.get(url).context
    # The reader got the task's table: the new signing, computed after the first one.
    assert signed(served, "上海办事处") == 1
    assert served["as_of"] > first["as_of"]


def test_a_league_nobody_reads_is_left_alone(bureau, minute):
    new_campaign(bureau.chief, bureau.bureau, {Figure.SIGNED_COUNT: 1})
    assert refresh_campaign_leagues.apply().get() == 0


def test_a_reader_never_gets_a_table_older_than_the_configured_minute(bureau, race):
    campaign, client = race
    url = f"/campaigns/{campaign.pk}/"
    first = client.get(url).context
    make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=1))
    assert signed(client.get(url).context, "上海办事处") == 0  # shared within the minute
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        later = client.get(url).context
    assert signed(later, "上海办事处") == 1
    assert later["as_of"] - first["as_of"] >= timedelta(seconds=60)


def test_the_league_refresh_runs_on_the_beat_schedule():
    from promo.celery import app

    entry = app.conf.beat_schedule["campaigns-refresh-leagues"]
    assert entry["task"] == refresh_campaign_leagues.name
    assert entry["schedule"] <= 30
