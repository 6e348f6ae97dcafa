"""Issue #18, finding 4: a running import beats from a thread, so a dead worker's batch is
taken back within a minute or two, and a live one — however slow its rows — never is."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from promo.celery import app
from promo.imports import services
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch, ImportProgress
from promo.imports.services import Heartbeat, batch_resume_stalled, batch_upload
from tests.imports.files import xlsx

LEDGER = xlsx([["项目名称", "投资方", "总投资(万元)"], ["甲项目", "甲公司", "1,200"]])


def _claimed(actor) -> tuple[ImportBatch, str]:
    batch = batch_upload(actor=actor, data=LEDGER, file_name="台账.xlsx", kind=ImportKind.LEADS)
    token = services._claim(batch, BatchStatus.QUEUED, BatchStatus.CHECKING)
    assert token is not None
    return batch, token


def _age(batch: ImportBatch, seconds: int) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


@pytest.mark.django_db(transaction=True)
def test_a_live_worker_beats_and_reports_progress_while_its_main_thread_is_busy(bureau, settings):
    settings.PROMO_IMPORT_HEARTBEAT_SECONDS = 1
    batch, token = _claimed(bureau.shanghai_officer)
    _age(batch, 3600)
    with Heartbeat(batch, token) as heartbeat:
        heartbeat.done = 7
        time.sleep(2.5)  # the main thread is busy (a huge sheet being read, a slow row)
        batch.refresh_from_db()
        assert timezone.now() - batch.heartbeat_at < timedelta(seconds=2)
        assert ImportProgress.objects.get(batch_id=batch.pk).done == 7
        assert batch_resume_stalled() == []  # alive: not taken back
    # The run ended: its progress row goes (the batch's own counts say the rest).
    assert not ImportProgress.objects.filter(batch_id=batch.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_beat_skips_a_batch_row_the_commit_holds_instead_of_waiting(bureau):
    batch, token = _claimed(bureau.shanghai_officer)
    holder = connections.create_connection("default")
    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM imports_importbatch WHERE id = %s FOR UPDATE", [batch.pk]
            )
        started = time.monotonic()
        assert Heartbeat(batch, token).beat() is False
        assert time.monotonic() - started < 1
        holder.rollback()
    finally:
        holder.close()
    assert Heartbeat(batch, token).beat() is True
    assert Heartbeat(batch, "someone-else").beat() is False  # a late worker beats nothing


@pytest.mark.django_db
def test_a_silent_batch_is_taken_back_after_the_stall_and_the_sweep_runs_often_enough(
    bureau, settings
):
    # With the defaults a dead worker's batch runs again within two minutes of its last
    # heartbeat: at most STALL seconds of silence, then at most one sweep interval.
    assert settings.PROMO_IMPORT_STALL_SECONDS + settings.PROMO_IMPORT_SWEEP_SECONDS <= 90
    entry = settings.CELERY_BEAT_SCHEDULE["resume-waiting-imports"]
    assert entry["task"] == "promo.imports.tasks.resume_waiting_imports"
    assert float(entry["schedule"]) == settings.PROMO_IMPORT_SWEEP_SECONDS
    batch, _token = _claimed(bureau.shanghai_officer)
    _age(batch, settings.PROMO_IMPORT_STALL_SECONDS - 5)
    assert batch_resume_stalled() == []
    _age(batch, settings.PROMO_IMPORT_STALL_SECONDS + 1)
    assert batch_resume_stalled() == [batch.pk]


def test_every_task_is_stopped_before_redis_would_hand_it_to_a_second_worker():
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility <= 1800  # a killed worker's task comes back in 30 min, not an hour
    app.loader.import_default_modules()
    limits = {
        name: task.time_limit or app.conf.task_time_limit
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    }
    assert "promo.imports.tasks.run_import" in limits
    unlimited = sorted(name for name, limit in limits.items() if not limit)
    assert not unlimited, f"tasks without a hard time limit: {unlimited}"
    too_long = sorted(name for name, limit in limits.items() if limit >= visibility)
    assert not too_long, f"tasks that may outlive the visibility timeout: {too_long}"
    assert app.tasks["promo.imports.tasks.run_import"].time_limit > app.conf.task_time_limit
    options = app.conf.broker_transport_options
    assert options["socket_timeout"] <= 2 and options["socket_connect_timeout"] <= 2
    assert app.conf.redis_socket_timeout <= 2 and app.conf.redis_socket_connect_timeout <= 2
