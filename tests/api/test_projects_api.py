"""Projects and problems over the API: scoped reads, stage advance, progress, problem actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.choices import ProblemStatus, Stage
from projects.models import InvestmentProgress, Problem, ProblemAction, Project, ProjectStageEvent
from promo.core.services import today
from tests.factories import EVIDENCE_PDF, make_investor, make_project

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_outsider_sees_none_of_shanghais_projects_and_gets_404(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    outsider = client_for(bureau.outsider)
    assert ids(outsider.get("/api/v1/projects/")) == set()
    assert outsider.get(f"/api/v1/projects/{project.pk}/").status_code == 404
    assert outsider.get(f"/api/v1/projects/{project.pk}/progress/").status_code == 404


def test_project_detail_has_stages_with_planned_and_actual_dates(bureau, client_for):
    planned = today() + timedelta(days=60)
    project = make_project(bureau.shanghai_officer, groundbreaking_planned=planned)
    body = client_for(bureau.shanghai_officer).get(f"/api/v1/projects/{project.pk}/").json()
    assert body["stage"] == "signed"
    assert body["allowed_stages"] == ["groundbreaking"]  # the 主办 reports the milestones
    stages = {row["stage"]: row for row in body["stages"]}
    assert stages["signed"]["actual"] == project.contract_date.isoformat()
    assert stages["groundbreaking"] == {
        "stage": "groundbreaking",
        "planned": planned.isoformat(),
        "actual": None,
    }
    assert body["progress"] == []


def test_create_project_directly_goes_through_the_service(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        "/api/v1/projects/",
        {
            "investor": investor.pk,
            "name": "智能装备产业园",
            "industry": "equipment",
            "contract_date": (today() - timedelta(days=10)).isoformat(),
            "total_investment": "2000",
            "source_system": "ndrc",
            "external_id": "P-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    project = Project.objects.get(pk=response.json()["id"])
    assert project.size_class == "10m"
    assert project.stage_events.get().to_stage == Stage.SIGNED
    assert (project.source_system, project.external_id) == ("ndrc", "P-1")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"total_investment": "-1"}, "total_investment"),
        ({"total_investment": "0"}, "total_investment"),
        ({"contract_date": "2999-01-01"}, "contract_date"),
        ({"contract_date": "yesterday"}, "contract_date"),
        ({"groundbreaking_planned": "2000-01-01"}, "groundbreaking_planned"),
        ({"unit": 123456789}, "unit"),
    ],
)
def test_bad_project_input_is_400_and_nothing_written(bureau, client_for, payload, field):
    investor = make_investor(bureau.shanghai_officer)
    body = {
        "investor": investor.pk,
        "name": "项目",
        "industry": "equipment",
        "contract_date": (today() - timedelta(days=10)).isoformat(),
        "total_investment": "2000",
        **payload,
    }
    response = client_for(bureau.shanghai_officer).post("/api/v1/projects/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not Project.objects.exists()


def test_advance_moves_one_stage_and_records_the_event(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/advance/",
        {
            "to_stage": "groundbreaking",
            "actual_date": today().isoformat(),
            "note": "奠基",
            "evidence_kind": "construction_permit",
            "evidence": [SimpleUploadedFile("施工许可证.pdf", EVIDENCE_PDF)],
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "groundbreaking"
    project.refresh_from_db()
    assert project.groundbreaking_actual == today()
    assert project.stage_events.last().note == "奠基"


def test_skipping_a_stage_is_409_and_nothing_changes(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    events = ProjectStageEvent.objects.count()
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/advance/",
        {"to_stage": "producing", "actual_date": today().isoformat()},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    assert ProjectStageEvent.objects.count() == events


def test_outsider_cannot_advance_and_gets_404(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = client_for(bureau.outsider).post(
        f"/api/v1/projects/{project.pk}/advance/",
        {"to_stage": "groundbreaking", "actual_date": today().isoformat()},
        format="json",
    )
    assert response.status_code == 404
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED


def test_progress_is_recorded_and_read_back_nested(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    response = client.post(
        f"/api/v1/projects/{project.pk}/progress/",
        {
            "month": today().isoformat(),
            "agreed_investment": "12000",
            "paid_in": "3000",
            "fixed_asset_investment": "2500",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["month"] == today().replace(day=1).isoformat()
    listed = client.get(f"/api/v1/projects/{project.pk}/progress/").json()
    assert [row["fixed_asset_investment"] for row in listed] == ["2500.00"]
    detail = client.get(f"/api/v1/projects/{project.pk}/").json()
    assert detail["invested_to_date"] == "2500.00"
    assert detail["progress"][0]["paid_in"] == "3000.00"


def test_negative_progress_is_400_and_nothing_written(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/progress/",
        {
            "month": today().isoformat(),
            "agreed_investment": "12000",
            "paid_in": "-3",
            "fixed_asset_investment": "2500",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "paid_in" in response.json()["fields"]
    assert not InvestmentProgress.objects.exists()


def _raise_problem(client, project, owner_unit):
    return client.post(
        "/api/v1/problems/",
        {
            "project": project.pk,
            "kind": "power",
            "title": "双回路供电未落实",
            "owner_unit": owner_unit.pk,
            "due_on": (today() + timedelta(days=7)).isoformat(),
        },
        format="json",
    )


def test_problem_raise_ask_again_and_resolve(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    response = _raise_problem(client, project, bureau.department)
    assert response.status_code == 201, response.json()
    problem_id = response.json()["id"]
    assert response.json()["first_asked"]["id"] == bureau.shanghai_officer.pk

    again = client.post(f"/api/v1/problems/{problem_id}/ask-again/", {}, format="json")
    assert again.status_code == 200, again.json()
    assert again.json()["ask_count"] == 2
    assert again.json()["escalated_at"] is not None

    third = client.post(f"/api/v1/problems/{problem_id}/ask-again/", {}, format="json")
    assert third.status_code == 409
    assert Problem.objects.get(pk=problem_id).ask_count == 2

    empty = client.post(f"/api/v1/problems/{problem_id}/resolve/", {}, format="json")
    assert empty.status_code == 400
    assert "resolution" in empty.json()["fields"]

    own = client.post(
        f"/api/v1/problems/{problem_id}/resolve/", {"resolution": "我自己办结"}, format="json"
    )
    assert own.status_code == 403  # the raiser does not close his own problem (issue #13)
    assert Problem.objects.get(pk=problem_id).status != ProblemStatus.RESOLVED

    # The department it was routed to (its 信息员) closes it.
    done = client_for(bureau.submitter).post(
        f"/api/v1/problems/{problem_id}/resolve/", {"resolution": "已协调供电局"}, format="json"
    )
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == ProblemStatus.RESOLVED
    actions = list(
        ProblemAction.objects.filter(problem_id=problem_id).values_list("action", flat=True)
    )
    assert actions == ["raised", "asked_again", "resolved"]


def test_problem_on_invisible_project_is_400_and_nothing_written(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = _raise_problem(client_for(bureau.outsider), project, bureau.shenzhen)
    assert response.status_code == 400
    assert "project" in response.json()["fields"]
    assert not Problem.objects.exists()


def test_outsider_sees_no_shanghai_problem(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = _raise_problem(client_for(bureau.shanghai_officer), project, bureau.shanghai)
    problem_id = response.json()["id"]
    outsider = client_for(bureau.outsider)
    assert ids(outsider.get("/api/v1/problems/")) == set()
    assert outsider.get(f"/api/v1/problems/{problem_id}/").status_code == 404
    assert (
        outsider.post(f"/api/v1/problems/{problem_id}/resolve/", {"resolution": "x"}).status_code
        == 404
    )
    assert Problem.objects.get(pk=problem_id).status == ProblemStatus.OPEN


def test_a_second_project_with_the_same_external_id_is_409_and_nothing_written(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    body = {
        "investor": investor.pk,
        "name": "外部项目",
        "industry": "equipment",
        "contract_date": (today() - timedelta(days=10)).isoformat(),
        "total_investment": "2000",
        "source_system": "ndrc",
        "external_id": "DUP-1",
    }
    assert client.post("/api/v1/projects/", body, format="json").status_code == 201
    again = client.post("/api/v1/projects/", {**body, "name": "又一个"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert Project.objects.count() == 1
    assert ProjectStageEvent.objects.count() == 1


def test_plan_is_rescheduled_with_a_reason(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    later = today() + timedelta(days=90)
    body = {"groundbreaking_planned": later.isoformat(), "completed_planned": None}
    body["producing_planned"] = None
    refused = client.post(f"/api/v1/projects/{project.pk}/plan/", body, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.json()["fields"]
    done = client.post(
        f"/api/v1/projects/{project.pk}/plan/", {**body, "reason": "土地摘牌推迟"}, format="json"
    )
    assert done.status_code == 200, done.json()
    project.refresh_from_db()
    assert project.groundbreaking_planned == later


def test_figures_change_only_what_is_sent_and_total_follows(bureau, client_for):
    project = make_project(bureau.shanghai_officer, amount=12000)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/figures/",
        {"signed_investment": "15000", "jobs": 300, "reason": "合同补充协议"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["signed_investment"], body["total_investment"]) == ("15000.00", "15000.00")
    assert body["jobs"] == 300
    assert body["registered_capital"] == "0.00"


def test_increment_raises_the_total_and_creates_no_project(bureau, client_for):
    project = make_project(bureau.shanghai_officer, amount=9000)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/increments/",
        {"increased_on": today().isoformat(), "amount": "2000"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["total_investment"] == "11000.00"
    assert response.json()["size_class"] == "100m"
    assert Project.objects.count() == 1


def test_zero_increment_is_400_and_nothing_changes(bureau, client_for):
    project = make_project(bureau.shanghai_officer, amount=9000)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/increments/",
        {"increased_on": today().isoformat(), "amount": "0"},
        format="json",
    )
    assert response.status_code == 400
    assert "amount" in response.json()["fields"]
    project.refresh_from_db()
    assert project.total_investment == 9000


def test_project_gets_its_responsible_leader(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = client_for(bureau.chief).post(
        f"/api/v1/projects/{project.pk}/assignments/",
        {"officer": bureau.chief.pk, "role": "leader"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert {
        "officer": {"id": bureau.chief.pk, "name": "王局长"},
        "role": "leader",
    } in response.json()["assignments"]
