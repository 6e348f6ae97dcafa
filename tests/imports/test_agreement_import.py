"""Issue #20: the agreement ledger (协议履约台账) in the Excel import, one row per investor
commitment, matching the export that already existed.

The export re-imported unchanged changes nothing; a target edited in it is an update through
the agreements' service, on the record; a new ledger creates each agreement once and its
commitments; bad rows are errors on their row (in Chinese and in English) and nothing is
written; the project must exist and be the importer's to keep.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from leads.models import Investor
from officers.models import Officer
from projects.models import Project
from promo.agreements import services
from promo.agreements.models import Agreement, AgreementLog, Measurement, Promise, Term
from promo.core.errors import PermissionDenied
from promo.core.services import today
from promo.imports.choices import BatchStatus, RowAction
from promo.imports.models import ImportBatch
from promo.imports.services import batch_upload
from tests.factories import make_lead, make_project, sign_lead
from tests.imports.files import csv_bytes, xlsx
from tests.imports.test_import import checked, commit
from tests.web.test_i18n import compiled  # noqa: F401

pytestmark = pytest.mark.django_db

# The kind's value, spelled out: before issue #20 ImportKind had no such member.
KIND = "agreement_terms"
DAY = timedelta(days=1)


def _signed(officer: Officer, *, title: str = "年产10万台电机项目投资协议", **project) -> Agreement:
    """An agreement of ``officer``'s project with three commitments: money, land, a date."""
    project_obj = make_project(officer, contract_date=today() - 80 * DAY, **project)
    agreement = services.agreement_create(
        project=project_obj,
        actor=officer,
        kind="main",
        title=title,
        signed_on=today() - 80 * DAY,
        parties="甲方：某区人民政府；乙方：上海某电机有限公司",
    )
    for metric, target, due in (
        ("annual_tax", "500", today() + 300 * DAY),
        ("land", "120.5", today() + 200 * DAY),
        ("start_by", "0", today() + 100 * DAY),
    ):
        services.term_add(
            agreement=agreement, actor=officer, metric=metric, target=target, due_on=due
        )
    return agreement


def _history() -> tuple[int, int, int]:
    return (
        Agreement.pgh_event_model.objects.count(),
        Term.pgh_event_model.objects.count(),
        AgreementLog.objects.count(),
    )


def _export(client, fmt: str = "xlsx") -> bytes:
    response = client.get(reverse("imports:export", args=["agreement_terms", fmt]))
    assert response.status_code == 200
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


def _errors(batch) -> dict[int, list[dict[str, str]]]:
    return {row.row_number: row.errors for row in batch.rows.filter(action=RowAction.ERROR)}


HEADER = ["项目名称", "投资方", "协议名称", "协议类型", "签订日期", "签约各方", "追回规则",
          "承诺事项", "承诺值(万元)", "承诺期限", "承诺编号"]  # fmt: skip


def _row(project: Project, title: str, metric: str, target, due, *, ext="", **also):
    cells = {
        "项目名称": also.get("project_name", project.name),
        "投资方": also.get("investor", project.investor.name),
        "协议名称": title,
        "协议类型": also.get("kind", "主协议"),
        "签订日期": also.get("signed", (today() - 60 * DAY).isoformat()),
        "签约各方": also.get("parties", ""),
        "追回规则": also.get("rule", ""),
        "承诺事项": metric,
        "承诺值(万元)": target,
        "承诺期限": due,
        "承诺编号": ext,
    }
    return [cells[h] for h in HEADER]


