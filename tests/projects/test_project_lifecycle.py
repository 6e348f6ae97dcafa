"""Signing, stages, counting rules, figures and their constraints."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from leads.choices import LeadStatus
from projects.choices import STAGE_TRANSITIONS, SizeClass, Stage, stage_can_transition
from projects.models import Project, ProjectIncrement, ProjectStageEvent
from projects.services import (
    progress_record,
    project_advance,
    project_record_increment,
    project_set_plan,
    project_update_figures,
)
from promo.core.errors import PermissionDenied, RuleViolation, TransitionNotAllowed
from promo.core.services import today
from tests.factories import make_lead, make_project, sign_lead, stage_evidence


def test_stage_table_moves_one_step_forward_and_producing_is_terminal():
    assert STAGE_TRANSITIONS[Stage.PRODUCING] == frozenset()
    assert stage_can_transition(Stage.SIGNED, Stage.GROUNDBREAKING)
    assert not stage_can_transition(Stage.SIGNED, Stage.COMPLETED)
    assert not stage_can_transition(Stage.COMPLETED, Stage.GROUNDBREAKING)


def test_signing_a_negotiating_lead_creates_one_project_in_its_unit(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    project = sign_lead(bureau.shanghai_officer, lead, amount=Decimal("15000"))
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SIGNED
    assert lead.signed_on == project.contract_date
    assert project.unit == lead.unit == bureau.shanghai
    assert project.stage == Stage.SIGNED
    assert project.size_class == SizeClass.HUNDRED_MILLION
    assert project.stage_events.get().to_stage == Stage.SIGNED
    assert project.assignments.get().officer == bureau.shanghai_officer


def test_a_lead_can_be_signed_only_once(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    sign_lead(bureau.shanghai_officer, lead)
    with pytest.raises(TransitionNotAllowed):
        sign_lead(bureau.shanghai_officer, lead)
    assert Project.objects.filter(lead=lead).count() == 1


def test_signing_needs_negotiation_first_and_writes_nothing_when_refused(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    with pytest.raises(TransitionNotAllowed):
        sign_lead(bureau.shanghai_officer, lead)
    assert not Project.objects.exists()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VALID


def test_signing_with_a_bad_amount_leaves_the_lead_negotiating(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    with pytest.raises(RuleViolation) as err:
        sign_lead(bureau.shanghai_officer, lead, amount=-5)
    assert "total_investment" in err.value.field_errors
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEGOTIATING
    assert not Project.objects.exists()


def test_capital_increase_is_an_increment_not_a_new_project(bureau):
    project = make_project(bureau.shanghai_officer, amount=Decimal("8000"))
    assert project.size_class == SizeClass.TEN_MILLION
    project_record_increment(
        project=project,
        actor=bureau.shanghai_officer,
        increased_on=today(),
        amount=Decimal("3000"),
        note="二期增资",
    )
    project.refresh_from_db()
    assert Project.objects.count() == 1
    assert project.signed_investment == Decimal("8000")
    assert project.total_investment == Decimal("11000")
    assert project.size_class == SizeClass.HUNDRED_MILLION
    assert ProjectIncrement.objects.get().amount == Decimal("3000")


def test_advance_one_stage_with_its_actual_date(bureau):
    project = make_project(bureau.shanghai_officer)
    day = project.contract_date + timedelta(days=10)
    project, event = project_advance(
        project=project,
        actor=bureau.shanghai_officer,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=day,
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    assert project.stage == Stage.GROUNDBREAKING
    assert project.groundbreaking_actual == day
    assert (event.from_stage, event.to_stage, event.actual_date) == (
        Stage.SIGNED,
        Stage.GROUNDBREAKING,
        day,
    )


def test_skipping_a_stage_is_refused_and_nothing_changes(bureau):
    project = make_project(bureau.shanghai_officer)
    with pytest.raises(TransitionNotAllowed):
        project_advance(
            project=project,
            actor=bureau.shanghai_officer,
            to_stage=Stage.COMPLETED,
            actual_date=today(),
            evidence=stage_evidence(Stage.COMPLETED),
        )
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    assert project.completed_actual is None
    assert ProjectStageEvent.objects.filter(project=project).count() == 1


@pytest.mark.parametrize("offset", [-1, 400])
def test_actual_date_before_previous_stage_or_in_future_is_refused(bureau, offset):
    project = make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=20))
    day = (
        project.contract_date + timedelta(days=offset)
        if offset < 0
        else today() + timedelta(days=1)
    )
    with pytest.raises(RuleViolation) as err:
        project_advance(
            project=project,
            actor=bureau.shanghai_officer,
            to_stage=Stage.GROUNDBREAKING,
            actual_date=day,
            evidence=stage_evidence(Stage.GROUNDBREAKING),
        )
    assert "actual_date" in err.value.field_errors
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED


def test_outsider_cannot_advance_project_and_no_event_is_written(bureau):
    project = make_project(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        project_advance(
            project=project,
            actor=bureau.outsider,
            to_stage=Stage.GROUNDBREAKING,
            actual_date=today(),
            evidence=stage_evidence(Stage.GROUNDBREAKING),
        )
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    assert project.stage_events.count() == 1


def test_database_keeps_stage_and_actual_dates_consistent(bureau):
    project = make_project(bureau.shanghai_officer, amount=Decimal("500"))
    assert project.size_class == SizeClass.SMALL
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(stage=Stage.COMPLETED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(
            groundbreaking_actual=project.contract_date - timedelta(days=1),
            stage=Stage.GROUNDBREAKING,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        # size class must follow the amount even for a raw update
        Project.objects.filter(pk=project.pk).update(total_investment=Decimal("20000"))


def test_planned_milestones_must_follow_stage_order_and_need_a_reason(bureau):
    project = make_project(bureau.shanghai_officer)
    start = project.contract_date
    with pytest.raises(RuleViolation):
        project_set_plan(
            project=project,
            actor=bureau.shanghai_officer,
            reason="",
            groundbreaking_planned=start,
            completed_planned=None,
            producing_planned=None,
        )
    with pytest.raises(RuleViolation) as err:
        project_set_plan(
            project=project,
            actor=bureau.shanghai_officer,
            reason="倒排节点",
            groundbreaking_planned=start + timedelta(days=60),
            completed_planned=start + timedelta(days=30),
            producing_planned=None,
        )
    assert "completed_planned" in err.value.field_errors
    project = project_set_plan(
        project=project,
        actor=bureau.shanghai_officer,
        reason="倒排节点",
        groundbreaking_planned=start + timedelta(days=30),
        completed_planned=start + timedelta(days=300),
        producing_planned=start + timedelta(days=360),
    )
    assert project.completed_planned == start + timedelta(days=300)


def test_monthly_progress_sets_figures_to_date_and_a_reentry_amends(bureau):
    project = make_project(
        bureau.shanghai_officer,
        amount=Decimal("20000"),
        contract_date=today().replace(day=1) - timedelta(days=40),
    )
    month = today().replace(day=1)
    progress_record(
        project=project,
        actor=bureau.shanghai_officer,
        month=month,
        agreed_investment=20000,
        paid_in=3000,
        fixed_asset_investment=2500,
        arrived_fdi=120,
    )
    progress_record(
        project=project,
        actor=bureau.teammate,
        month=month.replace(day=15),
        agreed_investment=20000,
        paid_in=3000,
        fixed_asset_investment=5000,
        arrived_fdi=150,
        note="更正：漏报设备款",
    )
    project.refresh_from_db()
    assert project.progress.count() == 1
    assert project.invested_to_date == Decimal("5000")
    assert project.arrived_fdi == Decimal("150")
    assert project.completion_rate == Decimal("25.0")


def test_progress_for_a_future_month_or_negative_figure_is_refused(bureau):
    project = make_project(bureau.shanghai_officer)
    next_month = (today().replace(day=1) + timedelta(days=32)).replace(day=1)
    with pytest.raises(RuleViolation):
        progress_record(
            project=project,
            actor=bureau.shanghai_officer,
            month=next_month,
            agreed_investment=1,
            paid_in=1,
            fixed_asset_investment=1,
        )
    with pytest.raises(RuleViolation) as err:
        progress_record(
            project=project,
            actor=bureau.shanghai_officer,
            month=today(),
            agreed_investment=1,
            paid_in=-1,
            fixed_asset_investment=1,
        )
    assert "paid_in" in err.value.field_errors
    assert not project.progress.exists()


def test_correcting_the_signed_amount_needs_a_reason_and_keeps_increments(bureau):
    project = make_project(bureau.shanghai_officer, amount=Decimal("5000"))
    project_record_increment(
        project=project, actor=bureau.shanghai_officer, increased_on=today(), amount=1000
    )
    with pytest.raises(RuleViolation):
        project_update_figures(
            project=project, actor=bureau.shanghai_officer, reason="", signed_investment=6000
        )
    project = project_update_figures(
        project=project,
        actor=bureau.shanghai_officer,
        reason="合同金额录入错误",
        signed_investment=6000,
        land_area=80,
    )
    assert project.total_investment == Decimal("7000")
    assert project.land_area == Decimal("80")
