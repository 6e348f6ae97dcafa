"""The demo bureau's campaign: the 100-day race (招商引资百日赛), 20 July – 31 October.

Called once by promo.devtools.demo.bureau.DemoBureau.build, after the targets. The demo year is the
current year once the race has started, else last year's race, so the league table has
figures whatever the day the demo is loaded.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from promo.campaigns.choices import VISITS
from promo.campaigns.models import Campaign
from promo.campaigns.services import campaign_create
from promo.reports.choices import Figure

# 每月每个单位都要提供一条有效信息, 每个条线都要外出招商一次: signings first, then the
# information and the visits the seeds ask of every unit.
DEMO_WEIGHTS = {
    Figure.SIGNED_AMOUNT: 30,
    Figure.SIGNED_COUNT: 25,
    Figure.GROUNDBREAKING_COUNT: 15,
    Figure.VALID_LEADS: 15,
    VISITS: 15,
}


def add_demo_campaign(demo: Any) -> Campaign:
    day: date = demo.today
    year = day.year if day >= date(day.year, 7, 20) else day.year - 1
    return campaign_create(
        actor=demo.chief,
        name=f"{year}年招商引资百日赛",
        start=date(year, 7, 20),
        end=date(year, 10, 31),
        unit=demo.bureau,
        metrics=DEMO_WEIGHTS,
        rank_officers=True,
    )