# --- the round trip ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_export_reimported_unchanged_is_unchanged_on_every_row(bureau, client_for, fmt):
    me, head = bureau.shanghai_officer, bureau.shanghai_head
    agreement = _signed(me)
    tax = agreement.terms.get(metric="annual_tax")
    figure = services.measurement_record(
        term=tax, actor=me, measured_on=today(), value="200", source="税务部门"
    )
    services.measurement_verify(measurement=figure, actor=head)
    services.term_waive(term=agreement.terms.get(metric="land"), actor=head, reason="规划调整")
    data = _export(client_for(me), fmt)
    before = _history()
    batch = checked(me, data, KIND, f"协议履约台账.{fmt}")
    assert batch.status == BatchStatus.CHECKED, batch.message
    assert (batch.total_rows, batch.unchanged_count, batch.error_count) == (3, 3, 0), list(
        batch.rows.values("action", "errors", "changes")
    )
    assert {r.matched_pk for r in batch.rows.all()} == set(
        agreement.terms.values_list("pk", flat=True)
    )
    assert "按系统编号匹配" in batch.rows.first().match_note
    assert _history() == before and Agreement.objects.count() == 1


def test_a_target_edited_in_the_export_is_an_update_through_the_service(bureau, client_for):
    me = bureau.shanghai_officer
    agreement = _signed(me)
    tax = agreement.terms.get(metric="annual_tax")
    book = openpyxl.load_workbook(io.BytesIO(_export(client_for(me))))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[headers.index("系统编号")].value == tax.pk:
            row[headers.index("承诺值")].value = 650
    out = io.BytesIO()
    book.save(out)
    batch = checked(me, out.getvalue(), KIND, "改过的台账.xlsx")
    assert (batch.updated_count, batch.unchanged_count, batch.error_count) == (1, 2, 0)
    row = batch.rows.get(action=RowAction.UPDATE)
    assert row.changes == [
        {"field": "target", "column": "承诺值", "old": "500.00", "new": "650.00"}
    ]
    assert Term.objects.get(pk=tax.pk).target == Decimal("500.00")  # the dry run wrote nothing
    batch = commit(batch, me)
    assert batch.status == BatchStatus.COMMITTED, batch.message
    tax.refresh_from_db()
    assert tax.target == Decimal("650.00")
    entry = AgreementLog.objects.filter(agreement=agreement).latest("pk")
    assert (entry.what, entry.actor) == ("term_changed", me)
    assert "500" in entry.note and "650" in entry.note
    event = Term.pgh_event_model.objects.filter(pgh_obj_id=tax.pk).latest("pgh_id")
    assert event.target == Decimal("650.00")
    assert event.pgh_context.metadata["why"] == f"import:{batch.pk}:改过的台账.xlsx"
    assert event.pgh_context.metadata["user"] == me.pk
    # Nothing else moved: the other commitments, the agreement, no figure, no payment.
    assert set(agreement.terms.values_list("target", flat=True)) == {
        Decimal("650.00"),
        Decimal("120.50"),
        Decimal("0.00"),
    }
    assert not Measurement.objects.exists() and not Promise.objects.exists()


# --- a new ledger -------------------------------------------------------------------------


