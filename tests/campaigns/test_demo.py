"""The demo bureau's 百日赛: 20 July – 31 October of the year whose race has started."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from promo.devtools.demo.campaigns import add_demo_campaign

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2026, 11, 30), 2026), (date(2026, 7, 20), 2026), (date(2026, 3, 1), 2025)],
)
def test_demo_campaign_is_the_latest_race_that_has_started(bureau, day, year):
    demo = SimpleNamespace(today=day, chief=bureau.chief, bureau=bureau.bureau)
    campaign = add_demo_campaign(demo)
    assert (campaign.start, campaign.end) == (date(year, 7, 20), date(year, 10, 31))
    assert "百日赛" in campaign.name and campaign.unit == bureau.bureau
    assert campaign.created_by == bureau.chief and campaign.rank_officers
    assert campaign.metrics.count() == 5
