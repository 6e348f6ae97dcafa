"""An upload while the broker is down still answers and waits in PostgreSQL; it is sent later."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from promo.celery import app
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch
from promo.imports.tasks import resume_waiting_imports
from tests.imports.files import xlsx
from tests.reports.test_resilience import broker_unreachable

pytestmark = pytest.mark.django_db


def test_upload_with_the_broker_down_is_kept_and_resent_when_it_returns(
    client, bureau, django_capture_on_commit_callbacks
):
    client.force_login(bureau.shanghai_officer)
    data = xlsx([["项目名称", "投资方", "总投资(万元)"], ["甲项目", "甲公司", "1,200"]])
    with broker_unreachable():
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/imports/new/",
                {"kind": ImportKind.LEADS, "file": SimpleUploadedFile("台账.xlsx", data)},
            )
        elapsed = time.monotonic() - started
        assert response.status_code == 302
        assert elapsed < 2
        batch = ImportBatch.objects.get()
        assert batch.status == BatchStatus.QUEUED
        # Still down: the sweeper tries, fails quietly, and the batch keeps waiting.
        assert resume_waiting_imports(older_than_seconds=0) == 0
    # The broker is back: the sweeper sends it (the claim makes a second send harmless).
    assert resume_waiting_imports(older_than_seconds=0) == 1
    app.control.purge()
