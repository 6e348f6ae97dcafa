"""An agreement for the Shanghai office's project, as the tests of this app start from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from officers.models import Officer
from projects.models import Project
from promo.agreements import services
from promo.agreements.models import Agreement
from promo.core.services import today
from tests.factories import Bureau, make_project


@dataclass
class Signed:
    bureau: Bureau
    project: Project
    agreement: Agreement
    officer: Officer  # the project's 主办 (it was signed by them)


@pytest.fixture
def signed(bureau) -> Signed:
    officer = bureau.shanghai_officer
    project = make_project(officer, contract_date=today() - timedelta(days=80))
    agreement = services.agreement_create(
        project=project,
        actor=officer,
        kind="main",
        title="年产10万台电机项目投资协议",
        signed_on=today() - timedelta(days=80),
        parties="甲方：某区人民政府；乙方：上海某电机有限公司",
    )
    return Signed(bureau=bureau, project=project, agreement=agreement, officer=officer)


@pytest.fixture(autouse=True)
def _private_cache(private_cache) -> None:
    """Sign-in lockout counters: a cache of this test's own (tests/conftest.py)."""
