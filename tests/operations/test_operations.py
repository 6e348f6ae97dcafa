"""Operations: heartbeats of the worker and beat, the administrators' page, the health check."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun, worker_ready
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from officers.choices import Role
from promo.celery import app
from promo.core.services import today
from promo.operations.models import Heartbeat
from promo.operations.services import BEAT, WORKER, heartbeat_record
from promo.operations.tasks import heartbeat
from promo.reports.choices import BulletinKind
from promo.reports.services import bulletin_generate, previous_month_start
from tests.factories import make_officer

URL = "/operations/"


@pytest.fixture
def admin_officer(bureau):
    return make_officer(bureau.bureau, role=Role.ADMIN, username="ops_admin", full_name="运维员")


def test_the_heartbeat_task_records_worker_and_beat(db):
    heartbeat()
    seen = dict(Heartbeat.objects.values_list("name", "seen_at"))
    assert set(seen) == {WORKER, BEAT}
    assert timezone.now() - seen[WORKER] < timedelta(seconds=5)


def test_a_heartbeat_never_moves_back_in_time(db):
    now = timezone.now()
    heartbeat_record(BEAT, at=now)
    heartbeat_record(BEAT, at=now - timedelta(minutes=5))
    assert Heartbeat.objects.get(name=BEAT).seen_at == now


def test_a_worker_records_itself_when_it_starts(db):
    worker_ready.send(sender=None)
    assert Heartbeat.objects.filter(name=WORKER).exists()


def test_beat_schedules_the_heartbeat_with_an_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["operations-heartbeat"]
    assert entry["task"] == "promo.operations.tasks.heartbeat"
    assert entry["schedule"] == settings.PROMO_HEARTBEAT_SECONDS
    assert entry["options"]["expires"] == 2 * settings.PROMO_HEARTBEAT_SECONDS


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_heartbeat_sent_over_redis():
    queue = f"operations-test-{uuid.uuid4().hex}"
    ran = threading.Event()
    task_id = uuid.uuid4().hex

    def close(**kwargs):
        connections.close_all()
        if kwargs.get("task_id") == task_id:
            ran.set()

    task_postrun.connect(close, weak=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=[queue]
        ):
            # The heartbeat ignores its result, so AsyncResult.get() returns at once: wait for
            # the worker to have run it (leaving the block first stops the worker before it
            # takes the message, and the row is never written).
            heartbeat.apply_async(queue=queue, task_id=task_id)
            assert ran.wait(timeout=60), "the worker did not run the heartbeat within 60 s"
    finally:
        task_postrun.disconnect(close)
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {WORKER, BEAT}


def test_the_health_check_command_judges_the_age(db):
    with pytest.raises(CommandError, match="no heartbeat yet"):
        call_command("heartbeat", "--check", "beat")
    heartbeat_record(BEAT, at=timezone.now() - timedelta(seconds=200))
    with pytest.raises(CommandError, match=r"last heartbeat 20[0-9] s ago"):
        call_command("heartbeat", "--check", "beat")
    call_command("heartbeat", "--check", "beat", "--max-age", "300")
    heartbeat_record(BEAT, at=timezone.now())
    call_command("heartbeat", "--check", "beat")


def test_only_administrators_read_the_page(client, bureau, admin_officer):
    assert client.get(URL).status_code == 302  # anonymous: to the sign-in page
    for outsider in (bureau.chief, bureau.shanghai_head, bureau.shanghai_officer):
        client.force_login(outsider)
        assert client.get(URL).status_code == 403
    assert not Heartbeat.objects.exists()  # a refused read wrote nothing
    client.force_login(admin_officer)
    assert client.get(URL).status_code == 200


def test_the_page_says_what_is_down_and_what_is_missing(client, bureau, admin_officer, settings):
    heartbeat_record(WORKER, at=timezone.now())
    heartbeat_record(BEAT, at=timezone.now() - timedelta(hours=2))
    bulletin_generate(kind=BulletinKind.MONTHLY, period_start=previous_month_start(today()))
    client.force_login(admin_officer)
    settings.LANGUAGE_CODE = "zh-hans"
    page = client.get(URL).content.decode()
    assert 'data-part="worker" data-healthy="1"' in page
    assert 'data-part="beat" data-healthy="0"' in page and "无响应" in page
    assert 'data-kind="monthly" data-present="1"' in page
    assert 'data-kind="ten_day" data-present="0"' in page and "缺失" in page


def test_the_page_shows_the_queue_depth_from_redis(client, admin_officer, settings):
    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/15"
    settings.CELERY_BROKER_URL = url
    broker = redis.Redis.from_url(url)
    broker.delete("celery")
    broker.rpush("celery", "a", "b", "c")
    try:
        client.force_login(admin_officer)
        assert 'data-queue="3"' in client.get(URL).content.decode()
    finally:
        broker.delete("celery")


def test_the_page_answers_at_once_when_the_broker_is_away(client, admin_officer, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    client.force_login(admin_officer)
    start = time.perf_counter()
    response = client.get(URL)
    assert response.status_code == 200 and time.perf_counter() - start < 2
    assert 'data-queue="down"' in response.content.decode()


def test_the_page_reads_a_fixed_number_of_queries(client, bureau, admin_officer):
    client.force_login(admin_officer)
    client.get(URL)
    with CaptureQueriesContext(connections["default"]) as few:
        client.get(URL)
    for _ in range(3):
        heartbeat()
        bulletin_generate(kind=BulletinKind.MONTHLY, period_start=previous_month_start(today()))
    with CaptureQueriesContext(connections["default"]) as more:
        client.get(URL)
    assert len(few) == len(more) <= 12


def test_the_page_in_english(client, admin_officer):
    # The catalogue is compiled by `make install` (compile_translations) before the tests run.
    from django.utils import translation

    client.force_login(admin_officer)
    try:
        page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    finally:
        # The locale middleware leaves English active in this thread: later tests read Chinese.
        translation.activate(settings.LANGUAGE_CODE)
    assert "Background processes" in page and "Not responding: no heartbeat yet" in page
    assert "后台进程" not in page