def test_a_new_ledger_creates_each_agreement_once_and_its_commitments(bureau):
    me = bureau.shanghai_officer
    motors = make_project(me, contract_date=today() - 90 * DAY)
    other = make_project(me, contract_date=today() - 90 * DAY)
    rows = [
        HEADER,
        _row(motors, "电机项目投资协议", "年税收", "1,200", "2028-12-31", ext="T-1",
             parties="甲方：区政府；乙方：电机公司", rule="全额追回"),
        _row(motors, "电机项目投资协议", "用地(亩)", 85, "2027-06-30", ext="T-2"),
        _row(motors, "电机项目投资协议", "按期投产", "", "2027-12-31", ext="T-3"),
        _row(motors, "电机项目补充协议", "固定资产投资", "1.5亿元", "2028-06-30", ext="T-4",
             kind="补充协议"),
        _row(other, "另一个项目的投资协议", "用工人数", 300, "2028-12-31", ext="T-5"),
    ]  # fmt: skip
    batch = checked(me, xlsx(rows), KIND)
    assert (batch.created_count, batch.error_count) == (5, 0), _errors(batch)
    assert "将新建协议“电机项目投资协议”" in batch.rows.get(row_number=2).match_note
    assert not Agreement.objects.exists()
    batch = commit(batch, me)
    assert batch.status == BatchStatus.COMMITTED, batch.message
    main = Agreement.objects.get(title="电机项目投资协议")
    assert (main.project, main.kind, main.clawback_rule, main.created_by) == (
        motors,
        "main",
        "full",
        me,
    )
    assert main.parties == "甲方：区政府；乙方：电机公司"
    assert sorted(main.terms.values_list("metric", "target")) == [
        ("annual_tax", Decimal("1200.00")),
        ("land", Decimal("85.00")),
        ("produce_by", Decimal("0.00")),
    ]
    supplement = Agreement.objects.get(title="电机项目补充协议")
    assert supplement.kind == "supplement" and supplement.clawback_rule == "pro_rata"
    assert supplement.terms.get().target == Decimal("15000.00")  # 1.5亿元 in 万元
    assert Agreement.objects.get(project=other).terms.get().metric == "jobs"
    assert Agreement.objects.count() == 3 and Term.objects.count() == 5
    assert Term.objects.get(external_id="T-2").source_system == "import"
    assert AgreementLog.objects.filter(agreement=main, what="created").count() == 1
    assert AgreementLog.objects.filter(agreement=main, what="term_added").count() == 3
    event = Agreement.pgh_event_model.objects.filter(pgh_obj_id=main.pk).earliest("pgh_id")
    assert event.pgh_context.metadata["why"] == f"import:{batch.pk}:台账.xlsx"

    # The same ledger again: nothing to do; then an edited one updates by 承诺编号.
    again = checked(me, xlsx(rows), KIND)
    assert (again.unchanged_count, again.total_rows) == (5, 5), _errors(again)
    rows[2][HEADER.index("承诺值(万元)")] = 90
    rows[1][HEADER.index("签约各方")] = "甲方：区人民政府；乙方：电机公司"
    edited = checked(me, xlsx(rows), KIND, "第二版.xlsx")
    assert (edited.updated_count, edited.unchanged_count) == (2, 3), _errors(edited)
    assert "按外部编号匹配" in edited.rows.get(row_number=3).match_note
    commit(edited, me)
    assert Term.objects.get(external_id="T-2").target == Decimal("90.00")
    main.refresh_from_db()
    assert main.parties == "甲方：区人民政府；乙方：电机公司"
    assert AgreementLog.objects.filter(agreement=main, what="changed").count() == 1
    assert Agreement.objects.count() == 3 and Term.objects.count() == 5


def test_a_ledger_without_ids_finds_the_commitments_it_already_has(bureau):
    me = bureau.shanghai_officer
    agreement = _signed(me)
    project = agreement.project
    due = (today() + 300 * DAY).isoformat()
    signed = agreement.signed_on.isoformat()
    rows = [
        ["项目名称", "协议名称", "签订日期", "承诺事项", "承诺值", "承诺期限"],
        [project.name, agreement.title, signed, "年税收(万元)", 500, due],
        [project.name, agreement.title, signed, "年税收", 800, (today() + 665 * DAY).isoformat()],
    ]
    batch = checked(me, csv_bytes(rows, encoding="gb18030"), KIND, "台账.csv")
    assert [r.action for r in batch.rows.order_by("row_number")] == [
        RowAction.UNCHANGED,
        RowAction.CREATE,
    ], _errors(batch)
    assert "按协议+承诺事项+承诺期限匹配" in batch.rows.get(row_number=2).match_note
    commit(batch, me)
    assert agreement.terms.filter(metric="annual_tax").count() == 2
    assert Agreement.objects.count() == 1


# --- bad input ----------------------------------------------------------------------------


