"""Evidence attached to a stage change: checked by content and size, stored under a random name."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.choices import Stage
from projects.models import EvidenceKind, ProjectStageEvent, StageEvidence
from projects.services import project_advance, stage_evidence_attach
from promo.core.errors import PermissionDenied, RuleViolation
from tests.factories import make_project

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def advance_with(bureau, project, *files):
    return project_advance(
        project=project,
        actor=bureau.shanghai_officer,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=project.contract_date + timedelta(days=3),
        evidence=files,
    )


def test_groundbreaking_with_a_permit_stores_it_safely(bureau, media):
    project = make_project(bureau.shanghai_officer)
    upload = SimpleUploadedFile("../../施工许可证.pdf", PDF, content_type="text/html")
    project, event = advance_with(bureau, project, (EvidenceKind.CONSTRUCTION_PERMIT, upload))
    evidence = event.evidence.get()
    assert evidence.original_name == "施工许可证.pdf"
    assert evidence.content_type == "application/pdf"  # by content, not by the browser's claim
    assert evidence.size == len(PDF)
    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest()
    stored = media / evidence.file.name
    assert stored.read_bytes() == PDF
    assert ".." not in evidence.file.name and "施工许可证" not in evidence.file.name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("permit.pdf", b"<html><script>alert(1)</script></html>", "只能上传"),
        ("empty.pdf", b"", "空"),
        ("photo.png", PNG + b"\x00" * 2048, "过大"),
    ],
)
def test_wrong_type_empty_or_oversized_file_refuses_the_whole_stage_change(
    bureau, settings, media, name, content, message
):
    settings.PROMO_EVIDENCE_MAX_BYTES = 1024
    project = make_project(bureau.shanghai_officer)
    upload = SimpleUploadedFile(name, content)
    with pytest.raises(RuleViolation) as err:
        advance_with(bureau, project, (EvidenceKind.PHOTO, upload))
    assert message in str(err.value.field_errors["evidence"][0])
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    assert not StageEvidence.objects.exists()
    assert not any(media.rglob("*.*"))


def test_evidence_can_be_added_later_but_not_by_an_outsider(bureau):
    project = make_project(bureau.shanghai_officer)
    event = ProjectStageEvent.objects.get(project=project)
    with pytest.raises(PermissionDenied):
        stage_evidence_attach(
            stage_event=event,
            actor=bureau.outsider,
            kind=EvidenceKind.LAND_CONTRACT,
            upload=SimpleUploadedFile("land.pdf", PDF),
        )
    assert not event.evidence.exists()
    evidence = stage_evidence_attach(
        stage_event=event,
        actor=bureau.teammate,
        kind=EvidenceKind.LAND_CONTRACT,
        upload=SimpleUploadedFile("土地出让合同.pdf", PDF),
    )
    assert evidence.uploaded_by == bureau.teammate


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "kept_as"),
    [
        ("施工许可证.html", PDF, "施工许可证.pdf"),
        ("开工报告.php", PDF, "开工报告.pdf"),
        ("现场照片.svg", PNG, "现场照片.png"),
        ("setup.exe", PNG, "setup.png"),
        ("scan.php.pdf", PDF, "scan_php.pdf"),
        (".htaccess", PNG, "htaccess.png"),
        ("...", PDF, "file.pdf"),
        ("许可证.PDF", PDF, "许可证.pdf"),
    ],
)
def test_the_download_name_ends_in_the_type_the_content_is(bureau, name, content, kept_as):
    """Issue #16: ".html", ".php", ".exe" and ".svg" names were kept for the download: one
    click on "施工许可证.html" would open whatever the browser made of it."""
    project = make_project(bureau.shanghai_officer)
    upload = SimpleUploadedFile(name, content)
    _project, event = advance_with(bureau, project, (EvidenceKind.CONSTRUCTION_PERMIT, upload))
    assert event.evidence.get().original_name == kept_as
