"""Problems (马上办): raise on a project, take up, ask again (escalates), resolve."""

from __future__ import annotations

from datetime import timedelta

import pytest

from projects import services as project_services
from projects.choices import ProblemKind, ProblemStatus
from projects.models import Problem
from promo.core.services import today
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def raise_problem(bureau, project):
    return project_services.problem_raise(
        project=project,
        actor=bureau.shanghai_officer,
        kind=ProblemKind.LAND_APPROVAL,
        title="土地证办理缓慢",
        owner_unit=bureau.shanghai,
        due_on=today() + timedelta(days=10),
    )


def test_raise_a_problem_makes_me_first_asked(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    assert client.get(f"/projects/{project.pk}/problems/new/").status_code == 200
    response = client.post(
        f"/projects/{project.pk}/problems/new/",
        {
            "kind": "power",
            "title": "临时用电",
            "owner_unit": bureau.department.pk,
            "due_on": (today() + timedelta(days=5)).isoformat(),
        },
    )
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/problems/{problem.pk}/"
    assert (
        problem.first_asked == bureau.shanghai_officer and problem.owner_unit == bureau.department
    )


def test_raise_with_a_due_date_in_the_past_comes_back_with_the_error(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/projects/{project.pk}/problems/new/",
        {
            "kind": "power",
            "title": "临时用电",
            "owner_unit": bureau.department.pk,
            "due_on": (today() - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "due_on" in response.context["form"].errors
    assert 'value="临时用电"' in response.content.decode()
    assert not Problem.objects.exists()


def test_start_ask_again_and_resolve(bureau, client_for):
    problem = raise_problem(bureau, make_project(bureau.shanghai_officer))
    client = client_for(bureau.shanghai_officer)
    assert client.get(f"/problems/{problem.pk}/").status_code == 200
    assert client.post(f"/problems/{problem.pk}/start/").status_code == 302
    assert client.post(f"/problems/{problem.pk}/ask/", {"note": "企业再次来电"}).status_code == 302
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.IN_PROGRESS and problem.ask_count == 2
    # The escalated problem shows on the owner unit's home pages.
    head = client_for(bureau.shanghai_head)
    assert "土地证办理缓慢" in head.get("/").content.decode()
    # The unit's head closes it: the officer who raised it does not (issue #13).
    client = head
    response = client.post(
        f"/problems/{problem.pk}/resolve/", {"resolution": "", "resolved_on": today().isoformat()}
    )
    assert response.status_code == 200 and "resolution" in response.context["resolve_form"].errors
    response = client.post(
        f"/problems/{problem.pk}/resolve/",
        {"resolution": "已协调自然资源局办结", "resolved_on": today().isoformat()},
    )
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.RESOLVED


def test_a_third_ask_is_refused_with_a_message(bureau, client_for):
    problem = raise_problem(bureau, make_project(bureau.shanghai_officer))
    client = client_for(bureau.shanghai_officer)
    client.post(f"/problems/{problem.pk}/ask/", {"note": "二次"})
    response = client.post(f"/problems/{problem.pk}/ask/", {"note": "三次"}, follow=True)
    assert response.status_code == 200
    problem.refresh_from_db()
    assert problem.ask_count == 2 and problem.actions.count() == 2


def test_outsider_gets_404_on_problem_pages_and_nothing_changes(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    problem = raise_problem(bureau, project)
    client = client_for(bureau.outsider)
    assert client.get(f"/problems/{problem.pk}/").status_code == 404
    assert client.post(f"/problems/{problem.pk}/ask/", {"note": "x"}).status_code == 404
    response = client.post(
        f"/problems/{problem.pk}/resolve/",
        {"resolution": "x", "resolved_on": today().isoformat()},
    )
    assert response.status_code == 404
    assert client.get(f"/projects/{project.pk}/problems/new/").status_code == 404
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.OPEN and problem.ask_count == 1
    assert problem.actions.count() == 1


def test_the_department_user_of_the_owner_unit_opens_and_takes_up_the_problem(bureau, client_for):
    problem = project_services.problem_raise(
        project=make_project(bureau.shanghai_officer),
        actor=bureau.shanghai_officer,
        kind=ProblemKind.LAND_APPROVAL,
        title="用地预审迟迟未批",
        owner_unit=bureau.department,
        due_on=today() + timedelta(days=10),
    )
    client = client_for(bureau.submitter)
    assert client.get(f"/problems/{problem.pk}/").status_code == 200
    assert client.post(f"/problems/{problem.pk}/start/").status_code == 302
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.IN_PROGRESS


def test_the_raiser_is_not_offered_and_cannot_post_the_resolution(bureau, client_for):
    problem = raise_problem(bureau, make_project(bureau.shanghai_officer))
    client = client_for(bureau.shanghai_officer)
    assert client.get(f"/problems/{problem.pk}/").context["resolve_form"] is None
    response = client.post(
        f"/problems/{problem.pk}/resolve/",
        {"resolution": "我自己办结", "resolved_on": today().isoformat()},
    )
    assert response.status_code == 403
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.OPEN and problem.actions.count() == 1


def test_escalation_says_who_it_went_to(bureau, client_for):
    problem = raise_problem(bureau, make_project(bureau.shanghai_officer))
    client = client_for(bureau.shanghai_officer)
    response = client.post(f"/problems/{problem.pk}/ask/", {"note": "企业再次来电"}, follow=True)
    text = response.content.decode()
    assert "已升级" in text and bureau.shanghai_head.display_name in text