def _bad_ledger(bureau):
    me = bureau.shanghai_officer
    agreement = _signed(me)
    project = agreement.project
    elsewhere = _signed(bureau.outsider, title="深圳项目投资协议")
    foreign_term = elsewhere.terms.first()
    signed = (today() - 60 * DAY).isoformat()
    header = ["系统编号", *HEADER]
    rows = [
        header,
        ["", *_row(project, "新协议", "年利润", 100, "2028-12-31")],  # 2: wrong metric
        ["", *_row(project, "新协议", "年税收", "-50", "2028-12-31")],  # 3: negative target
        ["", *_row(project, "新协议", "用地", 10, "明年年底")],  # 4: unparseable date
        # 5: unknown project
        ["", *_row(project, "新协议", "年税收", 10, "2028-12-31", project_name="不存在的项目",
                   investor="不存在的投资方有限公司")],
        # 6: the title of an agreement the project has, with another signing date
        ["", *_row(project, agreement.title, "年税收", 10, "2028-12-31", signed=signed)],
        # 7: a commitment of another unit's agreement, by its system id
        [foreign_term.pk, *_row(elsewhere.project, elsewhere.title, "年税收", 10, "2028-12-31")],
        # 8 and 9: one title, two signing dates in the file
        ["", *_row(project, "第三份协议", "年税收", 10, "2028-12-31", signed=signed)],
        ["", *_row(project, "第三份协议", "用地", 10, "2028-12-31",
                   signed=(today() - 50 * DAY).isoformat())],
        ["", *_row(project, "新协议", "年税收", 10, "2028-12-31")],  # 10: a good row
    ]  # fmt: skip
    return me, xlsx(rows)


EXPECTED_ERRORS = {
    2: ("承诺事项", "“年利润”不在可选范围内"),
    3: ("承诺值(万元)", "金额不能为负数"),
    4: ("承诺期限", "无法识别日期“明年年底”"),
    5: ("项目名称", "未找到项目“不存在的项目”"),
    6: ("签订日期", "同一协议名称不能用于不同签订日期的协议"),
    7: ("系统编号", "不存在或您无权修改"),
    9: ("签订日期", "第 8 行的同名协议签订日期为"),
}


def test_bad_rows_are_errors_on_their_row_and_nothing_is_written(bureau):
    me, data = _bad_ledger(bureau)
    before = (_history(), Agreement.objects.count(), Term.objects.count())
    batch = checked(me, data, KIND)
    assert batch.status == BatchStatus.CHECKED
    errors = _errors(batch)
    assert set(errors) == set(EXPECTED_ERRORS), errors
    for number, (column, words) in EXPECTED_ERRORS.items():
        assert errors[number][0]["column"] == column, (number, errors[number])
        assert words in errors[number][0]["message"], (number, errors[number])
    # The other unit's commitment is not described: neither its project nor its figures.
    assert "深圳" not in str(errors[7]) and batch.rows.get(row_number=7).changes == []
    assert batch.created_count == 2  # rows 8 and 10
    with pytest.raises(Exception, match="行有错误"):
        commit(batch, me)
    assert (_history(), Agreement.objects.count(), Term.objects.count()) == before


def test_bad_rows_speak_english_to_an_english_importer(bureau, compiled):  # noqa: F811
    me, data = _bad_ledger(bureau)
    with translation.override("en"):
        batch = checked(me, data, KIND)
    errors = _errors(batch)
    assert set(errors) == set(EXPECTED_ERRORS)
    messages = {number: rows[0]["message"] for number, rows in errors.items()}
    assert "is not one of" in messages[2] or "not among" in messages[2], messages[2]
    assert "negative" in messages[3]
    assert "明年年底" in messages[4] and "date" in messages[4]
    assert "不存在的项目" in messages[5] and "not found" in messages[5].lower()
    assert "signing date" in messages[6] and "signing date" in messages[9]
    for message in messages.values():
        assert "。" not in message and "：" not in message, message


