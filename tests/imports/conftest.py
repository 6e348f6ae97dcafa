"""Fixtures of the import tests."""

from __future__ import annotations

import pytest

from projects.models import StageEvidenceRule


@pytest.fixture
def evidence_rules_off(bureau):
    """The bureau has switched its stage evidence rules off (阶段佐证要求, in the admin), as it
    would to load a historical ledger whose actual dates come without files: the tests of the
    ledger's parsing and matching keep their 开工时间 columns. With the rules on, such a row is
    refused (tests/imports/test_stage_evidence_import.py). After ``bureau``, which puts the
    default rules back when a flush removed them."""
    StageEvidenceRule.objects.update(active=False)
