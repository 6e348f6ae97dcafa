"""Issue #18, finding 4: a whole worker killed mid-import (OOM killer, reboot, a container
stopped past its grace period) delays the import by seconds, not an hour.

A real ``celery worker`` process (prefork, as in production) takes the batch, and is killed
with SIGKILL, children and all, while it checks. A second worker is started and the sweep
runs as the beat runs it: the batch is taken back once its heartbeat is older than
PROMO_IMPORT_STALL_SECONDS, re-sent and checked exactly once. Heartbeat and stall are
shortened here (1 s and 3 s; production: 10 s and 60 s) so the test takes seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from promo.celery import app
from promo.core.enqueue import send_now
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch, ImportRow
from promo.imports.services import batch_upload
from promo.imports.tasks import resume_waiting_imports, run_import
from tests.imports.files import csv_bytes

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000


def _reset_router() -> None:
    app.amqp._rtable = None
    app.amqp.__dict__.pop("router", None)


def start_worker(queue: str, **environment: str) -> subprocess.Popen:
    """A real worker process on ``queue``, against this test's database."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": str(ROOT),
        "PROMO_TESTING": "1",
        **environment,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "promo",
            "worker",
            "-Q",
            queue,
            "-P",
            "prefork",
            "-c",
            "1",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: killed whole, children too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _database_url() -> str:
    """The test database's URL (its name is the test one: test_…)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "localhost"
    return f"postgres://{quote(db['USER'])}{password}@{quote(host, safe='')}:{db['PORT'] or 5432}/{db['NAME']}"


def stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def forget_queue(queue: str) -> None:
    """Drop the queue and the killed worker's unacknowledged message from Redis."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete(queue)
    for tag, payload in client.hgetall("unacked").items():
        if json.loads(payload)[2] == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def wait_for(predicate, timeout: float, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_check_has_its_batch_rerun_within_seconds(bureau, settings):
    settings.PROMO_IMPORT_STALL_SECONDS = 3
    queue = f"imports-kill-{uuid.uuid4().hex}"
    saved_routes = app.conf.task_routes
    app.conf.task_routes = {"promo.imports.tasks.run_import": {"queue": queue}}
    _reset_router()
    header = ["项目名称", "投资方", "总投资(万元)"]
    data = csv_bytes(
        [header] + [[f"第{i}号产业园", f"第{i}号精密机械有限公司", 1000 + i] for i in range(ROWS)]
    )
    batch = batch_upload(
        actor=bureau.shanghai_officer, data=data, file_name="台账.csv", kind=ImportKind.LEADS
    )
    beats = {"PROMO_IMPORT_HEARTBEAT_SECONDS": "1", "PROMO_IMPORT_STALL_SECONDS": "3"}
    first = start_worker(queue, **beats)
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
        stop(first, signal.SIGKILL)  # the whole worker, mid-check
        killed_at = time.monotonic()
        assert ImportBatch.objects.get(pk=batch.pk).status == BatchStatus.CHECKING
        second = start_worker(queue, **beats)

        def checked() -> bool:
            resume_waiting_imports()  # what the beat sends every PROMO_IMPORT_SWEEP_SECONDS
            return ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.CHECKED).exists()

        wait_for(checked, timeout=120, every=1.0)
        rerun_after = time.monotonic() - killed_at
    finally:
        stop(first, signal.SIGKILL)
        if second is not None:
            stop(second)
        app.conf.task_routes = saved_routes
        _reset_router()
        forget_queue(queue)
    batch.refresh_from_db()
    print(f"killed mid-check, checked again {rerun_after:.1f} s later")
    assert rerun_after < 120
    assert batch.claim != claimed and batch.stall_count == 1
    assert (batch.total_rows, batch.created_count) == (ROWS, ROWS)
    assert ImportRow.objects.filter(batch=batch).count() == ROWS
