"""Monthly bulletin (每月一通报): one per month, figures pinned, frozen on publication."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from officers.choices import TargetMetric
from projects.services import progress_record
from promo.core.errors import PermissionDenied, TransitionNotAllowed
from promo.reports.choices import BulletinKind, BulletinStatus, Figure
from promo.reports.models import Bulletin, BulletinAmendment, BulletinLine
from promo.reports.services import (
    bulletin_generate,
    bulletin_publish,
    period_for,
    previous_month_start,
    previous_ten_day_start,
)
from tests.factories import make_unit
from tests.reports.seed import (
    DEPARTMENT,
    SHANGHAI,
    SHANGHAI_LAST_YEAR_SIGNED,
    SHENZHEN,
    START,
    TODAY,
    TOTAL,
    build_october,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def october(bureau, clock):
    return build_october(bureau)


def figures_of(line: BulletinLine) -> dict:
    return {figure: line.figure(figure) for figure in Figure.values}


def line_for(bulletin: Bulletin, unit) -> BulletinLine:
    return bulletin.lines.get(unit=unit)


def test_monthly_bulletin_has_one_line_per_unit_and_a_total_with_hand_computed_figures(
    bureau, october
):
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)

    assert bulletin.period_end == date(2026, 10, 31)
    assert bulletin.status == BulletinStatus.DRAFT
    assert bulletin.title == "市投资促进局招商引资工作月度通报（2026年10月）"
    lines = list(bulletin.lines.all())
    assert [line.unit_id for line in lines] == [
        bureau.shanghai.pk,
        bureau.shenzhen.pk,
        bureau.department.pk,
        bureau.bureau.pk,  # 局本级: the bureau's own records (test_own_line.py)
        None,
    ]
    assert figures_of(lines[0]) == SHANGHAI
    assert figures_of(lines[1]) == SHENZHEN
    assert figures_of(lines[2]) == DEPARTMENT
    assert figures_of(lines[4]) == TOTAL
    # Ranked on signed amount: Shanghai 12000, Shenzhen 800, the department nothing.
    assert [line.rank for line in lines] == [1, 2, 3, None, None]


def test_bulletin_line_carries_last_year_and_target_completion(bureau, october):
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    shanghai, shenzhen = line_for(bulletin, bureau.shanghai), line_for(bulletin, bureau.shenzhen)

    assert shanghai.last_year_figure(Figure.SIGNED_AMOUNT) == SHANGHAI_LAST_YEAR_SIGNED
    assert shanghai.last_year[Figure.SIGNED_COUNT] == 1
    assert shenzhen.last_year_figure(Figure.SIGNED_AMOUNT) == 0
    # Year to date: Shanghai 15000 of 50000, Shenzhen 5800 of 10000.
    assert shanghai.target_percent(TargetMetric.SIGNED_AMOUNT) == Decimal("30.0")
    assert shenzhen.target_percent(TargetMetric.SIGNED_AMOUNT) == Decimal("58.0")
    assert Decimal(shanghai.year_to_date[Figure.SIGNED_AMOUNT]) == Decimal("15000")
    # No target for the department: nothing is invented.
    assert line_for(bulletin, bureau.department).targets == {}


def test_generating_twice_makes_one_bulletin_and_recomputes_the_draft(bureau, october):
    first = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    progress_record(
        project=october.p2,
        actor=bureau.sub_unit_officer,
        month=date(2026, 10, 1),
        agreed_investment=3000,
        paid_in=900,
        fixed_asset_investment=800,
        arrived_fdi=260,
    )

    second = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)

    assert second.pk == first.pk
    assert Bulletin.objects.count() == 1
    assert BulletinLine.objects.count() == 5  # three units, 局本级, 合计
    assert line_for(second, bureau.shanghai).arrived_fdi == Decimal("200.00")
    assert not BulletinAmendment.objects.exists()


def test_published_bulletin_keeps_its_figures_and_a_correction_shows_as_one_amendment(
    bureau, october, clock
):
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    bulletin = bulletin_publish(bulletin=bulletin, actor=bureau.chief)
    assert bulletin.published_by == bureau.chief and bulletin.published_at is not None
    clock.shift(3600)

    # A closed month's figure is corrected afterwards: P2's cumulative FDI was 260, not 250.
    progress_record(
        project=october.p2,
        actor=bureau.sub_unit_officer,
        month=date(2026, 10, 1),
        agreed_investment=3000,
        paid_in=900,
        fixed_asset_investment=800,
        arrived_fdi=260,
        note="补报10月到账外资",
    )
    bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)  # a re-run adds nothing

    shanghai = line_for(bulletin, bureau.shanghai)
    assert shanghai.arrived_fdi == Decimal("190.00")  # the published figure stays
    amendment = shanghai.amendments.get()
    assert (amendment.figure, amendment.old_value, amendment.new_value) == (
        Figure.ARRIVED_FDI,
        Decimal("190.00"),
        Decimal("200.00"),
    )
    cause = amendment.causes.get()  # P2's cumulative FDI, corrected by 赵磊
    assert (cause.record_id, cause.old_part, cause.new_part) == (
        october.p2.pk,
        Decimal("150.00"),
        Decimal("160.00"),
    )
    assert (cause.changed_by, cause.reason_text) == (bureau.sub_unit_officer, "补报10月到账外资")
    total = line_for(bulletin, None)
    assert list(total.amendments.values_list("figure", "new_value")) == [
        (Figure.ARRIVED_FDI, Decimal("200.00"))
    ]
    assert BulletinAmendment.objects.count() == 2
    assert Bulletin.objects.get().status == BulletinStatus.PUBLISHED


def test_a_second_correction_is_a_second_amendment_from_the_last_known_value(
    bureau, october, clock
):
    bulletin = bulletin_publish(
        bulletin=bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START),
        actor=bureau.chief,
    )
    for fdi in (260, 255):
        clock.shift(3600)
        progress_record(
            project=october.p2,
            actor=bureau.sub_unit_officer,
            month=date(2026, 10, 1),
            agreed_investment=3000,
            paid_in=900,
            fixed_asset_investment=800,
            arrived_fdi=fdi,
        )
        bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)

    trail = line_for(bulletin, bureau.shanghai).amendments.order_by("pk")
    assert [(a.old_value, a.new_value) for a in trail] == [
        (Decimal("190.00"), Decimal("200.00")),
        (Decimal("200.00"), Decimal("195.00")),
    ]


def test_officer_cannot_publish_and_the_bulletin_stays_a_draft(bureau, october):
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    with pytest.raises(PermissionDenied):
        bulletin_publish(bulletin=bulletin, actor=bureau.shanghai_head)
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.DRAFT and bulletin.published_at is None


def test_publishing_twice_is_refused(bureau, october):
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    bulletin_publish(bulletin=bulletin, actor=bureau.chief)
    with pytest.raises(TransitionNotAllowed):
        bulletin_publish(bulletin=bulletin, actor=bureau.chief)


def test_ten_day_report_covers_its_ten_days(bureau, october):
    report = bulletin_generate(kind=BulletinKind.TEN_DAY, period_start=START)
    assert (report.period_start, report.period_end) == (date(2026, 10, 1), date(2026, 10, 10))
    shanghai = line_for(report, bureau.shanghai)
    # 1–10 October: L2 and L3 qualified; investor A received on the 5th; P2 broke ground.
    assert (shanghai.valid_leads, shanghai.investors_visiting) == (2, 1)
    assert (shanghai.signed_count, shanghai.groundbreaking_count) == (0, 1)
    assert Bulletin.objects.filter(kind=BulletinKind.MONTHLY).count() == 0


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        (BulletinKind.MONTHLY, date(2026, 2, 1), date(2026, 2, 28)),
        (BulletinKind.TEN_DAY, date(2026, 2, 11), date(2026, 2, 20)),
        (BulletinKind.TEN_DAY, date(2026, 2, 21), date(2026, 2, 28)),
        (BulletinKind.TEN_DAY, date(2026, 10, 21), date(2026, 10, 31)),
    ],
)
def test_periods(kind, start, end):
    assert period_for(kind, start) == (start, end)


def test_period_must_start_on_a_period_boundary():
    with pytest.raises(Exception, match="1"):
        period_for(BulletinKind.MONTHLY, date(2026, 10, 2))
    with pytest.raises(Exception, match="11"):
        period_for(BulletinKind.TEN_DAY, date(2026, 10, 5))


@pytest.mark.parametrize(
    ("run_on", "month", "ten_days"),
    [
        (date(2026, 11, 1), date(2026, 10, 1), date(2026, 10, 21)),
        (date(2026, 11, 11), date(2026, 10, 1), date(2026, 11, 1)),
        (date(2026, 11, 21), date(2026, 10, 1), date(2026, 11, 11)),
        (date(2027, 1, 1), date(2026, 12, 1), date(2026, 12, 21)),
    ],
)
def test_scheduled_runs_report_the_period_just_ended(run_on, month, ten_days):
    assert previous_month_start(run_on) == month
    assert previous_ten_day_start(run_on) == ten_days


def test_a_run_killed_halfway_leaves_nothing_and_the_next_run_makes_one_correct_bulletin(
    bureau, october, monkeypatch
):
    def die(*args, **kwargs):
        raise OperationalError("worker lost its database connection mid-job")

    monkeypatch.setattr(BulletinLine.objects, "bulk_create", die)
    with pytest.raises(OperationalError):
        bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    assert not Bulletin.objects.exists()  # one transaction: no half-written bulletin

    monkeypatch.undo()
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    assert Bulletin.objects.count() == 1
    assert figures_of(line_for(bulletin, None)) == TOTAL


def test_generation_query_count_does_not_grow_with_the_number_of_units(bureau, october):
    bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)  # creates the row
    with CaptureQueriesContext(connection) as few:
        bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    for n in range(5):
        make_unit(f"新增园区{n}", parent=bureau.bureau)
    with CaptureQueriesContext(connection) as many:
        bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    assert bulletin.lines.count() == 10  # eight units, 局本级, 合计
    assert len(many) == len(few)


def test_a_capital_increase_counts_from_its_own_date_and_leaves_a_published_month_alone(
    bureau, october, clock
):
    from projects.services import project_record_increment
    from promo.reports.selectors import period_figures

    bulletin = bulletin_publish(
        bulletin=bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START),
        actor=bureau.chief,
    )
    clock.shift(3600)
    # P2 broke ground on 3 October (3,000); a 增资 of 1,000 is signed on 2 November.
    project_record_increment(
        project=october.p2,
        actor=bureau.sub_unit_officer,
        increased_on=date(2026, 11, 2),
        amount=1000,
        note="二期增资",
    )
    october_figures = period_figures(start=START, end=date(2026, 10, 31))[None]
    assert october_figures.groundbreaking_amount == Decimal("3000.00")
    through_november = period_figures(start=START, end=date(2026, 11, 30))[None]
    assert through_november.groundbreaking_amount == Decimal("4000.00")

    bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    assert not BulletinAmendment.objects.filter(line__bulletin=bulletin).exists()
    assert line_for(bulletin, bureau.shanghai).groundbreaking_amount == Decimal("3000.00")