def test_a_commitment_of_another_units_agreement_by_external_id_is_refused(bureau):
    outsider = bureau.outsider
    theirs = make_project(outsider, contract_date=today() - 90 * DAY)
    rows = [HEADER, _row(theirs, "深圳协议", "年税收", 100, "2028-12-31", ext="SZ-1")]
    commit(checked(outsider, xlsx(rows), KIND), outsider)
    term = Term.objects.get(external_id="SZ-1")
    me = bureau.shanghai_officer
    mine = make_project(me, contract_date=today() - 90 * DAY)
    rows = [HEADER, _row(mine, "上海协议", "年税收", 999, "2028-12-31", ext="SZ-1")]
    batch = checked(me, xlsx(rows), KIND)
    [error] = _errors(batch)[2]
    assert error["column"] == "承诺编号"
    assert "属于其他单位（深圳办事处）的协议" in error["message"]
    assert batch.rows.get().changes == []
    term.refresh_from_db()
    assert term.target == Decimal("100.00") and Agreement.objects.count() == 1


def test_a_project_name_two_projects_share_is_refused_until_the_investor_says_which(bureau):
    me = bureau.shanghai_officer
    first, second = (
        sign_lead(
            me,
            make_lead(me, status="negotiating", name="智能制造产业园"),
            contract_date=today() - 90 * DAY,
        )
        for _ in range(2)
    )
    assert first.name == second.name and first.investor != second.investor
    rows = [
        ["项目名称", "协议名称", "签订日期", "承诺事项", "承诺值", "承诺期限"],
        ["智能制造产业园", "产业园协议", (today() - 60 * DAY).isoformat(), "年税收", 10, "2028-12-31"],
    ]  # fmt: skip
    batch = checked(me, xlsx(rows), KIND)
    [error] = _errors(batch)[2]
    assert "有 2 个名为“智能制造产业园”的项目" in error["message"]
    rows[0].append("投资方")
    rows[1].append(second.investor.name)
    batch = commit(checked(me, xlsx(rows), KIND), me)
    assert batch.status == BatchStatus.COMMITTED
    assert Agreement.objects.get().project == second


# --- who may import ------------------------------------------------------------------------


def test_a_department_submitter_is_refused_the_kind_and_nothing_is_stored(bureau, client_for):
    project = make_project(bureau.shanghai_officer, contract_date=today() - 90 * DAY)
    data = xlsx([HEADER, _row(project, "协议", "年税收", 10, "2028-12-31")])
    with pytest.raises(PermissionDenied):
        batch_upload(actor=bureau.submitter, data=data, file_name="台账.xlsx", kind=KIND)
    response = client_for(bureau.submitter).post(
        reverse("imports:new"),
        {"kind": KIND, "file": SimpleUploadedFile("台账.xlsx", data)},
    )
    assert response.status_code == 200  # the form again, with the refusal
    assert "您无权导入协议履约台账" in response.content.decode()
    assert not ImportBatch.objects.exists() and not Agreement.objects.exists()


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_an_officer_who_may_not_keep_the_projects_agreements_gets_row_errors(bureau, who):
    """The teammate sees the project (same unit) but is not its 主办 nor the unit's head; the
    outsider (another unit) does not see it: "not found", the project never created."""
    owner = bureau.shanghai_officer
    agreement = _signed(owner)
    project = agreement.project
    actor = getattr(bureau, who)
    rows = [
        HEADER,
        _row(project, agreement.title, "年税收", 10, "2028-12-31",
             signed=agreement.signed_on.isoformat()),
        _row(project, "另一份协议", "年税收", 10, "2028-12-31"),
    ]  # fmt: skip
    before = (_history(), Project.objects.count())
    batch = checked(actor, xlsx(rows), KIND)
    errors = _errors(batch)
    assert set(errors) == {2, 3}
    expected = (
        "只有主办人、本单位负责人或局领导可以登记协议履约情况"
        if who == "teammate"
        else f"未找到项目“{project.name}”，或您无权查看该项目"
    )
    assert all(expected in rows[0]["message"] for rows in errors.values()), errors
    assert (_history(), Project.objects.count()) == before


