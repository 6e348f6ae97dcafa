"""The milestones after signing (注册 / 供地 / 入统 / 入规): recorded once by one service, with
their rules, evidence and trail; corrected or withdrawn only by a unit head or chief, with a
reason; the database refuses what the service would."""

from __future__ import annotations

from datetime import timedelta

import pghistory.models
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, InternalError, transaction

from projects.choices import Milestone, MilestoneAction, Stage
from projects.models import EvidenceKind, MilestoneEvent, MilestoneEvidence, Project
from projects.services import (
    project_advance,
    project_milestone_correct,
    project_milestone_record,
    project_set_plan,
)
from promo.core.errors import PermissionDenied, RuleViolation, TransitionNotAllowed
from promo.core.services import today
from tests.factories import make_project, stage_evidence

CODE = "91310000MA1FL0000N"  # a valid 统一社会信用代码 (GB 32100-2015 check character N)
OTHER_CODE = "91320583MA1XY1234F"
PDF = b"%PDF-1.4 test\n"


def _signed(bureau, days_ago: int = 60) -> Project:
    return make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=days_ago))


def _record(project, actor, milestone, day, **kwargs):
    return project_milestone_record(
        project=project, actor=actor, milestone=milestone, actual_date=day, **kwargs
    )


def test_recording_in_statistics_sets_the_date_and_writes_one_event_with_evidence(bureau):
    project = _signed(bureau)
    day = today() - timedelta(days=3)
    upload = SimpleUploadedFile("入统证明.pdf", PDF, content_type="application/pdf")
    project, event = _record(
        project,
        bureau.shanghai_officer,
        Milestone.IN_STATISTICS,
        day,
        note="统计局名录库",
        evidence=[(EvidenceKind.STATISTICS, upload)],
    )
    project.refresh_from_db()
    assert project.in_statistics_actual == day
    assert project.stage == Stage.SIGNED  # beside the stages, not in their place
    assert (event.milestone, event.action, event.actual_date) == (
        Milestone.IN_STATISTICS,
        MilestoneAction.RECORDED,
        day,
    )
    assert event.actor == bureau.shanghai_officer
    evidence = MilestoneEvidence.objects.get()
    assert evidence.milestone_event == event and evidence.kind == EvidenceKind.STATISTICS
    assert evidence.content_type == "application/pdf"


def test_registration_needs_a_valid_credit_code_and_keeps_it(bureau):
    project = _signed(bureau)
    me = bureau.shanghai_officer
    for code in ("", "91310000MA1FL0000X", "9131000"):
        with pytest.raises(RuleViolation) as refused:
            _record(project, me, Milestone.REGISTERED, today(), credit_code=code)
        assert "credit_code" in refused.value.field_errors
    project.refresh_from_db()
    assert project.registered_actual is None and project.company_credit_code == ""
    assert not MilestoneEvent.objects.exists()
    _record(project, me, Milestone.REGISTERED, today(), credit_code=" 9131 0000 ma1fl0000n ")
    project.refresh_from_db()
    assert project.registered_actual == today() and project.company_credit_code == CODE
    assert MilestoneEvent.objects.get().credit_code == CODE


def test_a_credit_code_beside_another_milestone_is_refused_not_dropped(bureau):
    project = _signed(bureau)
    with pytest.raises(RuleViolation) as refused:
        _record(project, bureau.shanghai_officer, Milestone.LAND_GRANTED, today(), credit_code=CODE)
    assert "credit_code" in refused.value.field_errors
    project.refresh_from_db()
    assert project.land_granted_actual is None and not MilestoneEvent.objects.exists()


@pytest.mark.parametrize(
    ("milestone", "offset"),
    [(Milestone.LAND_GRANTED, 1), (Milestone.IN_STATISTICS, -61)],
)
def test_a_date_in_the_future_or_before_the_signing_is_refused(bureau, milestone, offset):
    project = _signed(bureau, days_ago=60)
    with pytest.raises(RuleViolation) as refused:
        _record(project, bureau.shanghai_officer, milestone, today() + timedelta(days=offset))
    assert "actual_date" in refused.value.field_errors
    project.refresh_from_db()
    assert project.milestone_actual(milestone) is None and not MilestoneEvent.objects.exists()


def test_above_size_needs_in_statistics_first_and_not_an_earlier_date(bureau):
    project = _signed(bureau)
    me = bureau.shanghai_officer
    with pytest.raises(RuleViolation) as refused:
        _record(project, me, Milestone.ABOVE_SIZE, today())
    assert "milestone" in refused.value.field_errors
    _record(project, me, Milestone.IN_STATISTICS, today() - timedelta(days=5))
    with pytest.raises(RuleViolation) as refused:
        _record(project, me, Milestone.ABOVE_SIZE, today() - timedelta(days=6))
    assert "actual_date" in refused.value.field_errors
    _record(project, me, Milestone.ABOVE_SIZE, today() - timedelta(days=5))
    project.refresh_from_db()
    assert project.above_size_actual == today() - timedelta(days=5)


