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
from promo.core.errors import DuplicateInUnit, HeldElsewhere
from tests.factories import make_investor, make_lead, met_elsewhere
from tests.imports.files import xlsx

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
    assert "2026年12月3日" in str(err.value)


def test_the_same_unit_answer_gives_the_beijing_date(bureau):
    with time_machine.travel(EARLY_MORNING, tick=False):
        first = make_lead(bureau.shanghai_officer, name="凌晨登记的第一个项目")
    with pytest.raises(DuplicateInUnit) as err:
        lead_create(
            actor=bureau.teammate,
            investor=first.investor,
            name="第二个项目",
            industry="electronics",
            source_channel="stationed",
        )
    assert err.value.extra["since"] == "2026-12-03"


def test_the_held_elsewhere_message_writes_the_date_in_the_officers_language(bureau):
    from django.utils import translation

    with time_machine.travel(EARLY_MORNING, tick=False):
        investor = make_investor(bureau.outsider, name="凌晨登记样例二科技有限公司")
        make_lead(bureau.outsider, investor=investor, status=LeadStatus.VALID)
        met_elsewhere(bureau.shanghai_officer, investor)
    for language, written in (("zh-hans", "2026年12月3日"), ("en", "3 Dec 2026")):
        with translation.override(language), pytest.raises(HeldElsewhere) as err:
            lead_create(
                actor=bureau.shanghai_officer,
                investor=investor,
                name="同一客商的另一条项目信息",
                industry="new_energy",
                source_channel="stationed",
            )
        assert written in str(err.value), language


@pytest.mark.parametrize(
    ("language", "written"),
    [("zh-hans", "2026年12月3日 04:03"), ("en", "3 Dec 2026 04:03")],
)
def test_pages_write_beijing_dates_and_times_in_the_officers_language(bureau, language, written):
    from django.conf import settings

    from promo.imports.choices import ImportKind
    from promo.imports.services import batch_upload

    me = bureau.shanghai_officer
    with time_machine.travel(EARLY_MORNING, tick=False):
        batch_upload(
            actor=me,
            data=xlsx([["项目名称"], ["样例"]]),
            file_name="台账.xlsx",
            kind=ImportKind.LEADS,
        )
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(me)
    page = client.get("/imports/").content.decode()
    assert written in page
    assert "2026-12-02" not in page and "12/03/2026" not in page
