"""POST /api/v1/projects/{id}/advance/ under the bureau's evidence rules (issue #15, finding 9):
stable codes and 400, never a 500; files sent as multipart/form-data."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.choices import Stage
from projects.models import ProjectStageEvent, StageEvidence
from promo.core.services import today
from tests.factories import EVIDENCE_PDF, make_project

pytestmark = pytest.mark.django_db


def advance(client, project, kind=None, fmt="multipart"):
    body = {"to_stage": "groundbreaking", "actual_date": today().isoformat()}
    if kind:
        body["evidence_kind"] = kind
        body["evidence"] = [SimpleUploadedFile(f"{kind}.pdf", EVIDENCE_PDF)]
    return client.post(f"/api/v1/projects/{project.pk}/advance/", body, format=fmt)


def unchanged(project):
    project.refresh_from_db()
    return (
        project.stage == Stage.SIGNED
        and not ProjectStageEvent.objects.filter(to_stage=Stage.GROUNDBREAKING).exists()
        and not StageEvidence.objects.exists()
    )


def test_groundbreaking_without_a_file_is_400_evidence_required(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = advance(client_for(bureau.shanghai_officer), project, fmt="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "evidence_required" and "evidence" in body["fields"]
    assert body["accepted_kinds"] == ["construction_permit", "groundbreaking_report"]
    assert unchanged(project)


def test_a_business_licence_is_400_evidence_kind_not_accepted(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = advance(client_for(bureau.shanghai_officer), project, "business_licence")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "evidence_kind_not_accepted"
    assert unchanged(project)


def test_files_without_a_kind_are_a_400_on_the_kind(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/advance/",
        {
            "to_stage": "groundbreaking",
            "actual_date": today().isoformat(),
            "evidence": [SimpleUploadedFile("a.pdf", EVIDENCE_PDF)],
        },
        format="multipart",
    )
    assert response.status_code == 400 and "evidence_kind" in response.json()["fields"]
    assert unchanged(project)


@pytest.mark.parametrize("kind", ["construction_permit", "groundbreaking_report"])
def test_a_permit_or_report_moves_the_project_and_is_kept(bureau, client_for, kind):
    project = make_project(bureau.shanghai_officer)
    response = advance(client_for(bureau.shanghai_officer), project, kind)
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "groundbreaking"
    assert StageEvidence.objects.get(stage_event__project=project).kind == kind


def test_an_outsider_gets_404_and_nothing_changes(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = advance(client_for(bureau.outsider), project, "construction_permit")
    assert response.status_code == 404
    assert unchanged(project)
