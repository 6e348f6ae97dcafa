"""Amendments name their causes (issue #14, finding 1): the records whose change moved the
figure, and for each who changed it, when and why — never the latest edit in the unit.

October 2026 as built by tests/reports/seed.py, published on 2 November; corrections come an
hour later. 张明 (shanghai_officer) and 陈静 (teammate) work in the Shanghai office, 赵磊
(sub_unit_officer) in its Pudong group: all three count in the Shanghai line.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pghistory.models
import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.choices import LeadStatus, VisitKind
from leads.models import Lead, Visit
from projects.models import Project
from projects.services import progress_record, project_create, project_record_increment
from promo.core.audit import audited
from promo.core.choices import Industry
from promo.reports import attribution
from promo.reports.choices import BulletinKind, CauseRecord, Figure, why_label
from promo.reports.models import Bulletin, BulletinAmendment, BulletinLine
from promo.reports.selectors import bulletin_units, figure_records, period_figures
from promo.reports.services import bulletin_generate, bulletin_publish
from tests.factories import make_investor, make_lead
from tests.reports.seed import END, START, TODAY, build_october

pytestmark = pytest.mark.django_db

DROP_REASON = "投资方战略调整到华南"


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def october(bureau, clock):
    return build_october(bureau)


def publish(bureau, clock) -> Bulletin:
    bulletin = bulletin_publish(
        bulletin=bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START),
        actor=bureau.chief,
    )
    clock.shift(3600)
    return bulletin


def regenerate() -> None:
    bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)


def amendment(bulletin: Bulletin, unit, figure: str) -> BulletinAmendment:
    return BulletinAmendment.objects.get(line__bulletin=bulletin, line__unit=unit, figure=figure)


def causes_of(a: BulletinAmendment) -> list[tuple]:
    return sorted(
        (c.record_type, c.record_id, c.old_part, c.new_part, c.changed_by_id, c.reason_text)
        for c in a.causes.all()
    )


def last_event_at(model, pk: int):
    return (
        pghistory.models.Events.objects.tracks(model(pk=pk))
        .order_by("-pgh_id")
        .values_list("pgh_created_at", flat=True)
        .first()
    )


def amendments_text(bureau, bulletin: Bulletin) -> str:
    """The amendments section of the bulletin page as a chief reads it, tags stripped."""
    client = Client()
    client.force_login(bureau.chief)
    html = client.get(f"/reports/bulletins/{bulletin.pk}/", secure=True).content.decode()
    found = re.search(r'<section class="amendments".*?</section>', html, re.S)
    assert found, "the page has no amendments section"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", found.group(0))))


def shanghai_lead(**filters) -> Lead:
    return Lead.objects.get(unit__path__startswith=filters.pop("unit").path, **filters)


def test_the_correction_names_the_record_that_moved_the_figure_not_the_latest_edit_in_the_unit(
    bureau, october, clock
):
    bulletin = publish(bureau, clock)
    # 陈静 registers a project signed in October that was missing: the figure moves.
    missing = project_create(
        actor=bureau.teammate,
        investor=make_investor(bureau.teammate),
        name="浦江新材料项目",
        industry=Industry.ELECTRONICS,
        contract_date=date(2026, 10, 25),
        total_investment=600,
    )
    # Afterwards 张明 works on the same office's records, none of them October's.
    project_create(
        actor=bureau.shanghai_officer,
        investor=make_investor(bureau.shanghai_officer),
        name="十一月签约项目",
        industry=Industry.ELECTRONICS,
        contract_date=date(2026, 11, 2),
        total_investment=900,
    )
    lead_services.lead_drop(lead=october.l1, actor=bureau.shanghai_officer, reason=DROP_REASON)
    regenerate()

    signed = amendment(bulletin, bureau.shanghai, Figure.SIGNED_COUNT)
    assert (signed.old_value, signed.new_value) == (1, 2)
    assert causes_of(signed) == [
        (CauseRecord.PROJECT, missing.pk, None, Decimal("1"), bureau.teammate.pk, "登记项目")
    ]
    cause = signed.causes.get()
    assert cause.changed_at == last_event_at(Project, missing.pk)
    assert cause.display_label == "项目「浦江新材料项目」"
    amount = amendment(bulletin, bureau.shanghai, Figure.SIGNED_AMOUNT)
    assert causes_of(amount) == [
        (CauseRecord.PROJECT, missing.pk, None, Decimal("600.00"), bureau.teammate.pk, "登记项目")
    ]
    text = amendments_text(bureau, bulletin)
    assert "浦江新材料项目" in text and "陈静" in text
    assert "张明" not in text and "十一月签约项目" not in text
    assert DROP_REASON not in text and "project_create" not in text


def test_a_drop_reason_is_never_shown_against_a_qualification(bureau, october, clock):
    bulletin = publish(bureau, clock)
    # 陈静 qualifies a lead as of 20 October (a late entry): one more valid lead in October.
    late = make_lead(bureau.teammate, name="滨江智造项目")
    late = lead_services.lead_transition(
        lead=late, actor=bureau.teammate, to_status=LeadStatus.VALID, on_date=date(2026, 10, 20)
    )
    # Then 张明 drops L2, as of 25 October: L2 stays qualified in October, leaves "in hand".
    l2 = shanghai_lead(unit=bureau.shanghai, qualified_on=date(2026, 10, 5))
    lead_services.lead_transition(
        lead=l2,
        actor=bureau.shanghai_officer,
        to_status=LeadStatus.DROPPED,
        reason=DROP_REASON,
        on_date=date(2026, 10, 25),
    )
    regenerate()

    valid = amendment(bulletin, bureau.shanghai, Figure.VALID_LEADS)
    assert (valid.old_value, valid.new_value) == (2, 3)
    assert causes_of(valid) == [
        (CauseRecord.LEAD, late.pk, None, Decimal("1"), bureau.teammate.pk, "状态变更为“有效”")
    ]
    # In hand: 滨江智造 came in, L2 went out: 2 → 2, nothing to amend.
    assert not BulletinAmendment.objects.filter(figure=Figure.LEADS_IN_HAND).exists()
    text = amendments_text(bureau, bulletin)
    assert "滨江智造项目" in text and "陈静" in text
    assert DROP_REASON not in text and "张明" not in text


def test_a_drop_that_moves_the_figure_shows_its_own_reason_on_its_own_lead(bureau, october, clock):
    bulletin = publish(bureau, clock)
    l2 = shanghai_lead(unit=bureau.shanghai, qualified_on=date(2026, 10, 5))
    lead_services.lead_transition(
        lead=l2,
        actor=bureau.shanghai_officer,
        to_status=LeadStatus.DROPPED,
        reason=DROP_REASON,
        on_date=date(2026, 10, 25),
    )
    regenerate()

    in_hand = amendment(bulletin, bureau.shanghai, Figure.LEADS_IN_HAND)
    assert (in_hand.old_value, in_hand.new_value) == (2, 1)
    assert causes_of(in_hand) == [
        (CauseRecord.LEAD, l2.pk, Decimal("1"), None, bureau.shanghai_officer.pk, DROP_REASON)
    ]


def test_two_records_changed_by_two_people_are_both_named(bureau, october, clock):
    bulletin = publish(bureau, clock)
    progress_record(
        project=october.p2, actor=bureau.sub_unit_officer, month=date(2026, 10, 1),
        agreed_investment=3000, paid_in=900, fixed_asset_investment=800, arrived_fdi=260,
        note="补报10月到账外资",
    )  # fmt: skip
    progress_record(
        project=october.l4_project, actor=bureau.shanghai_officer, month=date(2026, 10, 1),
        agreed_investment=12000, paid_in=100, fixed_asset_investment=50, arrived_fdi=55,
        note="按银行回单更正",
    )  # fmt: skip
    regenerate()

    for unit in (bureau.shanghai, None):
        fdi = amendment(bulletin, unit, Figure.ARRIVED_FDI)
        assert (fdi.old_value, fdi.new_value) == (Decimal("190.00"), Decimal("215.00"))
        assert causes_of(fdi) == sorted(
            [
                (CauseRecord.PROJECT, october.p2.pk, Decimal("150.00"), Decimal("160.00"),
                 bureau.sub_unit_officer.pk, "补报10月到账外资"),
                (CauseRecord.PROJECT, october.l4_project.pk, Decimal("40.00"), Decimal("55.00"),
                 bureau.shanghai_officer.pk, "按银行回单更正"),
            ]
        )  # fmt: skip
    text = amendments_text(bureau, bulletin)
    assert "赵磊" in text and "补报10月到账外资" in text
    assert "张明" in text and "按银行回单更正" in text


def test_a_change_for_another_period_is_not_named_even_on_the_same_record(bureau, october, clock):
    bulletin = publish(bureau, clock)
    # 张明 corrects P2's October figure; later 赵磊 reports P2's November: the latest event
    # on P2, but November's figure does not move October's.
    progress_record(
        project=october.p2, actor=bureau.shanghai_officer, month=date(2026, 10, 1),
        agreed_investment=3000, paid_in=900, fixed_asset_investment=800, arrived_fdi=255,
        note="更正10月到账外资",
    )  # fmt: skip
    progress_record(
        project=october.p2, actor=bureau.sub_unit_officer, month=date(2026, 11, 1),
        agreed_investment=3000, paid_in=1000, fixed_asset_investment=900, arrived_fdi=300,
        note="11月进度",
    )  # fmt: skip
    regenerate()

    fdi = amendment(bulletin, bureau.shanghai, Figure.ARRIVED_FDI)
    assert causes_of(fdi) == [
        (CauseRecord.PROJECT, october.p2.pk, Decimal("150.00"), Decimal("155.00"),
         bureau.shanghai_officer.pk, "更正10月到账外资"),
    ]  # fmt: skip
    assert "11月进度" not in amendments_text(bureau, bulletin)


def test_a_record_moved_into_the_period_is_named_with_whoever_moved_it(bureau, october, clock):
    # Before publication: a project signed on 2 November and a reception logged for
    # 30 September, both by 张明.
    moved = project_create(
        actor=bureau.shanghai_officer,
        investor=make_investor(bureau.shanghai_officer),
        name="临港装备项目",
        industry=Industry.ELECTRONICS,
        contract_date=date(2026, 11, 2),
        total_investment=20000,
    )
    guest = make_investor(bureau.shanghai_officer, name="丙客商精密机械有限公司")
    visit = lead_services.visit_log(
        actor=bureau.shanghai_officer,
        kind=VisitKind.RECEPTION,
        visited_on=date(2026, 9, 29),
        investor=guest,
        summary="洽谈",
    )
    bulletin = publish(bureau, clock)
    # 陈静 corrects both dates into October: the contract was signed on 30 October (written
    # as a data correction under her name), the reception was on 8 October.
    with transaction.atomic(), audited(bureau.teammate, "按合同原件更正签约日期"):
        Project.objects.filter(pk=moved.pk).update(contract_date=date(2026, 10, 30))
    lead_services.visit_update(
        actor=bureau.teammate,
        visit=Visit.objects.get(pk=visit.pk),
        changes={"visited_on": date(2026, 10, 8)},
        why="接待日期登记错误",
    )
    regenerate()

    reason = "按合同原件更正签约日期"
    assert causes_of(amendment(bulletin, bureau.shanghai, Figure.SIGNED_COUNT)) == [
        (CauseRecord.PROJECT, moved.pk, None, Decimal("1"), bureau.teammate.pk, reason)
    ]
    assert causes_of(amendment(bulletin, bureau.shanghai, Figure.HUNDRED_MILLION_COUNT)) == [
        (CauseRecord.PROJECT, moved.pk, None, Decimal("1"), bureau.teammate.pk, reason)
    ]
    visiting = amendment(bulletin, bureau.shanghai, Figure.INVESTORS_VISITING)
    assert (visiting.old_value, visiting.new_value) == (2, 3)
    assert causes_of(visiting) == [
        (CauseRecord.VISIT, visit.pk, None, Decimal("1"), bureau.teammate.pk, "接待日期登记错误")
    ]
    assert visiting.causes.get().display_label == "来区客商「丙客商精密机械有限公司」"
    assert visiting.causes.get().changed_at == last_event_at(Visit, visit.pk)


def test_a_second_amendment_names_only_what_changed_since_the_first(bureau, october, clock):
    bulletin = publish(bureau, clock)
    progress_record(
        project=october.p2, actor=bureau.sub_unit_officer, month=date(2026, 10, 1),
        agreed_investment=3000, paid_in=900, fixed_asset_investment=800, arrived_fdi=260,
        note="补报10月到账外资",
    )  # fmt: skip
    regenerate()
    clock.shift(3600)
    progress_record(
        project=october.l4_project, actor=bureau.shanghai_officer, month=date(2026, 10, 1),
        agreed_investment=12000, paid_in=100, fixed_asset_investment=50, arrived_fdi=45,
        note="按银行回单更正",
    )  # fmt: skip
    regenerate()

    first, second = BulletinAmendment.objects.filter(
        line__bulletin=bulletin, line__unit=bureau.shanghai, figure=Figure.ARRIVED_FDI
    ).order_by("pk")
    assert (second.old_value, second.new_value) == (Decimal("200.00"), Decimal("205.00"))
    assert [(c.record_id, c.changed_by_id) for c in first.causes.all()] == [
        (october.p2.pk, bureau.sub_unit_officer.pk)
    ]
    assert causes_of(second) == [
        (CauseRecord.PROJECT, october.l4_project.pk, Decimal("40.00"), Decimal("45.00"),
         bureau.shanghai_officer.pk, "按银行回单更正"),
    ]  # fmt: skip


def test_naming_the_causes_costs_the_same_queries_for_one_record_or_many(bureau, october, clock):
    bulletin = publish(bureau, clock)

    def sign(n: int) -> None:
        for i in range(n):
            project_create(
                actor=bureau.teammate,
                investor=make_investor(bureau.teammate),
                name=f"补录项目{n}-{i}",
                industry=Industry.ELECTRONICS,
                contract_date=date(2026, 10, 20 + i),
                total_investment=500,
            )

    sign(1)
    with CaptureQueriesContext(connection) as one:
        regenerate()
    sign(5)
    with CaptureQueriesContext(connection) as five:
        regenerate()

    latest = BulletinAmendment.objects.filter(
        line__bulletin=bulletin, line__unit=bureau.shanghai, figure=Figure.SIGNED_COUNT
    ).latest("pk")
    assert latest.causes.count() == 5
    assert len(five) == len(one)


def test_the_records_kept_at_publication_give_exactly_the_published_figures(bureau, october):
    units = bulletin_units()
    figures = {
        **period_figures(start=START, end=END, units=units),
        **period_figures(start=START, end=END),
    }
    records = figure_records(start=START, end=END, units=units)
    assert set(records) == set(figures)
    for key, by_figure in records.items():
        for figure in Figure.values:
            assert by_figure[figure].value() == figures[key].get(figure), (key, figure)


def test_publication_keeps_the_records_of_every_figure(bureau, october, clock):
    bulletin = publish(bureau, clock)
    line = BulletinLine.objects.get(bulletin=bulletin, unit=bureau.shanghai)
    assert set(line.records["figures"]) == set(Figure.values)
    assert sorted(line.records["figures"][Figure.ARRIVED_FDI]) == sorted(
        [str(october.p2.pk), str(october.l4_project.pk)]
    )


def test_an_amendment_recorded_before_causes_were_kept_still_renders(bureau, october, clock):
    bulletin = publish(bureau, clock)
    line = BulletinLine.objects.get(bulletin=bulletin, unit=bureau.shanghai)
    BulletinAmendment.objects.create(
        line=line,
        figure=Figure.SIGNED_COUNT,
        old_value=1,
        new_value=2,
        changed_by=bureau.shanghai_officer,
        reason="project_create",
    )
    text = amendments_text(bureau, bulletin)
    assert "新签约项目(个)" in text and "1 → 2" in text and "张明" in text
    # The old attribution is kept as recorded, read as a label and marked as such.
    assert "登记项目" in text and "project_create" not in text


def _columns(condition) -> set[str]:
    found = set()
    for child in condition.children:
        found |= _columns(child) if hasattr(child, "children") else {child[0].split("__")[0]}
    return found


def test_each_figure_is_explained_by_changes_to_the_columns_its_rule_counts_by():
    from promo.reports.attribution import FIGURE_COLUMNS
    from promo.reports.selectors import _families

    for family in _families(START, END):
        model = family.rows.model
        for figure, rule in family.rules.items():
            read = {family.unit_field, rule.distinct, rule.amount} - {None}
            if rule.where is not None:
                read |= _columns(rule.where)
            stored = {model._meta.get_field(name).attname for name in read if name in {
                f.name for f in model._meta.get_fields()
            }}  # fmt: skip
            assert stored <= FIGURE_COLUMNS[figure], (figure, stored - FIGURE_COLUMNS[figure])


def test_a_capital_increase_dated_in_the_period_names_the_project_and_its_note(
    bureau, october, clock
):
    bulletin = publish(bureau, clock)
    # P2 broke ground on 3 October; a 增资 dated 20 October is recorded late, by 赵磊.
    project_record_increment(
        project=october.p2,
        actor=bureau.sub_unit_officer,
        increased_on=date(2026, 10, 20),
        amount=1000,
        note="二期增资补录",
    )
    regenerate()

    amount = amendment(bulletin, bureau.shanghai, Figure.GROUNDBREAKING_AMOUNT)
    assert (amount.old_value, amount.new_value) == (Decimal("3000.00"), Decimal("4000.00"))
    assert causes_of(amount) == [
        (CauseRecord.PROJECT, october.p2.pk, Decimal("3000.00"), Decimal("4000.00"),
         bureau.sub_unit_officer.pk, "二期增资补录"),
    ]  # fmt: skip


def test_a_rejection_shows_the_rejected_leads_red_line(bureau, october, clock):
    bulletin = publish(bureau, clock)
    l2 = shanghai_lead(unit=bureau.shanghai, qualified_on=date(2026, 10, 5))
    lead_services.lead_transition(
        lead=l2,
        actor=bureau.shanghai_officer,
        to_status=LeadStatus.REJECTED,
        reject_reason="land_grab",
        on_date=date(2026, 10, 28),
    )
    regenerate()

    assert causes_of(amendment(bulletin, bureau.shanghai, Figure.LEADS_IN_HAND)) == [
        (CauseRecord.LEAD, l2.pk, Decimal("1"), None, bureau.shanghai_officer.pk, "否决：跑马圈地")
    ]


def test_beyond_the_most_named_the_other_records_are_counted(bureau, october, clock, monkeypatch):
    monkeypatch.setattr(attribution, "MAX_CAUSES", 2)
    bulletin = publish(bureau, clock)
    for i, amount in enumerate((300, 200, 100)):
        project_create(
            actor=bureau.teammate,
            investor=make_investor(bureau.teammate),
            name=f"补录项目{i}",
            industry=Industry.ELECTRONICS,
            contract_date=date(2026, 10, 20),
            total_investment=amount,
        )
    regenerate()

    signed = amendment(bulletin, bureau.shanghai, Figure.SIGNED_AMOUNT)
    # The largest moves are named first.
    assert [c.label for c in signed.causes.order_by("pk")] == ["补录项目0", "补录项目1"]
    assert signed.unlisted_causes == 1
    assert "另有 1 条记录未列出" in amendments_text(bureau, bulletin)


@pytest.mark.parametrize(
    ("why", "shown"),
    [
        ("project_create", "登记项目"),
        ("lead_transition:valid", "状态变更为“有效”"),
        ("project_advance:groundbreaking", "推进至“开工”"),
        ("import:12:上海台账 2026.xlsx", "批量导入（上海台账 2026.xlsx）"),
        ("admin:project_change", "后台修改"),
        ("lead_reject:land_grab", "否决：跑马圈地"),
        ("some_new_code", "系统操作"),
        (DROP_REASON, DROP_REASON),
        ("补报", "补报"),
        ("", ""),
    ],
)
def test_a_history_reason_reads_as_words(why, shown):
    assert why_label(why) == shown


def test_a_line_published_before_records_were_kept_is_named_from_its_next_amendment(
    bureau, october, clock
):
    bulletin = publish(bureau, clock)
    BulletinLine.objects.filter(bulletin=bulletin).update(records={})  # as published before
    progress_record(
        project=october.p2, actor=bureau.sub_unit_officer, month=date(2026, 10, 1),
        agreed_investment=3000, paid_in=900, fixed_asset_investment=800, arrived_fdi=260,
        note="补报10月到账外资",
    )  # fmt: skip
    regenerate()
    first = amendment(bulletin, bureau.shanghai, Figure.ARRIVED_FDI)
    assert not first.causes.exists() and not first.was_compared
    assert "发布时未留存统计明细" in amendments_text(bureau, bulletin)

    clock.shift(3600)
    progress_record(
        project=october.l4_project, actor=bureau.shanghai_officer, month=date(2026, 10, 1),
        agreed_investment=12000, paid_in=100, fixed_asset_investment=50, arrived_fdi=45,
        note="按银行回单更正",
    )  # fmt: skip
    regenerate()
    second = BulletinAmendment.objects.filter(
        line__bulletin=bulletin, line__unit=bureau.shanghai, figure=Figure.ARRIVED_FDI
    ).latest("pk")
    assert causes_of(second) == [
        (CauseRecord.PROJECT, october.l4_project.pk, Decimal("40.00"), Decimal("45.00"),
         bureau.shanghai_officer.pk, "按银行回单更正"),
    ]  # fmt: skip
