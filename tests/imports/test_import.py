"""Dry run, then all-or-nothing commit through the services; re-imports update, never duplicate."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from leads.models import Investor, Lead, Visit
from projects.choices import Stage
from projects.models import Project
from promo.core.errors import RuleViolation
from promo.imports.choices import BatchStatus, ImportKind, RowAction
from promo.imports.models import ImportRow
from promo.imports.services import batch_check, batch_commit, batch_confirm, batch_upload
from promo.imports.tasks import run_import
from tests.factories import make_investor, make_lead
from tests.imports.files import csv_bytes, xlsx

pytestmark = pytest.mark.django_db

CODE = "91320500MA1XXXXXX0"  # replaced below by a valid one


def valid_code() -> str:
    from leads.normalize import is_valid_credit_code

    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    base = "91320594MA1MRK7Q5"
    for ch in alphabet:
        if is_valid_credit_code(base + ch):
            return base + ch
    raise AssertionError


def checked(actor, data, kind, name="台账.xlsx", **kwargs):
    batch = batch_upload(actor=actor, data=data, file_name=name, kind=kind, **kwargs)
    return batch_check(batch=batch)


def commit(batch, actor, **kwargs):
    batch_confirm(batch=batch, actor=actor, **kwargs)
    return batch_commit(batch=batch)


INVESTORS = [
    ["客商名称", "统一社会信用代码", "行业", "国别/地区", "联系人", "联系电话"],
    ["苏州华鑫电子有限公司", "", "电子信息", "境内", "王经理", "13800000000"],
    ["东莞宏达新材料股份有限公司", "", "新材料", "国内", "", ""],
]


def test_dry_run_writes_nothing_and_says_what_each_row_will_do(bureau):
    me = bureau.shanghai_officer
    batch = checked(me, xlsx(INVESTORS), ImportKind.INVESTORS)
    assert batch.status == BatchStatus.CHECKED
    assert (batch.total_rows, batch.created_count, batch.error_count) == (2, 2, 0)
    assert not Investor.objects.exists()


def test_commit_creates_through_the_service_with_history_naming_the_import(bureau):
    me = bureau.shanghai_officer
    batch = commit(checked(me, xlsx(INVESTORS), ImportKind.INVESTORS), me)
    assert batch.status == BatchStatus.COMMITTED
    investor = Investor.objects.get(normalized_name="苏州华鑫电子")
    assert investor.unit == bureau.shanghai and investor.created_by == me
    assert investor.contacts.get().phone == "13800000000"
    event = investor.events.get(pgh_label="insert")
    assert event.pgh_context.metadata["why"] == f"import:{batch.pk}:台账.xlsx"
    assert event.pgh_context.metadata["user"] == me.pk
    assert set(batch.rows.values_list("record_pk", flat=True)) == set(
        Investor.objects.values_list("pk", flat=True)
    )


def test_reimporting_the_same_file_changes_nothing(bureau):
    me = bureau.shanghai_officer
    commit(checked(me, xlsx(INVESTORS), ImportKind.INVESTORS), me)
    again = checked(me, csv_bytes(INVESTORS, encoding="gb18030"), ImportKind.INVESTORS, "台账.csv")
    assert (again.unchanged_count, again.created_count) == (2, 0)
    commit(again, me)
    assert Investor.objects.count() == 2


def test_reimporting_an_edited_file_updates_instead_of_duplicating(bureau):
    me = bureau.shanghai_officer
    commit(checked(me, xlsx(INVESTORS), ImportKind.INVESTORS), me)
    edited = [row[:] for row in INVESTORS]
    edited[1][2] = "数字经济"
    edited[1][1] = valid_code()
    batch = checked(me, xlsx(edited), ImportKind.INVESTORS)
    assert (batch.updated_count, batch.unchanged_count, batch.created_count) == (1, 1, 0)
    row = batch.rows.get(action=RowAction.UPDATE)
    assert {c["field"] for c in row.changes} == {"industry", "credit_code"}
    commit(batch, me)
    investor = Investor.objects.get(normalized_name="苏州华鑫电子")
    assert (investor.industry, investor.credit_code) == ("digital", valid_code())
    assert Investor.objects.count() == 2


def test_a_likely_duplicate_is_flagged_and_needs_confirmation(bureau):
    me = bureau.shanghai_officer
    make_investor(bureau.outsider, name="华鑫电子有限公司")
    batch = checked(me, xlsx(INVESTORS), ImportKind.INVESTORS)
    assert batch.duplicate_count == 1
    row = batch.rows.get(action=RowAction.DUPLICATE)
    assert "华鑫电子有限公司" in row.match_note and "深圳办事处" in row.match_note
    with pytest.raises(RuleViolation):
        batch_confirm(batch=batch, actor=me)
    assert commit(batch, me, confirm_distinct=True).status == BatchStatus.COMMITTED


def test_errors_name_row_column_and_reason_and_block_the_commit(bureau):
    me = bureau.shanghai_officer
    rows = [
        ["项目名称", "投资方", "总投资(万元)", "签约时间", "开工时间", "责任单位"],
        ["甲项目", "甲公司", "-100", "2023.5.6", "", ""],
        ["乙项目", "乙公司", "1200万元", "去年五月", "", ""],
        ["丙项目", "丙公司", "800", "2023年5月6日", "2023/5/1", ""],
        ["丁项目", "丁公司", "800", 45052, "", "不存在的办事处"],
        ["戊项目", "戊公司", "800", "2023-05-06", "", "深圳办事处"],
        ["己项目", "己公司", 800, "2023-05-06", "", "上海办事处"],
    ]
    batch = checked(me, xlsx(rows), ImportKind.PROJECTS)
    assert (batch.error_count, batch.created_count) == (5, 1)
    errors = {r.row_number: r.errors[0] for r in batch.rows.filter(action=RowAction.ERROR)}
    assert errors[2]["column"] == "总投资(万元)" and "负数" in errors[2]["message"]
    assert errors[3]["column"] == "签约时间" and "无法识别日期" in errors[3]["message"]
    assert errors[4]["column"] == "开工时间" and "顺序" in errors[4]["message"]
    assert errors[5]["column"] == "责任单位" and "不存在" in errors[5]["message"]
    assert errors[6]["column"] == "责任单位" and "不能为单位" in errors[6]["message"]
    with pytest.raises(RuleViolation):
        batch_confirm(batch=batch, actor=me)
    assert not Project.objects.exists()


def test_projects_commit_with_actual_dates_advance_through_the_stage_service(
    bureau, evidence_rules_off
):
    me = bureau.shanghai_officer
    rows = [
        ["项目名称", "投资方", "总投资(万元)", "签约时间", "开工时间", "竣工时间", "计划投产"],
        [
            "华鑫产业园",
            "苏州华鑫电子有限公司",
            "12000",
            "2023-05-06",
            "2023-08-01",
            "2024-06-01",
            "2025-01-01",
        ],
    ]
    batch = commit(checked(me, xlsx(rows), ImportKind.PROJECTS), me)
    assert batch.status == BatchStatus.COMMITTED, batch.message
    project = Project.objects.get()
    assert project.stage == Stage.COMPLETED
    assert project.total_investment == Decimal("12000")
    assert project.stage_events.count() == 3
    # The edited ledger raises the investment: figures change through project_update_figures.
    rows[1][2] = "1.5亿元"
    again = checked(me, xlsx(rows), ImportKind.PROJECTS)
    assert again.updated_count == 1
    commit(again, me)
    project.refresh_from_db()
    assert project.total_investment == Decimal("15000") and Project.objects.count() == 1


def test_all_or_nothing_when_a_service_refuses_a_row_at_commit(bureau):
    me = bureau.shanghai_officer
    rows = [["项目名称", "投资方", "总投资"], ["甲", "甲公司", "100"], ["乙", "乙公司", "200"]]
    batch = checked(me, xlsx(rows), ImportKind.LEADS)
    assert batch.created_count == 2
    # Between the dry run and the commit another unit starts following 乙公司 (防撞单).
    make_lead(bureau.outsider, investor=make_investor(bureau.outsider, name="乙公司"))
    batch = commit(batch, me)
    assert batch.status == BatchStatus.REFUSED
    assert "第 3 行" in batch.message and "没有写入任何数据" in batch.message
    assert not Lead.objects.filter(unit=bureau.shanghai).exists()
    assert not Investor.objects.filter(name="甲公司").exists()


def test_visits_import_links_lead_and_new_investor_once(bureau):
    me = bureau.shanghai_officer
    lead = make_lead(me, investor=make_investor(me, name="华鑫电子有限公司"), name="华鑫产业园")
    rows = [
        ["走访日期", "走访类型", "客商名称", "项目名称", "洽谈内容"],
        ["2024年3月1日", "实地考察", "华鑫电子有限公司", "华鑫产业园", "考察厂房"],
        ["2024/3/2", "接待", "宏达新材料", "", "来访洽谈"],
        ["2024.3.3", "电话", "宏达新材料", "", "电话沟通"],
    ]
    batch = commit(
        checked(me, csv_bytes(rows, encoding="gb18030"), ImportKind.VISITS, "走访.csv"), me
    )
    assert batch.status == BatchStatus.COMMITTED, batch.message
    assert Visit.objects.count() == 3
    assert Investor.objects.filter(normalized_name="宏达新材料").count() == 1
    lead.refresh_from_db()
    assert lead.first_inspection_on.isoformat() == "2024-03-01"
    again = checked(me, csv_bytes(rows), ImportKind.VISITS, "走访.csv")
    assert again.unchanged_count == 3


def test_formula_without_value_is_an_error_on_its_cell(bureau):
    me = bureau.shanghai_officer
    rows = [["项目名称", "投资方", "总投资(万元)"], ["甲", "甲公司", "=100*2"]]
    batch = checked(me, xlsx(rows), ImportKind.LEADS)
    row = ImportRow.objects.get(batch=batch)
    assert row.action == RowAction.ERROR and "公式" in row.errors[0]["message"]


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "空"),
        (b"\x00\xff" * 1000, "无法识别"),
    ],
)
def test_bad_files_are_refused_at_upload_and_nothing_is_stored(bureau, data, message):
    with pytest.raises(RuleViolation, match=message):
        batch_upload(
            actor=bureau.shanghai_officer, data=data, file_name="x.csv", kind=ImportKind.LEADS
        )


@override_settings(PROMO_IMPORT_MAX_BYTES=1024)
def test_oversized_file_is_refused_before_reading(bureau):
    with pytest.raises(RuleViolation, match="过大"):
        batch_upload(
            actor=bureau.shanghai_officer,
            data=b"a" * 2048,
            file_name="x.csv",
            kind=ImportKind.LEADS,
        )


def test_a_file_without_the_required_columns_fails_with_their_names(bureau):
    batch = checked(
        bureau.shanghai_officer,
        xlsx([["投资方", "行业"], ["甲公司", "电子信息"]]),
        ImportKind.LEADS,
    )
    assert batch.status == BatchStatus.FAILED and "项目名称" in batch.message


def test_run_import_is_idempotent_and_commits_only_after_confirmation(bureau):
    me = bureau.shanghai_officer
    batch = batch_upload(
        actor=me, data=xlsx(INVESTORS), file_name="a.xlsx", kind=ImportKind.INVESTORS
    )
    assert run_import(batch.pk) == BatchStatus.CHECKED
    assert run_import(batch.pk) == BatchStatus.CHECKED  # not confirmed: nothing written
    assert not Investor.objects.exists()
    batch_confirm(batch=batch, actor=me)
    assert run_import(batch.pk) == BatchStatus.COMMITTED
    assert run_import(batch.pk) == BatchStatus.COMMITTED
    assert Investor.objects.count() == 2


def test_every_record_of_a_long_commit_names_the_import_across_history_contexts(
    bureau, monkeypatch
):
    import pghistory.models

    monkeypatch.setattr("promo.imports.services._ROWS_PER_CONTEXT", 2)
    me = bureau.shanghai_officer
    rows = [["客商名称", "行业"]] + [[f"第{i}号精密机械有限公司", "高端装备"] for i in range(5)]
    batch = commit(checked(me, xlsx(rows), ImportKind.INVESTORS), me)
    assert batch.status == BatchStatus.COMMITTED
    contexts = pghistory.models.Context.objects.filter(
        metadata__why=f"import:{batch.pk}:台账.xlsx", metadata__user=me.pk
    )
    assert contexts.count() == 3
    for investor in Investor.objects.all():
        assert investor.events.get(pgh_label="insert").pgh_context in contexts
