"""Issue #18, finding 4: a whole worker killed mid-import (OOM killer, reboot, a container
stopped past its grace period) delays the import by seconds, not an hour.

A real ``celery worker`` process (prefork, as in production) takes the batch, and is killed
with SIGKILL, children and all, while it checks. A second worker is started and the sweep
runs as the beat runs it: the batch is taken back once its heartbeat is older than
PROMO_IMPORT_STALL_SECONDS, re-sent and checked exactly once. Heartbeat and stall are
shortened here (1 s and 3 s; production: 10 s and 60 s) so the test takes seconds.
"""

from __future__ import annotations

import time
import uuid

import pytest

from promo.core.enqueue import send_now
from promo.devtools.drill import (
    database_url,
    forget_queue,
    ledger_csv,
    routed_to,
    start_worker_process,
    stop_worker_process,
)
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch, ImportRow
from promo.imports.services import batch_upload
from promo.imports.tasks import resume_waiting_imports, run_import

ROWS = 20_000
# A queue of this test's own: nothing else is sent to its workers.
QUEUE = f"imports-kill-{uuid.uuid4().hex}"


def wait_for(predicate, timeout: float, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout} s")


@pytest.fixture
def routed():
    with routed_to(QUEUE, run_import.name):
        yield


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_check_has_its_batch_rerun_within_seconds(bureau, settings, routed):
    settings.PROMO_IMPORT_STALL_SECONDS = 3
    queue = QUEUE
    batch = batch_upload(
        actor=bureau.shanghai_officer,
        data=ledger_csv(ROWS),
        file_name="台账.csv",
        kind=ImportKind.LEADS,
    )
    beats = {"PROMO_IMPORT_HEARTBEAT_SECONDS": "1", "PROMO_IMPORT_STALL_SECONDS": "3"}
    first = start_worker_process(queue, database_url(), **beats)
    second = None
    try:
        assert send_now(run_import, (batch.pk,))
        claimed = wait_for(
            lambda: (
                ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.CHECKING)
                .values_list("claim", flat=True)
                .first()
            ),
            timeout=60,
        )
        stop_worker_process(first, kill=True)  # the whole worker, mid-check
        killed_at = time.monotonic()
        assert ImportBatch.objects.get(pk=batch.pk).status == BatchStatus.CHECKING
        second = start_worker_process(queue, database_url(), **beats)

        def checked() -> bool:
            resume_waiting_imports()  # what the beat sends every PROMO_IMPORT_SWEEP_SECONDS
            return ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.CHECKED).exists()

        wait_for(checked, timeout=120, every=1.0)
        rerun_after = time.monotonic() - killed_at
    finally:
        stop_worker_process(first, kill=True)
        if second is not None:
            stop_worker_process(second)
        forget_queue(queue)
    batch.refresh_from_db()
    print(f"killed mid-check, checked again {rerun_after:.1f} s later")
    assert rerun_after < 120
    assert batch.claim != claimed and batch.stall_count == 1
    assert (batch.total_rows, batch.created_count) == (ROWS, ROWS)
    assert ImportRow.objects.filter(batch=batch).count() == ROWS
