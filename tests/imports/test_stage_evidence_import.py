"""A ledger cannot carry the evidence the bureau requires for a stage (issue #15, finding 9):
a row that would move a project into such a stage is refused at the dry run, on its column,
while the other rows are checked as usual."""

from __future__ import annotations

import pytest

from projects.choices import Stage
from projects.models import Project, StageEvidenceRule
from projects.services import project_advance
from promo.imports.choices import BatchStatus, ImportKind, RowAction
from promo.imports.services import batch_check, batch_commit, batch_confirm, batch_upload
from tests.factories import make_project, stage_evidence
from tests.imports.files import xlsx

pytestmark = pytest.mark.django_db

HEADER = ["项目名称", "投资方", "总投资(万元)", "签约时间", "开工时间", "竣工时间"]


def checked(actor, rows):
    batch = batch_upload(
        actor=actor, data=xlsx(rows), file_name="台账.xlsx", kind=ImportKind.PROJECTS
    )
    return batch_check(batch=batch)


def test_a_row_with_a_groundbreaking_date_is_refused_and_the_others_go_on(bureau):
    me = bureau.shanghai_officer
    rows = [
        HEADER,
        ["甲项目", "甲公司", "800", "2023-05-06", "2023-08-01", ""],
        ["乙项目", "乙公司", "900", "2023-05-06", "", ""],
    ]
    batch = checked(me, rows)
    assert (batch.error_count, batch.created_count) == (1, 1)
    row = batch.rows.get(action=RowAction.ERROR)
    assert row.row_number == 2
    error = row.errors[0]
    assert error["column"] == "开工时间"
    assert "施工许可证、开工报告" in error["message"] and "导入不能附文件" in error["message"]
    assert not Project.objects.exists()


def test_a_date_the_project_already_has_moves_nothing_and_passes(bureau):
    me = bureau.shanghai_officer
    project = make_project(me, name="丙项目")
    project_advance(
        project=project,
        actor=me,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=project.contract_date,
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    rows = [
        HEADER,
        [
            "丙项目",
            project.investor.name,
            str(project.total_investment),
            project.contract_date.isoformat(),
            project.contract_date.isoformat(),
            "",
        ],
    ]
    batch = checked(me, rows)
    assert batch.error_count == 0, list(batch.rows.values("errors"))
    # But a 竣工 date the project does not have yet needs its acceptance papers.
    rows[1][5] = project.contract_date.isoformat()
    batch = checked(me, rows)
    assert batch.error_count == 1
    assert batch.rows.get().errors[0]["column"] == "竣工时间"


def test_with_the_rule_switched_off_the_ledger_moves_the_project(bureau):
    me = bureau.shanghai_officer
    StageEvidenceRule.objects.filter(stage=Stage.GROUNDBREAKING).update(active=False)
    rows = [HEADER, ["甲项目", "甲公司", "800", "2023-05-06", "2023-08-01", ""]]
    batch = checked(me, rows)
    assert batch.error_count == 0
    batch_confirm(batch=batch, actor=me)
    assert batch_commit(batch=batch).status == BatchStatus.COMMITTED
    assert Project.objects.get().stage == Stage.GROUNDBREAKING
