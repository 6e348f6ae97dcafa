"""A worker killed mid-check or mid-commit: the batch is put back and re-sent, a few times at most.

The death is reproduced with real rows: a claim is taken as the dead worker took it and its
heartbeat is aged past PROMO_IMPORT_STALL_SECONDS; nothing is mocked.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from leads.models import Lead
from promo.celery import app
from promo.imports import services
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch, ImportRow
from promo.imports.services import batch_confirm, batch_resume_stalled, batch_upload
from promo.imports.tasks import resume_waiting_imports, run_import
from tests.imports.files import xlsx

ROWS = [["项目名称", "投资方", "总投资(万元)"]] + [
    [f"第{i}号产业园", f"第{i}号精密机械有限公司", 1000 + i] for i in range(1, 4)
]


def _uploaded(actor) -> ImportBatch:
    return batch_upload(actor=actor, data=xlsx(ROWS), file_name="台账.xlsx", kind=ImportKind.LEADS)


def _confirmed(actor) -> ImportBatch:
    batch = _uploaded(actor)
    assert run_import(batch.pk) == BatchStatus.CHECKED
    return batch_confirm(batch=batch, actor=actor)


# A dead worker's batch is taken back a minute after its last heartbeat (finding 4 of #18:
# it used to be ten).
STALL = 60


def _silent_for(batch: ImportBatch, seconds: int) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


def _history() -> int:
    return Lead.pgh_event_model.objects.count()


@pytest.mark.django_db
def test_a_check_whose_worker_died_is_queued_again_and_a_late_worker_writes_nothing(bureau):
    me = bureau.shanghai_officer
    batch = _uploaded(me)
    dead = services._claim(batch, BatchStatus.QUEUED, BatchStatus.CHECKING)
    assert dead is not None
    _silent_for(batch, STALL - 1)
    assert batch_resume_stalled() == []  # still within PROMO_IMPORT_STALL_SECONDS (60)
    _silent_for(batch, STALL + 1)
    assert batch_resume_stalled() == [batch.pk]
    batch.refresh_from_db()
    assert (batch.status, batch.stall_count, batch.claim) == (BatchStatus.QUEUED, 1, "")
    assert "重新排队" in batch.message

    assert run_import(batch.pk) == BatchStatus.CHECKED
    batch.refresh_from_db()
    assert (batch.created_count, batch.message) == (3, "")
    rows = list(ImportRow.objects.filter(batch=batch).values_list("pk", flat=True))
    # The first worker wakes up: its claim is gone, so it stops before writing anything.
    with pytest.raises(services._ClaimLost):
        services._check(batch, dead)
    assert list(ImportRow.objects.filter(batch=batch).values_list("pk", flat=True)) == rows
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CHECKED


@pytest.mark.django_db
def test_a_commit_whose_worker_died_is_confirmed_again_and_commits_exactly_once(bureau):
    me = bureau.shanghai_officer
    batch = _confirmed(me)
    dead = services._claim(
        batch, BatchStatus.CHECKED, BatchStatus.COMMITTING, confirmed_at__isnull=False
    )
    _silent_for(batch, STALL + 1)
    assert batch_resume_stalled() == [batch.pk]
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CHECKED and batch.confirmed_at is not None
    assert run_import(batch.pk) == BatchStatus.COMMITTED
    assert Lead.objects.count() == 3
    before = _history()
    # The dead worker wakes up after the batch was committed by another: it writes nothing.
    services._commit(batch, dead)
    assert (Lead.objects.count(), _history()) == (3, before)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMMITTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status,ends_in,words",
    [
        (BatchStatus.CHECKING, BatchStatus.FAILED, "后台检查中断了 4 次"),
        (BatchStatus.COMMITTING, BatchStatus.REFUSED, "没有写入任何数据"),
    ],
)
def test_after_the_last_retry_the_batch_fails_with_a_message_on_its_page(
    client, bureau, status, ends_in, words
):
    me = bureau.shanghai_officer
    batch = _confirmed(me) if status == BatchStatus.COMMITTING else _uploaded(me)
    start = BatchStatus.CHECKED if status == BatchStatus.COMMITTING else BatchStatus.QUEUED
    assert services._claim(batch, start, status)
    ImportBatch.objects.filter(pk=batch.pk).update(stall_count=services.STALL_RETRIES)
    _silent_for(batch, STALL + 1)
    assert batch_resume_stalled() == []
    batch.refresh_from_db()
    assert batch.status == ends_in and words in batch.message
    assert run_import(batch.pk) == ends_in  # a re-delivered message changes nothing
    assert not Lead.objects.exists()
    client.force_login(me)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert words in page


@pytest.mark.django_db
def test_the_periodic_task_puts_back_and_resends_a_stalled_batch(bureau):
    batch = _uploaded(bureau.shanghai_officer)
    services._claim(batch, BatchStatus.QUEUED, BatchStatus.CHECKING)
    _silent_for(batch, STALL + 1)
    try:
        assert resume_waiting_imports() == 1
    finally:
        app.control.purge()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUEUED


@pytest.mark.django_db(transaction=True)
def test_a_commit_whose_worker_still_holds_the_lock_is_never_taken_back(bureau):
    me = bureau.shanghai_officer
    batch = _confirmed(me)
    token = services._claim(
        batch, BatchStatus.CHECKED, BatchStatus.COMMITTING, confirmed_at__isnull=False
    )
    _silent_for(batch, 3600)
    # A second session plays the live worker: inside its commit it holds the batch row lock.
    worker = connections.create_connection("default")
    try:
        worker.set_autocommit(False)
        with worker.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM imports_importbatch WHERE id = %s AND claim = %s FOR UPDATE",
                [batch.pk, token],
            )
            assert cursor.fetchone() == (batch.pk,)
        assert batch_resume_stalled() == []
        batch.refresh_from_db()
        assert (batch.status, batch.claim) == (BatchStatus.COMMITTING, token)
        worker.rollback()  # the worker dies: its transaction ends and the lock with it
    finally:
        worker.close()
    assert batch_resume_stalled() == [batch.pk]
    assert run_import(batch.pk) == BatchStatus.COMMITTED
    assert Lead.objects.count() == 3
