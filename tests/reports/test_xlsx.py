"""XLSX export of a bulletin, read back with openpyxl: title, headers, one row per unit, the
bureau's own records (局本级), total."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from projects.models import Project
from projects.services import progress_record
from promo.reports.choices import BulletinKind
from promo.reports.exports import bulletin_export_xlsx
from promo.reports.models import BulletinAmendmentCause
from promo.reports.services import bulletin_generate, bulletin_publish
from tests.reports.seed import START, TODAY, build_october

pytestmark = pytest.mark.django_db


@pytest.fixture
def sheet_of():
    def read(bulletin):
        data = bulletin_export_xlsx(bulletin=bulletin)
        assert data[:2] == b"PK"  # a zip container, as every XLSX is
        return load_workbook(BytesIO(data)).active

    return read


@pytest.fixture
def bulletin(bureau):
    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)
        return bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)


def row_values(ws, row):
    return [cell.value for cell in ws[row]]


def test_xlsx_has_the_official_title_and_two_header_rows(bulletin, sheet_of):
    ws = sheet_of(bulletin)
    assert ws["A1"].value == "市投资促进局招商引资工作月度通报（2026年10月）"
    assert "A1:U1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value.startswith("统计期间：2026-10-01 至 2026-10-31")
    assert row_values(ws, 3)[:8] == [
        "序号",
        "单位",
        "在手信息",
        "在谈项目",
        "来区客商",
        "新签约项目",
        None,  # merged under 新签约项目
        None,
    ]
    assert row_values(ws, 4)[5:9] == ["个数", "总投资(万元)", "千万元以上", "亿元以上"]
    assert ws["P3"].value == "新入统企业" and ws["Q3"].value == "新入规企业"
    # The year-to-date completion is labelled as such, apart from the month's figures.
    assert ws["R3"].value == "本年累计" and ws["R4"].value == "签约额目标完成率(%)"
    assert ws["T3"].value == "排名"


def test_xlsx_has_one_row_per_unit_then_the_total_with_numbers_formatted(bulletin, sheet_of):
    ws = sheet_of(bulletin)
    shanghai, shenzhen, department, own, total = (row_values(ws, r) for r in range(5, 10))
    # 序号, 单位, 在手, 在谈, 来区客商, 签约个数, 签约额, 千万, 亿元, 开工个数, 开工额, 竣工, 投产,
    # 到账外资, 有效信息, 新入统, 新入规, 目标完成率, 去年同期签约额, 排名, 更正
    assert shanghai[:17] == [1, "上海办事处", 2, 1, 2, 1, 12000, 1, 1, 1, 3000, 0, 0, 190, 2, 1, 0]
    assert shanghai[17:] == [30.0, 2000.0, 1, None]
    assert shenzhen[:17] == [2, "深圳办事处", 1, 1, 2, 1, 800, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1]
    assert shenzhen[17:] == [58.0, 0.0, 2, None]
    assert department[:2] == [3, "市发改委"] and department[19] == 3
    assert own[:3] == [None, "局本级", 1] and own[19] is None  # not numbered, not ranked
    assert total[:17] == [None, "合计", 4, 2, 3, 2, 12800, 1, 1, 1, 3000, 1, 1, 190, 4, 1, 1]
    assert ws.cell(row=5, column=7).number_format == "#,##0.00"
    assert ws.cell(row=5, column=3).number_format == "0"
    assert ws.cell(row=10, column=1).value is None  # nothing after the total row


def test_xlsx_of_a_published_bulletin_shows_amendments_beside_the_frozen_figures(
    bureau, bulletin, sheet_of
):
    with time_machine.travel(TODAY, tick=False) as clock:
        bulletin = bulletin_publish(bulletin=bulletin, actor=bureau.chief)
        clock.shift(3600)
        p2 = Project.objects.get(unit=bureau.shanghai_team)
        progress_record(
            project=p2,
            actor=bureau.sub_unit_officer,
            month=date(2026, 10, 1),
            agreed_investment=3000,
            paid_in=900,
            fixed_asset_investment=800,
            arrived_fdi=260,
        )
        bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    ws = sheet_of(bulletin)
    assert ws["A2"].value.endswith("（已发布）")
    assert ws.cell(row=5, column=14).value == 190  # the published figure
    # The figure, then the record that moved it, who, when and why.
    cause = BulletinAmendmentCause.objects.filter(amendment__line__unit=bureau.shanghai).get()
    at = f"{timezone.localtime(cause.changed_at):%Y-%m-%d %H:%M}"
    note = f"到账外资(万美元)：190→200：项目「{p2.name}」 150 → 160（赵磊 {at}：填报月度投资进度）"
    assert ws.cell(row=5, column=21).value == note
    assert ws.cell(row=6, column=21).value is None
    assert ws.cell(row=8, column=21).value is None  # 局本级: no FDI of its own
    assert ws.cell(row=9, column=21).value == note
