"""Dates shown to officers are Beijing dates, not UTC ones (issue #15, finding 7).

At 04:03 Beijing time on 3 December it is still 2 December in UTC: anything made then must
read 12月3日 on the lead's timeline and in the 防撞单 answer.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from leads.choices import LeadStatus
from leads.services import lead_create
from promo.core.errors import HeldElsewhere
from tests.factories import make_investor, make_lead, met_elsewhere

pytestmark = pytest.mark.django_db

# 2026-12-03 04:03 in Asia/Shanghai.
EARLY_MORNING = datetime(2026, 12, 2, 20, 3, tzinfo=UTC)


def test_a_status_change_at_four_in_the_morning_reads_that_day_on_the_timeline(bureau):
    client = Client()
    client.force_login(bureau.shanghai_officer)
    with time_machine.travel(EARLY_MORNING, tick=False):
        lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
        page = client.get(f"/leads/{lead.pk}/")
    assert page.status_code == 200
    timeline = page.content.decode().split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    assert 'datetime="2026-12-03"' in timeline
    assert 'datetime="2026-12-02"' not in timeline


def test_the_held_elsewhere_answer_gives_the_beijing_date(bureau):
    with time_machine.travel(EARLY_MORNING, tick=False):
        investor = make_investor(bureau.outsider, name="凌晨登记样例科技有限公司")
        held = make_lead(bureau.outsider, investor=investor, status=LeadStatus.VALID)
        met_elsewhere(bureau.shanghai_officer, investor)
    with pytest.raises(HeldElsewhere) as err:
        lead_create(
            actor=bureau.shanghai_officer,
            investor=investor,
            name="同一客商的另一条项目信息",
            industry="new_energy",
            source_channel="stationed",
        )
    assert err.value.extra["holders"][0]["lead"] == held.pk
    assert err.value.extra["holders"][0]["since"] == "2026-12-03"
    assert "2026-12-03" in str(err.value)
