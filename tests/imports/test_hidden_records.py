"""An import names only records the importer may see (issue #13, finding 2).

A ledger that reuses another unit's credit code, or an investor + lead name another unit
follows, must not make the dry run show that record (its name, region, amount, description,
status): the API answers 404 for it. The preview says it is held by another unit, and which.
"""

from __future__ import annotations

import json

import pytest

from leads.choices import LeadStatus
from promo.core.choices import Region
from promo.imports.choices import ImportKind, RowAction
from tests.factories import make_investor, make_lead
from tests.imports.files import xlsx
from tests.imports.test_import import checked, valid_code

pytestmark = pytest.mark.django_db

HELD = "已被其他单位登记"


def _everything_shown(client, officer, batch) -> str:
    """The preview page (every filter) and the batch rows as stored, as one text."""
    client.force_login(officer)
    pages = [client.get(f"/imports/{batch.pk}/").content.decode()]
    for action in RowAction.values:
        pages.append(client.get(f"/imports/{batch.pk}/?action={action}").content.decode())
    rows = [
        json.dumps(
            {"errors": r.errors, "changes": r.changes, "note": r.match_note},
            ensure_ascii=False,
            default=str,
        )
        for r in batch.rows.all()
    ]
    return "\n".join(pages + rows)


def test_an_investor_ledger_reusing_another_units_credit_code_hides_that_investor(client, bureau):
    code = valid_code()
    make_investor(
        bureau.shanghai_officer,
        "上海隐秘精工有限公司",
        credit_code=code,
        region=Region.JAPAN,
        province_or_country="东京都港区",
        city="六本木",
    )
    rows = [
        ["客商名称", "统一社会信用代码", "行业", "国别/地区", "省份/国家"],
        ["深圳新客商电子有限公司", code, "电子信息", "境内", "广东"],
    ]
    batch = checked(bureau.outsider, xlsx(rows), ImportKind.INVESTORS)
    row = batch.rows.get()
    shown = _everything_shown(client, bureau.outsider, batch)
    for secret in ("上海隐秘精工", "东京都港区", "六本木", "日本", "japan"):
        assert secret not in shown
    assert row.changes == [] and row.matched_pk is None
    assert HELD in shown and bureau.shanghai.name in shown


def test_a_lead_ledger_naming_another_units_lead_hides_its_figures_and_status(client, bureau):
    investor = make_investor(bureau.shanghai_officer, "上海宏图精密机械有限公司")
    make_lead(
        bureau.shanghai_officer,
        investor=investor,
        name="宏图智造产业园",
        amount=87654,
        description="绝密厂房扩建方案",
        status=LeadStatus.NEGOTIATING,
    )
    rows = [
        ["项目名称", "投资方", "总投资(万元)", "项目概况", "状态"],
        ["宏图智造产业园", "上海宏图精密机械有限公司", "100", "深圳的说法", "信息"],
    ]
    batch = checked(bureau.outsider, xlsx(rows), ImportKind.LEADS)
    row = batch.rows.get()
    shown = _everything_shown(client, bureau.outsider, batch)
    for secret in ("87654", "绝密厂房扩建方案", "在谈", str(LeadStatus.NEGOTIATING.label)):
        assert secret not in shown
    assert row.action == RowAction.ERROR and row.changes == [] and row.matched_pk is None
    assert HELD in shown and bureau.shanghai.name in shown


def test_the_holding_unit_still_sees_its_own_records_differences(bureau):
    code = valid_code()
    make_investor(bureau.shanghai_officer, "上海隐秘精工有限公司", credit_code=code)
    rows = [
        ["客商名称", "统一社会信用代码", "行业"],
        ["上海隐秘精工新名有限公司", code, "电子信息"],
    ]
    batch = checked(bureau.teammate, xlsx(rows), ImportKind.INVESTORS)
    row = batch.rows.get()
    assert row.action == RowAction.UPDATE and row.changes[0]["old"] == "上海隐秘精工有限公司"
