"""The advance form under the bureau's evidence rules (issue #15, finding 9): the accepted
kinds shown before saving, a refusal next to the field in Chinese and English, input kept."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.choices import Stage
from projects.models import ProjectStageEvent, StageEvidence, StageEvidenceRule
from promo.core.services import today
from tests.factories import EVIDENCE_PDF, make_project

pytestmark = pytest.mark.django_db


def post(client, project, **extra):
    data = {"actual_date": today().isoformat(), "note": "桩基进场"}
    data.update(extra)
    return client.post(f"/projects/{project.pk}/advance/", data)


def unchanged(project):
    project.refresh_from_db()
    return (
        project.stage == Stage.SIGNED
        and not ProjectStageEvent.objects.filter(to_stage=Stage.GROUNDBREAKING).exists()
        and not StageEvidence.objects.exists()
    )


def test_the_form_says_which_kinds_groundbreaking_needs(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    html = client_for(bureau.shanghai_officer).get(f"/projects/{project.pk}/").content.decode()
    assert "“开工”须附以下任一种佐证材料：施工许可证、开工报告。" in html
    StageEvidenceRule.objects.filter(stage=Stage.GROUNDBREAKING, kind="construction_permit").update(
        active=False
    )
    html = client_for(bureau.shanghai_officer).get(f"/projects/{project.pk}/").content.decode()
    assert "“开工”须附以下任一种佐证材料：开工报告。" in html


def test_groundbreaking_without_a_file_comes_back_next_to_the_file_field(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    response = post(client_for(bureau.shanghai_officer), project)
    assert response.status_code == 200
    errors = response.context["advance_form"].errors
    assert "施工许可证、开工报告" in str(errors["evidence"])
    assert 'value="桩基进场"' in response.content.decode()  # typed values kept
    assert unchanged(project)


def test_a_business_licence_comes_back_next_to_the_kind_in_english(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    licence = SimpleUploadedFile("营业执照.pdf", EVIDENCE_PDF, content_type="application/pdf")
    response = post(client, project, evidence_kind="business_licence", evidence=licence)
    assert response.status_code == 200
    message = str(response.context["advance_form"].errors["evidence_kind"])
    assert "construction permit" in message.lower() and "groundbreaking report" in message.lower()
    html = response.content.decode()
    assert 'value="桩基进场"' in html and 'value="business_licence" selected' in html
    assert unchanged(project)


def test_a_groundbreaking_report_is_accepted(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    report = SimpleUploadedFile("开工报告.pdf", EVIDENCE_PDF, content_type="application/pdf")
    response = post(
        client_for(bureau.shanghai_officer),
        project,
        evidence_kind="groundbreaking_report",
        evidence=report,
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.stage == Stage.GROUNDBREAKING
    assert StageEvidence.objects.get().kind == "groundbreaking_report"


def test_an_outsider_is_denied_and_nothing_changes(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    permit = SimpleUploadedFile("施工许可证.pdf", EVIDENCE_PDF, content_type="application/pdf")
    response = post(
        client_for(bureau.outsider), project, evidence_kind="construction_permit", evidence=permit
    )
    assert response.status_code == 404
    assert unchanged(project)
