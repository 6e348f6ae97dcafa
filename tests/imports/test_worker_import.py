"""End to end: an officer uploads a ledger through the pages; a real Celery worker on real Redis
checks it, and after the confirmation writes it, against the test database."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.choices import SourceChannel
from leads.models import Investor, Lead
from promo.celery import app
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch
from tests.factories import PASSWORD
from tests.imports.files import xlsx
from tests.reports.test_worker import queue, worker  # noqa: F401 - the real worker fixtures

ROWS = 300


def _ledger() -> bytes:
    header = ["编号", "项目名称", "投资方", "总投资(万元)", "行业", "信息来源", "项目概况"]
    return xlsx(
        [header]
        + [
            [
                f"W-{i:04d}",
                f"第{i}号智能制造项目",
                f"第{i}号精密机械有限公司",
                f"{1000 + i}.5",
                "高端装备",
                "以商招商",
                f"厂房{i}亩",
            ]
            for i in range(1, ROWS + 1)
        ]
    )


def _reset_router() -> None:
    app.amqp._rtable = None
    app.amqp.__dict__.pop("router", None)


@pytest.fixture
def routed(queue):  # noqa: F811
    """The pages send run_import as in production; here it goes to this test's worker queue."""
    saved = app.conf.task_routes
    app.conf.task_routes = {"promo.imports.tasks.run_import": {"queue": queue}}
    _reset_router()
    yield
    app.conf.task_routes = saved
    _reset_router()


def _follow(client, pk: int, until: str, timeout: float = 120) -> list[dict]:
    """Poll the progress endpoint as the page does, until the batch reaches ``until``."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/imports/{pk}/progress/")
        assert response.status_code == 200
        progress = response.json()
        seen.append(progress)
        if progress["status"] == until and not progress["running"]:
            return seen
        assert progress["status"] not in (BatchStatus.FAILED, BatchStatus.REFUSED), progress
        time.sleep(0.2)
    raise AssertionError(f"batch {pk} did not reach {until}: {seen[-1]}")


@pytest.mark.django_db(transaction=True)
def test_upload_check_confirm_and_commit_through_a_real_worker(client, bureau, worker, routed):  # noqa: F811
    me = bureau.shanghai_officer
    assert client.login(username=me.username, password=PASSWORD)

    response = client.post(
        "/imports/new/",
        {"kind": ImportKind.LEADS, "file": SimpleUploadedFile("招商台账.xlsx", _ledger())},
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"

    checked = _follow(client, batch.pk, BatchStatus.CHECKED)
    assert checked[-1]["total"] == ROWS and checked[-1]["percent"] == 100
    assert not Lead.objects.exists() and not Investor.objects.exists()
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert f"新增 {ROWS}" in page and "错误 0" in page

    response = client.post(f"/imports/{batch.pk}/confirm/")
    assert response.status_code == 302
    committed = _follow(client, batch.pk, BatchStatus.COMMITTED)
    assert committed[-1]["done"] == ROWS

    batch.refresh_from_db()
    assert (batch.created_count, batch.error_count, batch.committed_at is not None) == (
        ROWS,
        0,
        True,
    )
    assert Lead.objects.count() == ROWS and Investor.objects.count() == ROWS
    lead = Lead.objects.select_related("investor", "unit").get(external_id="W-0042")
    assert (lead.name, lead.investor.name, lead.unit) == (
        "第42号智能制造项目",
        "第42号精密机械有限公司",
        bureau.shanghai,
    )
    assert lead.estimated_amount == Decimal("1042.50")
    assert (lead.source_channel, lead.description) == (
        SourceChannel.INVESTOR_REFERRAL,
        "厂房42亩",
    )
    event = lead.events.get(pgh_label="insert")
    metadata = event.pgh_context.metadata
    assert (metadata["user"], metadata["why"]) == (me.pk, f"import:{batch.pk}:招商台账.xlsx")

    # The batch lists every record it created, page by page (100 rows a page).
    listed: set[int] = set()
    for number in range(1, ROWS // 100 + 1):
        body = client.get(f"/imports/{batch.pk}/?page={number}").content.decode()
        listed |= {int(pk) for pk in re.findall(r'<a href="/leads/(\d+)/">', body)}
    assert listed == set(Lead.objects.values_list("pk", flat=True))
