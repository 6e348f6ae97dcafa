"""Re-importing an edited ledger updates leads and visits through their services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leads.choices import LeadStatus, VisitKind
from leads.models import Investor, Lead, Visit
from promo.imports.choices import BatchStatus, ImportKind, RowAction
from tests.factories import make_lead
from tests.imports.files import csv_bytes, xlsx
from tests.imports.test_import import checked, commit

pytestmark = pytest.mark.django_db

LEADS = [["编号", "项目名称", "投资方", "总投资(万元)", "行业", "项目概况"]] + [
    [f"L-{i:03d}", f"第{i}号产业园", f"第{i}号精密机械有限公司", 1000 + i, "高端装备", "厂房"]
    for i in range(1, 6)
]
VISITS = [["编号", "走访日期", "走访类型", "客商名称", "洽谈内容", "下一步"]] + [
    [f"V-{i:03d}", f"2024-03-{i:02d}", "拜访", f"第{i}号精密机械有限公司", f"第{i}次洽谈", ""]
    for i in range(1, 6)
]


def _history(model) -> int:
    return model.pgh_event_model.objects.count()


def _imported(actor, rows, kind):
    batch = commit(checked(actor, xlsx(rows), kind), actor)
    assert batch.status == BatchStatus.COMMITTED, batch.message
    return batch


def test_an_edited_leads_ledger_updates_the_leads_instead_of_duplicating(client, bureau):
    me = bureau.shanghai_officer
    _imported(me, LEADS, ImportKind.LEADS)
    assert Lead.objects.count() == 5
    edited = [row[:] for row in LEADS]
    edited[2][1] = "第2号产业园二期"
    edited[2][3] = "2.5亿元"
    edited[4][5] = "厂房及研发中心"
    batch = checked(me, xlsx(edited), ImportKind.LEADS, "台账二.xlsx")
    assert (batch.updated_count, batch.unchanged_count, batch.created_count) == (2, 3, 0)
    row = batch.rows.get(row_number=3)
    assert row.action == RowAction.UPDATE
    assert {c["column"] for c in row.changes} == {"项目名称", "总投资(万元)"}
    client.force_login(me)
    page = client.get(f"/imports/{batch.pk}/?action=update").content.decode()
    assert "更新 2" in page and "「总投资(万元)」1002.00 → 25000" in page
    before = _history(Lead)
    commit(batch, me)
    assert Lead.objects.count() == 5 and Investor.objects.count() == 5
    lead = Lead.objects.get(external_id="L-002")
    assert (lead.name, lead.estimated_amount) == ("第2号产业园二期", Decimal("25000.00"))
    assert Lead.objects.get(external_id="L-004").description == "厂房及研发中心"
    assert _history(Lead) == before + 2
    for event in Lead.pgh_event_model.objects.order_by("-pgh_id")[:2]:
        assert event.pgh_context.metadata["why"] == f"import:{batch.pk}:台账二.xlsx"
        assert event.pgh_context.metadata["user"] == me.pk
    assert set(batch.rows.filter(action=RowAction.UPDATE).values_list("record_pk", flat=True)) == {
        lead.pk,
        Lead.objects.get(external_id="L-004").pk,
    }


def test_an_unchanged_reimport_writes_nothing(bureau):
    me = bureau.shanghai_officer
    _imported(me, LEADS, ImportKind.LEADS)
    _imported(me, VISITS, ImportKind.VISITS)
    counts = (_history(Lead), _history(Visit), _history(Investor))
    for rows, kind in ((LEADS, ImportKind.LEADS), (VISITS, ImportKind.VISITS)):
        batch = checked(me, csv_bytes(rows, encoding="gb18030"), kind, "again.csv")
        assert (batch.unchanged_count, batch.total_rows) == (5, 5), list(
            batch.rows.values("action", "changes", "errors")
        )
        commit(batch, me)
    assert (_history(Lead), _history(Visit), _history(Investor)) == counts
    assert (Lead.objects.count(), Visit.objects.count()) == (5, 5)


def test_a_lead_row_matched_by_name_updates_and_a_status_difference_is_an_error(bureau):
    me = bureau.shanghai_officer
    lead = make_lead(me, name="华鑫产业园", amount=3000, status=LeadStatus.VALID)
    investor = lead.investor.name
    rows = [
        ["项目名称", "投资方", "总投资(万元)", "状态"],
        ["华鑫产业园", investor, "3500", "有效"],
    ]
    batch = checked(me, xlsx(rows), ImportKind.LEADS)
    assert batch.updated_count == 1
    assert "投资方+项目名称" in batch.rows.get().match_note
    rows[1][3] = "在谈"
    batch = checked(me, xlsx(rows), ImportKind.LEADS)
    row = batch.rows.get()
    assert row.action == RowAction.ERROR and row.errors[0]["column"] == "状态"
    assert "不能变更状态" in row.errors[0]["message"]
    lead.refresh_from_db()
    assert (lead.status, lead.estimated_amount) == (LeadStatus.VALID, Decimal("3000.00"))


def test_an_outsiders_batch_cannot_update_another_units_lead(bureau):
    me = bureau.shanghai_officer
    _imported(me, LEADS, ImportKind.LEADS)
    before = _history(Lead)
    edited = [row[:] for row in LEADS[:2]]
    edited[1][3] = "9999"
    batch = checked(bureau.outsider, xlsx(edited), ImportKind.LEADS)
    row = batch.rows.get()
    assert row.action == RowAction.ERROR
    # the row names the holding unit, never the lead's figures (issue #13)
    assert row.errors[0]["column"] == "项目名称" and row.changes == []
    assert "已被其他单位登记：上海办事处" in row.errors[0]["message"]
    assert batch.updated_count == 0
    assert Lead.objects.get(external_id="L-001").estimated_amount == Decimal("1001.00")
    assert _history(Lead) == before


def test_an_edited_visits_ledger_updates_the_visits_and_the_leads_dates(bureau):
    me = bureau.shanghai_officer
    _imported(me, LEADS, ImportKind.LEADS)
    rows = [[*row, "第1号产业园" if i == 1 else ""] for i, row in enumerate(VISITS)]
    rows[0][-1] = "项目名称"
    _imported(me, rows, ImportKind.VISITS)
    lead = Lead.objects.get(external_id="L-001")
    assert (lead.first_inspection_on, str(lead.last_activity_on)) == (None, "2024-03-01")
    edited = [row[:] for row in rows]
    edited[1][1] = "2024-03-09"
    edited[1][2] = "实地考察"
    edited[1][4] = "考察厂房并洽谈"
    edited[2][5] = "寄送方案"
    before = _history(Visit)
    batch = checked(me, xlsx(edited), ImportKind.VISITS, "走访二.xlsx")
    assert (batch.updated_count, batch.unchanged_count, batch.created_count) == (2, 3, 0)
    changed = {c["field"] for c in batch.rows.get(row_number=2).changes}
    assert changed == {"visited_on", "kind", "summary"}
    commit(batch, me)
    assert Visit.objects.count() == 5 and _history(Visit) == before + 2
    visit = Visit.objects.get(external_id="V-001")
    assert (str(visit.visited_on), visit.kind, visit.summary) == (
        "2024-03-09",
        VisitKind.INSPECTION,
        "考察厂房并洽谈",
    )
    assert Visit.objects.get(external_id="V-002").next_step == "寄送方案"
    event = Visit.pgh_event_model.objects.filter(pgh_obj_id=visit.pk).order_by("pgh_id").last()
    assert event.pgh_context.metadata["why"] == f"import:{batch.pk}:走访二.xlsx"
    lead.refresh_from_db()
    assert (str(lead.first_inspection_on), str(lead.last_activity_on)) == (
        "2024-03-09",
        "2024-03-09",
    )


def test_an_outsiders_visit_batch_cannot_update_another_units_visit(bureau):
    me = bureau.shanghai_officer
    _imported(me, VISITS, ImportKind.VISITS)
    edited = [row[:] for row in VISITS[:2]]
    edited[1][5] = "改写"
    batch = checked(bureau.outsider, xlsx(edited), ImportKind.VISITS)
    row = batch.rows.get()
    assert row.action == RowAction.ERROR and row.changes == []
    assert "已被其他单位登记：上海办事处" in row.errors[0]["message"]
    assert Visit.objects.get(external_id="V-001").next_step == ""


def _lead_row(i: int) -> list:
    return [
        f"L-{i:03d}",
        f"第{i}号产业园",
        f"第{i}号精密机械有限公司",
        1000 + i,
        "高端装备",
        "厂房",
    ]


def _visit_row(i: int) -> list:
    day = f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}"
    return [f"V-{i:03d}", day, "拜访", f"第{i}号精密机械有限公司", f"第{i}次洽谈", ""]


@pytest.mark.parametrize(
    "kind,header,make",
    [(ImportKind.LEADS, LEADS[0], _lead_row), (ImportKind.VISITS, VISITS[0], _visit_row)],
)
def test_the_check_of_a_reimport_costs_the_same_queries_for_5_or_40_rows(
    bureau, kind, header, make
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from promo.imports.services import batch_check, batch_upload

    me = bureau.shanghai_officer
    rows = [header] + [make(i) for i in range(1, 41)]
    _imported(me, rows, kind)

    def queries(some):
        batch = batch_upload(actor=me, data=xlsx(some), file_name="again.xlsx", kind=kind)
        with CaptureQueriesContext(connection) as context:
            batch = batch_check(batch=batch)
        assert batch.unchanged_count == len(some) - 1, list(batch.rows.values("errors"))
        return len(context)

    assert queries(rows[:6]) == queries(rows)


def test_an_intermediary_lead_updates_but_a_lead_cannot_become_one_without_its_intermediary(
    bureau,
):
    from leads.choices import IntermediaryKind, SourceChannel
    from leads.models import Intermediary

    me = bureau.shanghai_officer
    agent = Intermediary.objects.create(
        name="李顾问", kind=IntermediaryKind.PERSON, unit=bureau.shanghai
    )
    referred = make_lead(
        me, name="甲项目", source_channel=SourceChannel.INTERMEDIARY, intermediary=agent
    )
    plain = make_lead(me, name="乙项目")
    rows = [
        ["项目名称", "投资方", "总投资(万元)", "信息来源"],
        ["甲项目", referred.investor.name, "7000", "中介招商"],
        ["乙项目", plain.investor.name, "5000", "中介招商"],
    ]
    batch = checked(me, xlsx(rows), ImportKind.LEADS)
    assert batch.rows.get(row_number=2).action == RowAction.UPDATE
    error = batch.rows.get(row_number=3)
    assert error.action == RowAction.ERROR and error.errors[0]["column"] == "信息来源"
    assert "中介人" in error.errors[0]["message"]
