"""Issue #18, finding 5: the import pages with Redis away (stopped or hung), and a retried upload.

Redis is made to fail for this process only, with real sockets: a closed port (stopped Redis,
every connection refused) or ``HungRedis`` (a listener that accepts and never answers). The
shared Redis other tests use is never touched.
"""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from promo.celery import app
from promo.devtools.drill import STOPPED_REDIS, HungRedis, broker_at
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch, ImportProgress
from promo.imports.services import batch_upload
from promo.imports.tasks import resume_waiting_imports
from tests.imports.files import xlsx

ANSWER_WITHIN_SECONDS = 2.0
LEDGER = xlsx([["项目名称", "投资方", "总投资(万元)"], ["甲项目", "甲公司", "1,200"]])


def _upload(client, data: bytes = LEDGER, name: str = "台账.xlsx"):
    started = time.monotonic()
    response = client.post(
        "/imports/new/", {"kind": ImportKind.LEADS, "file": SimpleUploadedFile(name, data)}
    )
    return response, time.monotonic() - started


@pytest.fixture
def hung_redis():
    server = HungRedis(hold=10)
    yield server
    server.close()


@pytest.fixture
def redis_stopped(settings):
    """Broker, results and the cache all at a closed port (sessions are in PostgreSQL)."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": STOPPED_REDIS},
    }
    with broker_at(STOPPED_REDIS):
        yield


@pytest.mark.django_db(transaction=True)
def test_an_upload_with_a_hung_broker_answers_at_once_and_the_batch_waits(
    client, bureau, hung_redis
):
    client.force_login(bureau.shanghai_officer)
    with broker_at(hung_redis.url):
        response, seconds = _upload(client)
        assert response.status_code == 302
        assert seconds < ANSWER_WITHIN_SECONDS, f"the upload took {seconds:.1f} s"
        assert hung_redis.accepted >= 1  # it did try the hung server
        batch = ImportBatch.objects.get()
        assert response["Location"] == f"/imports/{batch.pk}/"
        assert batch.status == BatchStatus.QUEUED
        page = client.get(response["Location"]).content.decode()
        assert "队列恢复后会自动开始处理" in page
    # The broker is back: the sweep sends the batch.
    try:
        assert resume_waiting_imports(older_than_seconds=0) == 1
    finally:
        app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_the_import_pages_answer_from_postgresql(client, bureau, redis_stopped):
    me = bureau.shanghai_officer
    client.force_login(me)
    response, seconds = _upload(client)
    assert response.status_code == 302 and seconds < ANSWER_WITHIN_SECONDS
    batch = ImportBatch.objects.get()
    # A batch being checked, with progress written by its worker's heartbeat.
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.CHECKING, total_rows=4)
    ImportProgress.objects.create(batch_id=batch.pk, done=3, updated_at=batch.created_at)
    for url in ("/imports/", f"/imports/{batch.pk}/", f"/imports/{batch.pk}/progress/"):
        started = time.monotonic()
        response = client.get(url)
        seconds = time.monotonic() - started
        assert response.status_code == 200, url
        assert seconds < ANSWER_WITHIN_SECONDS, f"{url} took {seconds:.1f} s"
    assert response.json() == {
        "status": BatchStatus.CHECKING,
        "status_label": "检查中",
        "done": 3,
        "total": 4,
        "percent": 75,
        "running": True,
    }


@pytest.mark.django_db
def test_a_retried_upload_opens_the_first_batch_instead_of_making_a_second(client, bureau):
    me = bureau.shanghai_officer
    client.force_login(me)
    first, _seconds = _upload(client)
    again, _seconds = _upload(client, name="台账(1).xlsx")  # same bytes: a retry
    batch = ImportBatch.objects.get()
    assert first["Location"] == again["Location"] == f"/imports/{batch.pk}/"
    page = client.get(again["Location"]).content.decode()
    assert "该文件刚刚已上传" in page
    # Another file is another batch.
    other = xlsx([["项目名称", "投资方", "总投资(万元)"], ["乙项目", "乙公司", "800"]])
    _upload(client, other)
    assert ImportBatch.objects.count() == 2


@pytest.mark.django_db
def test_the_same_file_again_after_its_dry_run_or_the_window_is_a_new_batch(bureau, settings):
    me = bureau.shanghai_officer
    first = batch_upload(actor=me, data=LEDGER, file_name="台账.xlsx", kind=ImportKind.LEADS)
    assert (
        batch_upload(actor=me, data=LEDGER, file_name="台账.xlsx", kind=ImportKind.LEADS) == first
    )
    # Another officer's upload of the same file is theirs.
    other = batch_upload(
        actor=bureau.shanghai_head, data=LEDGER, file_name="台账.xlsx", kind=ImportKind.LEADS
    )
    assert other != first and not other.repeated_upload
    ImportBatch.objects.filter(pk=first.pk).update(status=BatchStatus.CHECKING)
    assert (
        batch_upload(actor=me, data=LEDGER, file_name="台账.xlsx", kind=ImportKind.LEADS) == first
    )
    # Once checked, the same file again is a new dry run (against today's records).
    ImportBatch.objects.filter(pk=first.pk).update(status=BatchStatus.CHECKED)
    second = batch_upload(actor=me, data=LEDGER, file_name="台账.xlsx", kind=ImportKind.LEADS)
    assert second != first and not second.repeated_upload
    settings.PROMO_IMPORT_DEDUPE_SECONDS = 0
    third = batch_upload(actor=me, data=LEDGER, file_name="台账.xlsx", kind=ImportKind.LEADS)
    assert third not in (first, second)
