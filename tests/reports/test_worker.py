"""End to end: a real Celery worker on real Redis runs the monthly job against the test database."""

from __future__ import annotations

import uuid

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connections

from promo.celery import app
from promo.reports.choices import BulletinKind, Figure
from promo.reports.models import Bulletin, BulletinLine
from promo.reports.tasks import generate_monthly_bulletin, generate_ten_day_report
from tests.reports.seed import SHANGHAI, SHENZHEN, START, TODAY, TOTAL, build_october


def _close_worker_connections(**kwargs):
    # The worker runs in a thread with its own database connection; close it after each task
    # so the test database can be flushed (and dropped) while no session holds it.
    connections.close_all()


@pytest.fixture
def queue():
    # A queue of this test's own: a parallel run (or a stale message from a killed one) on
    # the same Redis can never hand this worker a task meant for another test database.
    return f"reports-test-{uuid.uuid4().hex}"


@pytest.fixture
def worker(queue):
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            shutdown_timeout=30,
            loglevel="WARNING",
            queues=[queue],
        ) as running:
            yield running
    finally:
        task_postrun.disconnect(_close_worker_connections)


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_monthly_job_twice_and_there_is_exactly_one_correct_bulletin(
    bureau, worker, queue
):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)

    run = generate_monthly_bulletin.apply_async
    first = run([START.isoformat()], queue=queue).get(timeout=60)
    second = run([START.isoformat()], queue=queue).get(timeout=60)

    assert first == second
    bulletin = Bulletin.objects.get()
    assert (bulletin.kind, bulletin.period_start) == (BulletinKind.MONTHLY, START)
    assert BulletinLine.objects.count() == 5  # three units, 局本级, 合计
    for unit, expected in ((bureau.shanghai, SHANGHAI), (bureau.shenzhen, SHENZHEN), (None, TOTAL)):
        line = bulletin.lines.get(unit=unit)
        assert {figure: line.figure(figure) for figure in Figure.values} == expected


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_ten_day_job_for_the_ten_days_given(bureau, worker, queue):
    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)

    bulletin_id = generate_ten_day_report.apply_async(["2026-10-21"], queue=queue).get(timeout=60)

    report = Bulletin.objects.get(pk=bulletin_id)
    assert (report.kind, str(report.period_end)) == (BulletinKind.TEN_DAY, "2026-10-31")
    # 21–31 October: Shenzhen signed P3 (800 万元) on the 28th; Shanghai signed nothing.
    assert report.lines.get(unit=bureau.shenzhen).signed_count == 1
    assert report.lines.get(unit=bureau.shanghai).signed_count == 0
