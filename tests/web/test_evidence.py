"""Evidence on a stage change: uploaded with the advance form, checked, downloaded safely."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.choices import Stage
from projects.models import ProjectStageEvent, StageEvidence
from promo.core.services import today
from tests.factories import make_project

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _advance(client, project, **files):
    data = {"actual_date": today().isoformat(), "note": "取得施工许可证"}
    data.update(files)
    return client.post(f"/projects/{project.pk}/advance/", data)


def test_advance_with_a_pdf_stores_it_on_the_stage_change_and_lists_it(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    upload = SimpleUploadedFile("施工许可证.pdf", PDF, content_type="application/pdf")
    response = _advance(client, project, evidence_kind="construction_permit", evidence=upload)
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.stage == Stage.GROUNDBREAKING
    evidence = StageEvidence.objects.get()
    assert evidence.stage_event.project == project
    assert evidence.content_type == "application/pdf" and evidence.original_name == "施工许可证.pdf"
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'href="/evidence/{evidence.pk}/"' in html and "施工许可证.pdf" in html
    download = client.get(f"/evidence/{evidence.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "只能上传 PDF、JPEG 或 PNG 文件"),
        ("empty.pdf", b"", "空"),
    ],
)
def test_bad_evidence_comes_back_next_to_the_field_and_nothing_is_written(
    bureau, client_for, name, content, message
):
    project = make_project(bureau.shanghai_officer)
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = _advance(
        client_for(bureau.shanghai_officer),
        project,
        evidence_kind="construction_permit",
        evidence=upload,
    )
    assert response.status_code == 200
    errors = response.context["advance_form"].errors
    assert "evidence" in errors and message in str(errors["evidence"])
    assert 'value="取得施工许可证"' in response.content.decode()
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    assert not ProjectStageEvent.objects.filter(to_stage=Stage.GROUNDBREAKING).exists()
    assert not StageEvidence.objects.exists()


def test_too_big_evidence_is_refused(bureau, client_for, settings):
    settings.PROMO_EVIDENCE_MAX_BYTES = 100
    project = make_project(bureau.shanghai_officer)
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 200, content_type="application/pdf")
    response = _advance(
        client_for(bureau.shanghai_officer), project, evidence_kind="other", evidence=upload
    )
    assert "文件过大" in str(response.context["advance_form"].errors["evidence"])
    assert not StageEvidence.objects.exists()


def test_evidence_without_a_kind_asks_for_one(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    upload = SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")
    response = _advance(client_for(bureau.shanghai_officer), project, evidence=upload)
    assert "evidence_kind" in response.context["advance_form"].errors
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED


def test_outsider_cannot_download_evidence(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    upload = SimpleUploadedFile("permit.pdf", PDF, content_type="application/pdf")
    _advance(
        client_for(bureau.shanghai_officer),
        project,
        evidence_kind="construction_permit",
        evidence=upload,
    )
    evidence = StageEvidence.objects.get()
    assert client_for(bureau.outsider).get(f"/evidence/{evidence.pk}/").status_code == 404
    assert client_for(bureau.teammate).get(f"/evidence/{evidence.pk}/").status_code == 200


def test_evidence_is_added_to_a_recorded_stage_change_and_bad_files_come_back(bureau, client_for):
    project = make_project(bureau.shanghai_officer)
    event = project.stage_events.get()
    client = client_for(bureau.shanghai_officer)
    url = f"/projects/{project.pk}/stages/{event.pk}/evidence/"
    bad = SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="application/pdf")
    response = client.post(url, {f"ev{event.pk}-kind": "land_contract", f"ev{event.pk}-file": bad})
    assert response.status_code == 200
    assert "只能上传" in response.content.decode()
    assert not StageEvidence.objects.exists()
    good = SimpleUploadedFile("土地出让合同.pdf", PDF, content_type="application/pdf")
    response = client.post(url, {f"ev{event.pk}-kind": "land_contract", f"ev{event.pk}-file": good})
    assert response.status_code == 302
    assert StageEvidence.objects.get().stage_event == event
    # An outsider can neither add to nor find the stage change.
    other = SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")
    response = client_for(bureau.outsider).post(
        url, {f"ev{event.pk}-kind": "other", f"ev{event.pk}-file": other}
    )
    assert response.status_code == 404 and StageEvidence.objects.count() == 1