def test_the_projects_unit_head_and_the_chief_may_import_its_agreements(bureau):
    agreement = _signed(bureau.shanghai_officer)
    for actor in (bureau.shanghai_head, bureau.chief):
        rows = [
            HEADER,
            _row(agreement.project, f"{actor.username}的补充协议", "年税收", 10, "2028-12-31",
                 kind="补充协议"),
        ]  # fmt: skip
        batch = commit(checked(actor, xlsx(rows), KIND), actor)
        assert batch.status == BatchStatus.COMMITTED, (actor, _errors(batch), batch.message)
    assert agreement.project.agreements.count() == 3


def test_the_import_never_waives_a_commitment(bureau):
    me = bureau.shanghai_officer
    agreement = _signed(me)
    term = agreement.terms.get(metric="annual_tax")
    rows = [
        ["系统编号", "项目名称", "协议名称", "签订日期", "承诺事项", "承诺值", "承诺期限", "豁免理由"],
        [term.pk, agreement.project.name, agreement.title, agreement.signed_on.isoformat(),
         "年税收", "500", term.due_on.isoformat(), "企业申请"],
    ]  # fmt: skip
    batch = checked(me, xlsx(rows), KIND)
    [error] = _errors(batch)[2]
    assert error["column"] == "豁免理由" and "导入不能豁免承诺" in error["message"]
    assert not agreement.terms.filter(waived_at__isnull=False).exists()


def test_an_unknown_investor_is_not_found_and_never_created(bureau):
    """Agreement rows never create investors or projects."""
    me = bureau.shanghai_officer
    project = make_project(me, contract_date=today() - 90 * DAY)
    counts = (Investor.objects.count(), Project.objects.count())
    rows = [HEADER, _row(project, "协议", "年税收", 10, "2028-12-31")]
    rows[1][HEADER.index("投资方")] = "从未登记过的投资有限公司"
    batch = checked(me, xlsx(rows), KIND)
    assert "未找到项目" in _errors(batch)[2][0]["message"]
    assert (Investor.objects.count(), Project.objects.count()) == counts


@pytest.mark.parametrize("by", ["system id", "project and investor"])
def test_the_check_costs_the_same_queries_for_2_or_12_agreements(bureau, by):
    """No query a row: projects, agreements, commitments and each project's 主办 (for
    may_keep_agreement) are read once per batch."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from promo.imports.services import batch_check

    me = bureau.shanghai_officer
    rows = [
        ["系统编号", "项目名称", "投资方", "协议名称", "签订日期", "承诺事项", "承诺值", "承诺期限"]
    ]
    for i in range(12):
        project = make_project(me, contract_date=today() - 90 * DAY)
        agreement = services.agreement_create(
            project=project,
            actor=me,
            kind="main",
            title=f"第{i}号协议",
            signed_on=today() - 60 * DAY,
        )
        term = services.term_add(
            agreement=agreement,
            actor=me,
            metric="annual_tax",
            target=100 + i,
            due_on=today() + 300 * DAY,
        )
        rows.append([
            term.pk if by == "system id" else "", project.name, project.investor.name,
            agreement.title, agreement.signed_on.isoformat(), "年税收", 100 + i,
            term.due_on.isoformat(),
        ])  # fmt: skip

    def queries(some):
        batch = batch_upload(actor=me, data=xlsx(some), file_name="again.xlsx", kind=KIND)
        with CaptureQueriesContext(connection) as context:
            batch = batch_check(batch=batch)
        assert batch.unchanged_count == len(some) - 1, _errors(batch)
        return len(context)

    assert queries(rows[:3]) == queries(rows)
