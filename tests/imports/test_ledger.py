"""The realistic messy ledger (tests/imports/ledgers.py) through the dry run and the commit.

What the browser walk (tests/browser/test_import_walk.py) shows a new user, checked here row
by row and without a browser: every error named by row, column and reason; the projects
already in the system found under their slightly different investor names; the fixed file,
as XLSX and as the GB18030 CSV Chinese Excel writes, reads the same.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from projects.models import Project
from promo.core.services import today
from promo.imports.choices import BatchStatus, ImportKind, RowAction
from tests.factories import make_investor, make_lead, sign_lead
from tests.imports.ledgers import Known, project_ledger
from tests.imports.test_import import checked, commit

# The bureau's messy ledger of signed projects carries 开工时间 without files: loaded with the
# stage evidence rules switched off (issue #15; tests/imports/test_stage_evidence_import.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_rules_off")]

ROWS = 600


def seed_known(me) -> tuple[list[Known], list[Known]]:
    """Three projects already in the system; the ledger writes their investors differently."""
    signed = today() - timedelta(days=30)
    known, similar = [], []
    for investor, project, written, amount, ledger_amount, bucket in (
        # 有限公司 vs 有限责任公司, full-width brackets: the same company, found by its name.
        ("紫光微电子有限公司", "紫光微电子封测基地(一期)", "紫光微电子（上海）有限责任公司",
         150000, 150000, known),
        ("金陵精工机械有限责任公司", "金陵精工智能装备产业园", "金陵精工机械有限公司",
         30000, 36000, known),
        # Another city's name for what may be the same company: a likely duplicate.
        ("昆山德赛电子有限公司", "德赛电子传感器项目", "苏州德赛电子有限公司",
         8000, 8000, similar),
    ):  # fmt: skip
        lead = make_lead(me, investor=make_investor(me, name=investor), name=project,
                         status="negotiating")  # fmt: skip
        sign_lead(me, lead, contract_date=signed, amount=amount)
        name = project.replace("(", "（").replace(")", "）")
        bucket.append(Known(investor=written, name=name, contract_date=signed, total=ledger_amount))
    return known, similar


def test_the_messy_ledger_lists_every_error_by_row_column_and_reason(bureau):
    me = bureau.shanghai_officer
    known, similar = seed_known(me)
    ledger = project_ledger(ROWS, known=known, similar=similar)
    batch = checked(me, ledger.xlsx(), ImportKind.PROJECTS, "2024年签约项目台账.xlsx")
    assert batch.status == BatchStatus.CHECKED, batch.message
    assert batch.total_rows == ROWS
    # The 合计 row (a SUM formula) and the notes under the table are not data, and it says so.
    skipped = "、".join(str(n) for n in ledger.footer_rows)
    assert f"第 {skipped} 行是合计行或表格下方的说明，不是数据，未导入（共 3 行）" in batch.message
    # The title and 填报单位 rows above the header are skipped, the header found on row 3.
    assert batch.headers[1:3] == ["项目名称", "投资方（企业名称）"]
    assert set(batch.columns.values()) >= {
        "name", "investor", "industry", "total_investment", "contract_date",
        "groundbreaking_actual", "park_name", "unit",
    }  # fmt: skip
    errors = {row.row_number: row.errors for row in batch.rows.filter(action=RowAction.ERROR)}
    assert set(errors) == set(ledger.errors), errors
    for number, (column, reason) in ledger.errors.items():
        assert [e["column"] for e in errors[number]] == [column], errors[number]
        assert reason in errors[number][0]["message"], errors[number]
    rows = {row.row_number: row for row in batch.rows.filter(row_number__in=ledger.known_rows)}
    assert sorted(r.action for r in rows.values()) == [RowAction.UNCHANGED, RowAction.UPDATE]
    assert all("投资方+项目名称" in r.match_note for r in rows.values())
    assert [r.action for r in batch.rows.filter(row_number__in=ledger.similar_rows)] == [
        RowAction.DUPLICATE
    ]
    assert batch.created_count == ROWS - 5 - 3
    assert Project.objects.count() == 3


def test_the_fixed_ledger_as_gb18030_csv_reads_like_the_xlsx_and_reimports_as_unchanged(bureau):
    me = bureau.shanghai_officer
    known, similar = seed_known(me)
    fixed = project_ledger(ROWS, known=known, similar=similar).fixed()
    from_xlsx = checked(me, fixed.xlsx(), ImportKind.PROJECTS)
    from_csv = checked(me, fixed.gb18030_csv(), ImportKind.PROJECTS, "台账.csv")
    for batch in (from_xlsx, from_csv):
        assert batch.status == BatchStatus.CHECKED, batch.message
        assert "是合计行或表格下方的说明" in batch.message
        assert (batch.error_count, batch.duplicate_count, batch.updated_count) == (0, 1, 1)
        assert batch.created_count == ROWS - 3
    values = lambda b: list(b.rows.order_by("row_number").values_list("action", "values"))  # noqa: E731
    assert values(from_xlsx) == values(from_csv)

    commit(from_xlsx, me, confirm_distinct=True)
    assert Project.objects.count() == ROWS + 3 - 2
    project = Project.objects.get(name="金陵精工智能装备产业园")
    assert project.total_investment == Decimal("36000")

    again = checked(me, fixed.gb18030_csv(), ImportKind.PROJECTS, "台账.csv")
    assert (again.unchanged_count, again.total_rows) == (ROWS, ROWS), list(
        again.rows.exclude(action=RowAction.UNCHANGED).values("row_number", "action", "errors")[:5]
    )
