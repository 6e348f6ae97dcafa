"""马上办: first-asked responsibility and closing by the second ask."""

from __future__ import annotations

from datetime import timedelta

import pytest

from projects.choices import ProblemKind, ProblemStatus
from projects.models import ProblemAction
from projects.services import problem_ask_again, problem_raise, problem_resolve, problem_start
from promo.core.errors import PermissionDenied, RuleViolation, TransitionNotAllowed
from promo.core.services import today
from tests.factories import make_project


@pytest.fixture
def problem(bureau):
    project = make_project(bureau.shanghai_officer)
    return problem_raise(
        project=project,
        actor=bureau.shanghai_officer,
        kind=ProblemKind.POWER,
        title="临时用电迟迟未接入",
        owner_unit=bureau.bureau,
        due_on=today() + timedelta(days=7),
        investor_contact="项目经理 黄先生",
    )


def test_raising_records_the_first_asked_officer(problem, bureau):
    assert problem.first_asked == bureau.shanghai_officer
    assert problem.status == ProblemStatus.OPEN
    assert problem.ask_count == 1
    assert list(problem.actions.values_list("action", flat=True)) == [ProblemAction.Action.RAISED]


def test_second_ask_escalates_once_and_a_third_is_refused(problem, bureau):
    problem = problem_ask_again(problem=problem, actor=bureau.shanghai_officer, note="企业再次来电")
    assert problem.ask_count == 2
    assert problem.escalated_at is not None
    assert problem.first_asked == bureau.shanghai_officer
    with pytest.raises(TransitionNotAllowed):
        problem_ask_again(problem=problem, actor=bureau.shanghai_officer)
    assert problem.actions.filter(action=ProblemAction.Action.ASKED_AGAIN).count() == 1


def test_resolution_requires_a_result_and_closes_for_good(problem, bureau):
    with pytest.raises(RuleViolation):
        problem_resolve(problem=problem, actor=bureau.chief, resolution=" ")
    problem = problem_start(problem=problem, actor=bureau.chief)
    problem = problem_resolve(problem=problem, actor=bureau.chief, resolution="供电公司已接入临电")
    assert problem.status == ProblemStatus.RESOLVED
    assert problem.resolved_on == today()
    with pytest.raises(TransitionNotAllowed):
        problem_ask_again(problem=problem, actor=bureau.shanghai_officer)


def test_outsider_cannot_touch_the_problem_and_nothing_changes(problem, bureau):
    with pytest.raises(PermissionDenied):
        problem_resolve(problem=problem, actor=bureau.outsider, resolution="已解决")
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.OPEN
    assert problem.actions.count() == 1


def test_due_date_before_raised_date_is_refused(bureau):
    project = make_project(bureau.shanghai_officer)
    with pytest.raises(RuleViolation) as err:
        problem_raise(
            project=project,
            actor=bureau.shanghai_officer,
            kind=ProblemKind.LABOUR,
            title="招工难",
            owner_unit=bureau.bureau,
            due_on=today() - timedelta(days=1),
        )
    assert "due_on" in err.value.field_errors


def _routed_to_department(bureau):
    return problem_raise(
        project=make_project(bureau.shanghai_officer),
        actor=bureau.shanghai_officer,
        kind=ProblemKind.LAND_APPROVAL,
        title="用地预审迟迟未批",
        owner_unit=bureau.department,
        due_on=today() + timedelta(days=7),
    )


def test_the_department_the_problem_is_routed_to_sees_and_handles_it(bureau):
    from projects.selectors import problems_visible_to

    problem = _routed_to_department(bureau)
    assert problems_visible_to(bureau.submitter).filter(pk=problem.pk).exists()
    problem = problem_start(problem=problem, actor=bureau.submitter, note="已受理")
    problem = problem_resolve(problem=problem, actor=bureau.submitter, resolution="预审已批复")
    assert problem.status == ProblemStatus.RESOLVED


def test_the_raiser_cannot_resolve_his_own_problem_and_nothing_changes(problem, bureau):
    with pytest.raises(PermissionDenied):
        problem_resolve(problem=problem, actor=bureau.shanghai_officer, resolution="我说办完了")
    problem.refresh_from_db()
    assert (problem.status, problem.resolution, problem.actions.count()) == (
        ProblemStatus.OPEN,
        "",
        1,
    )
    problem = problem_resolve(problem=problem, actor=bureau.chief, resolution="已接入临电")
    assert problem.status == ProblemStatus.RESOLVED


def test_escalation_names_the_owner_units_head_and_notifies_them(bureau):
    problem = problem_raise(
        project=make_project(bureau.shanghai_officer),
        actor=bureau.shanghai_officer,
        kind=ProblemKind.POWER,
        title="临电未接入",
        owner_unit=bureau.shanghai,
        due_on=today() + timedelta(days=7),
    )
    problem = problem_ask_again(problem=problem, actor=bureau.shanghai_officer, note="再次来电")
    asked = problem.actions.get(action=ProblemAction.Action.ASKED_AGAIN)
    assert bureau.shanghai_head.display_name in asked.note
    assert list(problem.escalated_to.all()) == [bureau.shanghai_head]


def test_escalation_of_a_unit_without_a_head_goes_to_the_chiefs(bureau):
    problem = _routed_to_department(bureau)
    problem = problem_ask_again(problem=problem, actor=bureau.shanghai_officer)
    assert list(problem.escalated_to.all()) == [bureau.chief]
    assert bureau.chief.display_name in problem.actions.last().note
