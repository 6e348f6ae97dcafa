"""Evidence rules per stage (issue #15, finding 9): the bureau's rule, enforced at the service.

开工 was accepted with no file, and a business licence was accepted as groundbreaking evidence.
"""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps

from projects.choices import Stage
from projects.models import EvidenceKind, ProjectStageEvent, StageEvidence, StageEvidenceRule
from projects.selectors import accepted_evidence_kinds
from projects.services import project_advance
from promo.core.errors import EvidenceKindNotAccepted, EvidenceRequired, PermissionDenied
from tests.factories import make_project, stage_evidence

pytestmark = pytest.mark.django_db


def advance(bureau, project, to_stage=Stage.GROUNDBREAKING, evidence=(), actor=None):
    return project_advance(
        project=project,
        actor=actor or bureau.shanghai_officer,
        to_stage=to_stage,
        actual_date=project.contract_date + timedelta(days=3),
        note="开工",
        evidence=evidence,
    )


def assert_nothing_written(project):
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED and project.groundbreaking_actual is None
    assert list(ProjectStageEvent.objects.filter(project=project).values_list("to_stage")) == [
        (Stage.SIGNED,)
    ]
    assert not StageEvidence.objects.exists()


def test_the_default_rules_are_the_bureaus_data():
    # What the data migration writes (run again here: a transactional test's flush may have
    # emptied the table before this test).
    StageEvidenceRule.objects.all().delete()
    importlib.import_module("projects.migrations.0007_stage_evidence_rules").create_default_rules(
        django_apps, None
    )
    assert accepted_evidence_kinds(Stage.GROUNDBREAKING) == [
        EvidenceKind.CONSTRUCTION_PERMIT,
        EvidenceKind.GROUNDBREAKING_REPORT,
    ]
    assert accepted_evidence_kinds(Stage.COMPLETED) == [EvidenceKind.ACCEPTANCE]
    assert accepted_evidence_kinds(Stage.PRODUCING) == [EvidenceKind.PRODUCTION_PROOF]


def test_groundbreaking_without_a_file_is_refused_and_nothing_is_written(bureau):
    project = make_project(bureau.shanghai_officer)
    with pytest.raises(EvidenceRequired) as err:
        advance(bureau, project)
    assert err.value.code == "evidence_required" and err.value.status == 400
    assert "施工许可证、开工报告" in str(err.value.field_errors["evidence"][0])
    assert err.value.as_dict()["accepted_kinds"] == ["construction_permit", "groundbreaking_report"]
    assert_nothing_written(project)


def test_a_business_licence_is_no_groundbreaking_evidence(bureau):
    project = make_project(bureau.shanghai_officer)
    with pytest.raises(EvidenceKindNotAccepted) as err:
        advance(bureau, project, evidence=stage_evidence(Stage.GROUNDBREAKING, "business_licence"))
    assert err.value.code == "evidence_kind_not_accepted"
    assert "evidence_kind" in err.value.field_errors
    assert_nothing_written(project)


@pytest.mark.parametrize(
    "kind", [EvidenceKind.CONSTRUCTION_PERMIT, EvidenceKind.GROUNDBREAKING_REPORT]
)
def test_a_permit_or_a_groundbreaking_report_is_accepted(bureau, kind):
    project = make_project(bureau.shanghai_officer)
    project, event = advance(bureau, project, evidence=stage_evidence(Stage.GROUNDBREAKING, kind))
    assert project.stage == Stage.GROUNDBREAKING
    assert [e.kind for e in event.evidence.all()] == [kind]


def test_a_site_photo_may_come_with_the_permit_but_not_instead_of_it(bureau):
    project = make_project(bureau.shanghai_officer)
    photo = stage_evidence(Stage.GROUNDBREAKING, EvidenceKind.PHOTO)
    with pytest.raises(EvidenceKindNotAccepted):
        advance(bureau, project, evidence=photo)
    both = photo + stage_evidence(Stage.GROUNDBREAKING)
    _project, event = advance(bureau, project, evidence=both)
    assert sorted(event.evidence.values_list("kind", flat=True)) == ["construction_permit", "photo"]


def test_completion_and_production_need_their_own_papers(bureau):
    project = make_project(bureau.shanghai_officer)
    project, _ = advance(bureau, project, evidence=stage_evidence(Stage.GROUNDBREAKING))
    with pytest.raises(EvidenceKindNotAccepted):
        advance(
            bureau,
            project,
            Stage.COMPLETED,
            evidence=stage_evidence(Stage.COMPLETED, EvidenceKind.CONSTRUCTION_PERMIT),
        )
    project, _ = advance(bureau, project, Stage.COMPLETED, stage_evidence(Stage.COMPLETED))
    with pytest.raises(EvidenceRequired):
        advance(bureau, project, Stage.PRODUCING)
    project.refresh_from_db()
    assert project.stage == Stage.COMPLETED and project.producing_actual is None
    project, _ = advance(bureau, project, Stage.PRODUCING, stage_evidence(Stage.PRODUCING))
    assert project.stage == Stage.PRODUCING


def test_the_rule_changed_in_the_database_changes_what_is_accepted(bureau):
    # This bureau takes the business licence and no longer the permit for 开工.
    StageEvidenceRule.objects.filter(
        stage=Stage.GROUNDBREAKING, kind=EvidenceKind.CONSTRUCTION_PERMIT
    ).update(active=False)
    StageEvidenceRule.objects.create(stage=Stage.GROUNDBREAKING, kind=EvidenceKind.BUSINESS_LICENCE)
    project = make_project(bureau.shanghai_officer)
    with pytest.raises(EvidenceKindNotAccepted):
        advance(bureau, project, evidence=stage_evidence(Stage.GROUNDBREAKING))
    assert_nothing_written(project)
    project, _ = advance(
        bureau, project, evidence=stage_evidence(Stage.GROUNDBREAKING, "business_licence")
    )
    assert project.stage == Stage.GROUNDBREAKING
    # A stage with no active rule needs nothing.
    StageEvidenceRule.objects.filter(stage=Stage.COMPLETED).update(active=False)
    project, event = advance(bureau, project, Stage.COMPLETED)
    assert project.stage == Stage.COMPLETED and not event.evidence.exists()


def test_an_outsider_is_still_denied_and_nothing_changes(bureau):
    project = make_project(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        advance(
            bureau, project, evidence=stage_evidence(Stage.GROUNDBREAKING), actor=bureau.outsider
        )
    with pytest.raises(PermissionDenied):
        advance(bureau, project, actor=bureau.outsider)  # not told about the rule either
    assert_nothing_written(project)