def test_a_milestone_is_recorded_once_so_a_double_submit_writes_nothing_more(bureau):
    project = _signed(bureau)
    me = bureau.shanghai_officer
    _record(project, me, Milestone.LAND_GRANTED, today() - timedelta(days=2))
    with pytest.raises(TransitionNotAllowed) as refused:
        _record(project, me, Milestone.LAND_GRANTED, today())
    assert "milestone" in refused.value.field_errors
    project.refresh_from_db()
    assert project.land_granted_actual == today() - timedelta(days=2)
    assert MilestoneEvent.objects.count() == 1


def test_outsider_and_assisting_officer_cannot_record_and_nothing_is_written(bureau):
    project = _signed(bureau)
    with pytest.raises(PermissionDenied):
        _record(project, bureau.outsider, Milestone.LAND_GRANTED, today())
    from officers.choices import AssignmentRole
    from projects.services import project_assignment_add

    project_assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.teammate,
        role=AssignmentRole.ASSISTING,
        project=project,
    )
    with pytest.raises(PermissionDenied):
        _record(project, bureau.teammate, Milestone.LAND_GRANTED, today())
    project.refresh_from_db()
    assert project.land_granted_actual is None and not MilestoneEvent.objects.exists()


def test_a_bad_evidence_file_refuses_the_whole_record(bureau):
    project = _signed(bureau)
    upload = SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    with pytest.raises(RuleViolation) as refused:
        _record(
            project,
            bureau.shanghai_officer,
            Milestone.LAND_GRANTED,
            today(),
            evidence=[(EvidenceKind.LAND_CONTRACT, upload)],
        )
    assert "evidence" in refused.value.field_errors
    project.refresh_from_db()
    assert project.land_granted_actual is None and not MilestoneEvent.objects.exists()


def test_the_unit_head_corrects_a_date_with_a_reason_and_the_trail_keeps_both(bureau):
    project = _signed(bureau)
    wrong, right = today() - timedelta(days=2), today() - timedelta(days=10)
    _record(project, bureau.shanghai_officer, Milestone.IN_STATISTICS, wrong)
    with pytest.raises(PermissionDenied):  # the 主办 does not rewrite a counted date alone
        project_milestone_correct(
            project=project,
            actor=bureau.shanghai_officer,
            milestone=Milestone.IN_STATISTICS,
            actual_date=right,
            reason="录错",
        )
    with pytest.raises(RuleViolation) as refused:
        project_milestone_correct(
            project=project,
            actor=bureau.shanghai_head,
            milestone=Milestone.IN_STATISTICS,
            actual_date=right,
            reason=" ",
        )
    assert "reason" in refused.value.field_errors
    project_milestone_correct(
        project=project,
        actor=bureau.shanghai_head,
        milestone=Milestone.IN_STATISTICS,
        actual_date=right,
        reason="以统计局入库通知为准",
    )
    project.refresh_from_db()
    assert project.in_statistics_actual == right
    recorded, corrected = MilestoneEvent.objects.order_by("pk")
    assert recorded.actual_date == wrong
    assert (corrected.action, corrected.previous_date, corrected.actual_date) == (
        MilestoneAction.CORRECTED,
        wrong,
        right,
    )
    assert corrected.actor == bureau.shanghai_head and corrected.note == "以统计局入库通知为准"
    # The history trigger kept the change with who and why.
    changes = [
        (e.pgh_diff["in_statistics_actual"], (e.pgh_context or {}).get("why"))
        for e in pghistory.models.Events.objects.tracks(project).exclude(pgh_diff__isnull=True)
        if "in_statistics_actual" in (e.pgh_diff or {})
    ]
    assert [why for _diff, why in changes][-1] == "以统计局入库通知为准"


def test_corrections_keep_the_order_and_withdrawal_goes_latest_first(bureau):
    project = _signed(bureau)
    me, head = bureau.shanghai_officer, bureau.shanghai_head
    _record(project, me, Milestone.IN_STATISTICS, today() - timedelta(days=20))
    _record(project, me, Milestone.ABOVE_SIZE, today() - timedelta(days=10))
    with pytest.raises(RuleViolation):  # 入统 after the recorded 入规
        project_milestone_correct(
            project=project,
            actor=head,
            milestone=Milestone.IN_STATISTICS,
            actual_date=today() - timedelta(days=5),
            reason="改",
        )
    with pytest.raises(RuleViolation):  # 入统 withdrawn while 入规 stands
        project_milestone_correct(
            project=project,
            actor=head,
            milestone=Milestone.IN_STATISTICS,
            actual_date=None,
            reason="撤",
        )
    project_milestone_correct(
        project=project, actor=head, milestone=Milestone.ABOVE_SIZE, actual_date=None, reason="误报"
    )
    project.refresh_from_db()
    assert project.above_size_actual is None and project.in_statistics_actual is not None
    withdrawn = MilestoneEvent.objects.latest("pk")
    assert withdrawn.action == MilestoneAction.WITHDRAWN and withdrawn.actual_date is None
    with pytest.raises(TransitionNotAllowed):  # nothing left to correct
        project_milestone_correct(
            project=project,
            actor=head,
            milestone=Milestone.ABOVE_SIZE,
            actual_date=None,
            reason="再撤",
        )


