"""The bureau's own records (局本级) have a line of their own, so unit lines add up to 合计.

Issue #14, finding 8: a chief writing through the API puts records on the bureau's root unit
itself; they counted in 合计 but in no unit line. Bulletins and ten-day reports now carry a
局本级 line (the root unit's own records, not its sub-units'), placed before 合计 and left out
of the ranking; a correction to it after publication is an amendment of that line.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from leads import services as lead_services
from leads.choices import LeadStatus
from promo.reports.choices import BulletinKind, Figure
from promo.reports.exports import bulletin_export_xlsx
from promo.reports.models import Bulletin, BulletinLine
from promo.reports.services import bulletin_generate, bulletin_publish
from tests.factories import make_lead
from tests.reports.seed import START, TODAY, TOTAL, build_october

pytestmark = pytest.mark.django_db

# Distinct investors: one investor visiting two units is one investor of the bureau, so
# this figure alone is not a sum of the lines (docs/domain.md, "Unit rows and 合计").
ADDITIVE = [figure for figure in Figure.values if figure != Figure.INVESTORS_VISITING]


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def october(bureau, clock):
    return build_october(bureau)


def lines_of(bulletin: Bulletin) -> list[BulletinLine]:
    return sorted(bulletin.lines.select_related("unit"), key=lambda line: line.position)


def assert_lines_add_up(bulletin: Bulletin) -> None:
    lines = lines_of(bulletin)
    total = next(line for line in lines if line.is_total)
    parts = [line for line in lines if not line.is_total]
    for figure in ADDITIVE:
        summed = sum((Decimal(line.figure(figure)) for line in parts), Decimal(0))
        assert summed == Decimal(total.figure(figure)), figure
    visiting = [line.investors_visiting for line in parts]
    assert max(visiting) <= total.investors_visiting <= sum(visiting)


@pytest.mark.parametrize("kind", [BulletinKind.MONTHLY, BulletinKind.TEN_DAY])
def test_unit_lines_and_the_bureaus_own_line_add_up_to_the_total(bureau, october, kind):
    bulletin = bulletin_generate(kind=kind, period_start=START)

    assert_lines_add_up(bulletin)
    lines = lines_of(bulletin)
    # Shanghai, Shenzhen, the department, then 局本级 (the chief's L8), then 合计.
    assert [(line.unit_id, line.own_records_only) for line in lines] == [
        (bureau.shanghai.pk, False),
        (bureau.shenzhen.pk, False),
        (bureau.department.pk, False),
        (bureau.bureau.pk, True),
        (None, False),
    ]
    own = lines[3]
    assert (own.leads_in_hand, own.valid_leads) == (1, 1)  # L8, qualified on 6 October
    assert own.rank is None  # the bureau is not ranked against its own units
    assert None not in [line.rank for line in lines[:3]]


def test_the_own_line_is_printed_before_the_total_without_number_or_rank(bureau, october):
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    client = Client()
    client.force_login(bureau.chief)
    response = client.get(f"/reports/bulletins/{bulletin.pk}/")
    rows = response.context["rows"]
    assert [row["name"] for row in rows] == [
        "上海办事处",
        "深圳办事处",
        "市发改委",
        "局本级",
        "合计",
    ]
    own = rows[3]
    assert (own["number"], own["rank"], own["is_total"]) == (None, None, False)
    assert own["cells"][0]["value"] == 1  # 在手信息
    html = response.content.decode()
    assert html.index("局本级") < html.index("合计</th>")


def test_the_own_line_has_its_row_in_the_xlsx(bureau, october):
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    ws = load_workbook(BytesIO(bulletin_export_xlsx(bulletin=bulletin))).active
    own, total = ([cell.value for cell in ws[row]] for row in (8, 9))
    # 序号, 单位, 在手, 在谈, 来区客商, 签约个数, 签约额, 千万, 亿元, 开工个数, 开工额, 竣工, 投产,
    # 到账外资, 有效信息; no rank.
    assert own[:15] == [None, "局本级", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert own[17] is None
    assert total[:3] == [None, "合计", TOTAL["leads_in_hand"]]


def test_a_late_record_of_the_bureau_itself_is_an_amendment_of_its_own_line(bureau, october, clock):
    bulletin = bulletin_publish(
        bulletin=bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START),
        actor=bureau.chief,
    )
    clock.shift(3600)
    # The chief enters, after publication, a lead the bureau qualified on 20 October.
    late = make_lead(bureau.chief)
    lead_services.lead_transition(
        lead=late,
        actor=bureau.chief,
        to_status=LeadStatus.VALID,
        on_date=date(2026, 10, 20),
        reason="补录局本级信息",
    )
    clock.shift(3600)
    # Later still, the Shanghai office changes one of its own leads: not the bureau's record.
    lead_services.lead_update(
        actor=bureau.shanghai_officer,
        lead=october.l1,
        changes={"description": "补充说明"},
        why="上海办补充说明",
    )
    bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)

    own = bulletin.lines.get(own_records_only=True)
    assert own.leads_in_hand == 1  # the published figure stays
    changes = {a.figure: (a.old_value, a.new_value) for a in own.amendments.all()}
    assert changes == {
        Figure.LEADS_IN_HAND: (Decimal(1), Decimal(2)),
        Figure.VALID_LEADS: (Decimal(1), Decimal(2)),
    }
    # Attributed from the bureau's own records, not the latest change anywhere in the tree.
    # Each amendment names the late lead, who entered it and why (its causes).
    causes = {
        (a.figure, c.record_id, c.changed_by, c.reason)
        for a in own.amendments.all()
        for c in a.causes.all()
    }
    assert causes == {
        (Figure.LEADS_IN_HAND, late.pk, bureau.chief, "补录局本级信息"),
        (Figure.VALID_LEADS, late.pk, bureau.chief, "补录局本级信息"),
    }
    total = bulletin.lines.get(unit=None)
    assert total.amendments.count() == 2
    for line in bulletin.lines.filter(unit__isnull=False, own_records_only=False):
        assert not line.amendments.exists(), line