def test_withdrawing_registration_clears_the_credit_code(bureau):
    project = _signed(bureau)
    _record(project, bureau.shanghai_officer, Milestone.REGISTERED, today(), credit_code=CODE)
    project_milestone_correct(
        project=project,
        actor=bureau.chief,
        milestone=Milestone.REGISTERED,
        actual_date=today() - timedelta(days=1),
        credit_code=OTHER_CODE,
        reason="代码录错",
    )
    project.refresh_from_db()
    assert project.company_credit_code == OTHER_CODE
    project_milestone_correct(
        project=project,
        actor=bureau.chief,
        milestone=Milestone.REGISTERED,
        actual_date=None,
        reason="非本项目公司",
    )
    project.refresh_from_db()
    assert project.registered_actual is None and project.company_credit_code == ""


def test_outsider_cannot_correct_and_nothing_changes(bureau):
    project = _signed(bureau)
    _record(project, bureau.shanghai_officer, Milestone.LAND_GRANTED, today())
    with pytest.raises(PermissionDenied):
        project_milestone_correct(
            project=project,
            actor=bureau.outsider,
            milestone=Milestone.LAND_GRANTED,
            actual_date=None,
            reason="x",
        )
    project.refresh_from_db()
    assert project.land_granted_actual == today() and MilestoneEvent.objects.count() == 1


def test_planned_milestones_are_rescheduled_with_the_stages_and_checked(bureau):
    project = _signed(bureau, days_ago=10)
    me = bureau.shanghai_officer
    plan = {
        "groundbreaking_planned": None,
        "completed_planned": None,
        "producing_planned": None,
    }
    with pytest.raises(RuleViolation) as refused:
        project_set_plan(
            project=project,
            actor=me,
            reason="排期",
            **plan,
            milestones_planned={
                "in_statistics": today() + timedelta(days=90),
                "above_size": today(),
            },
        )
    assert "above_size_planned" in refused.value.field_errors
    with pytest.raises(RuleViolation) as refused:
        project_set_plan(
            project=project,
            actor=me,
            reason="排期",
            **plan,
            milestones_planned={"registered": today() - timedelta(days=30)},
        )
    assert "registered_planned" in refused.value.field_errors
    project_set_plan(
        project=project,
        actor=me,
        reason="排期",
        **plan,
        milestones_planned={"registered": today() + timedelta(days=5)},
    )
    # Milestones left out keep their plan.
    project_set_plan(
        project=project,
        actor=me,
        reason="排期",
        **plan,
        milestones_planned={"land_granted": today() + timedelta(days=9)},
    )
    project.refresh_from_db()
    assert project.registered_planned == today() + timedelta(days=5)
    assert project.land_granted_planned == today() + timedelta(days=9)


def test_the_database_refuses_milestones_out_of_order_or_without_a_code(bureau):
    project = _signed(bureau)
    rows = Project.objects.filter(pk=project.pk)
    for change in (
        {"above_size_actual": today()},  # 入规 without 入统
        {"in_statistics_actual": project.contract_date - timedelta(days=1)},
        {"registered_actual": today()},  # 注册 without a code
        {"company_credit_code": CODE},  # a code without 注册
        {"registered_actual": today(), "company_credit_code": "not-a-code-at-all!"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            rows.update(**change)


def test_milestone_events_are_append_only(bureau):
    project = _signed(bureau)
    _project, event = _record(project, bureau.shanghai_officer, Milestone.LAND_GRANTED, today())
    with pytest.raises(InternalError, match="Cannot update or delete"), transaction.atomic():
        MilestoneEvent.objects.filter(pk=event.pk).update(note="改写")
    with pytest.raises(InternalError, match="Cannot update or delete"), transaction.atomic():
        MilestoneEvent.objects.filter(pk=event.pk).delete()
    assert MilestoneEvent.objects.get(pk=event.pk).note == ""


def test_milestones_run_beside_the_stage_machine(bureau):
    project = _signed(bureau)
    me = bureau.shanghai_officer
    project_advance(
        project=project,
        actor=me,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=today(),
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    _record(project, me, Milestone.LAND_GRANTED, today() - timedelta(days=1))
    project.refresh_from_db()
    assert project.stage == Stage.GROUNDBREAKING and project.land_granted_actual is not None
