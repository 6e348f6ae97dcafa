"""Issue #18, finding 1: a missed 06:00 run on the 1st must cost minutes, never the month.

The beat schedule of the settings is walked minute by minute on a frozen clock
(promo.devtools.drill.BeatWalk): every reports entry due in a minute is sent, a send made
while the broker is unreachable is lost (as celery beat loses it), and a task that fails is
retried as Celery retries it, from the task's own options. The database is real, and
unreachable (a closed port) while the walk says so.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from time import monotonic, sleep
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker, test_worker_started
from celery.signals import task_postrun, task_retry, worker_ready
from django.conf import settings
from django.db import OperationalError, connections
from django.test import Client
from django.utils import timezone

from projects.services import project_create
from promo.celery import app
from promo.core.choices import Industry
from promo.devtools.drill import BeatWalk, database_unreachable
from promo.reports import tasks
from promo.reports.choices import AlertRule, BulletinKind
from promo.reports.models import Alert, AlertNotice, Bulletin
from promo.reports.services import NOTICE_DELIVERY_TASKS, schedule_sweep
from tests.factories import make_investor

TZ = ZoneInfo("Asia/Shanghai")
SIX = datetime(2026, 11, 1, 6, 0, tzinfo=TZ)


def walk(start, end, **faults):
    with time_machine.travel(start, tick=False) as traveller:
        beat = BeatWalk(traveller, schedule=settings.CELERY_BEAT_SCHEDULE, **faults)
        beat.walk(start, end)
    return beat


def october() -> Bulletin | None:
    return Bulletin.objects.filter(
        kind=BulletinKind.MONTHLY, period_start=date(2026, 10, 1)
    ).first()


@pytest.mark.django_db
def test_a_20_second_broker_hiccup_at_0600_costs_minutes_not_the_monthly_bulletin(bureau):
    hiccup = (SIX, SIX + timedelta(seconds=20))
    beat = walk(
        SIX - timedelta(minutes=5),
        SIX + timedelta(minutes=30),
        broker_down=lambda at: hiccup[0] <= at < hiccup[1],
    )
    assert any(run.outcome == "lost" for run in beat.runs)  # the 06:00 send was lost
    bulletin = october()
    assert bulletin is not None
    assert bulletin.generated_at - SIX <= timedelta(minutes=settings.PROMO_SWEEP_MINUTES)


@pytest.mark.django_db(transaction=True)
def test_a_12_minute_database_outage_during_the_run_costs_minutes_not_the_monthly_bulletin(
    bureau,
):
    outage = (SIX, SIX + timedelta(minutes=12))
    walk(
        SIX - timedelta(minutes=5),
        SIX + timedelta(minutes=30),
        database_down=lambda at: outage[0] <= at < outage[1],
    )
    bulletin = october()
    assert bulletin is not None
    assert (
        outage[1]
        <= bulletin.generated_at
        <= outage[1] + timedelta(minutes=settings.PROMO_SWEEP_MINUTES)
    )


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def ops_log():
    """The operations log as written (its logger does not propagate to pytest's capture)."""
    handler = _Lines()
    logger = logging.getLogger("promo.operations")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def chief_page(bureau, path):
    client = Client()
    client.force_login(bureau.chief)
    return client.get(path).content.decode()


@pytest.mark.django_db
def test_a_bulletin_made_up_late_says_so_in_the_operations_log_and_on_the_reports_pages(
    bureau, ops_log
):
    walk(
        SIX - timedelta(minutes=5),
        SIX + timedelta(minutes=10),
        broker_down=lambda at: SIX <= at < SIX + timedelta(seconds=20),
    )
    bulletin = october()
    assert bulletin.made_up_at == SIX + timedelta(minutes=settings.PROMO_SWEEP_MINUTES)
    assert (
        "monthly bulletin 2026-10-01 was missing: made up by the sweep at 2026-11-01T06:05+08:00"
        in ops_log.text
    )
    for page in (
        chief_page(bureau, "/reports/bulletins/"),
        chief_page(bureau, f"/reports/bulletins/{bulletin.pk}/"),
    ):
        assert "补生成：定时任务应于 2026年11月1日 06:00 生成本期通报" in page
        assert "于 2026年11月1日 06:05 补生成" in page


@pytest.mark.django_db
def test_a_bulletin_made_on_time_is_not_marked_and_a_second_sweep_leaves_it_alone(bureau):
    walk(SIX - timedelta(minutes=5), SIX + timedelta(minutes=20))
    bulletin = october()
    assert bulletin.generated_at == SIX and bulletin.made_up_at is None
    october_bulletins = Bulletin.objects.filter(
        kind=BulletinKind.MONTHLY, period_start=date(2026, 10, 1)
    )
    assert october_bulletins.count() == 1
    page = chief_page(bureau, f"/reports/bulletins/{bulletin.pk}/")
    assert "2026年10月" in page and "补生成" not in page


@pytest.mark.django_db
def test_a_lost_0700_send_costs_minutes_not_the_days_traffic_lights(bureau, settings):
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32
    seven = datetime(2026, 11, 25, 7, 0, tzinfo=TZ)
    with time_machine.travel(seven - timedelta(days=1), tick=False):
        project_create(
            actor=bureau.shanghai_officer,
            investor=make_investor(bureau.shanghai_officer),
            name="新能源电池项目",
            industry=Industry.ELECTRONICS,
            contract_date=date(2026, 8, 1),
            total_investment=500,
        )
    walk(
        seven - timedelta(minutes=5),
        seven + timedelta(minutes=15),
        broker_down=lambda at: seven <= at < seven + timedelta(seconds=20),
    )
    alert = Alert.objects.get(rule=AlertRule.NOT_STARTED)
    assert alert.opened_on == date(2026, 11, 25)
    assert AlertNotice.objects.filter(alert=alert, recipient=bureau.shanghai_officer).exists()
    # Evaluated once that day, however many sweeps ran after.
    assert Alert.objects.filter(rule=AlertRule.NOT_STARTED).count() == 1


@pytest.mark.django_db
def test_the_sweep_makes_every_closed_period_of_its_lookback_and_nothing_not_yet_due(bureau):
    with time_machine.travel(datetime(2026, 11, 21, 7, 59, tzinfo=TZ), tick=False):
        made = schedule_sweep()
    assert sorted(Bulletin.objects.values_list("kind", "period_start")) == [
        (BulletinKind.MONTHLY, date(2026, 10, 1)),
        (BulletinKind.TEN_DAY, date(2026, 10, 11)),  # due 21 Oct 08:00, inside the 31 days
        (BulletinKind.TEN_DAY, date(2026, 10, 21)),
        (BulletinKind.TEN_DAY, date(2026, 11, 1)),
        # 11–20 November is due at 08:00 on the 21st: one minute from now.
    ]
    assert made["bulletins"] == 4 and made["failed"] == 0
    assert all(b.made_up_at is not None for b in Bulletin.objects.all())


@pytest.mark.django_db(transaction=True)
def test_a_second_sweep_while_one_runs_leaves_at_once(bureau):
    # Another worker's sweep holds the lock (its own database session).
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext('promo.reports.sweep'))")
        with time_machine.travel(SIX + timedelta(minutes=1), tick=False):
            assert schedule_sweep() == {"bulletins": 0, "daily": 0, "failed": 0}
        assert october() is None
        with holder.cursor() as cursor:  # that sweep is over
            cursor.execute("SELECT pg_advisory_unlock(hashtext('promo.reports.sweep'))")
    finally:
        holder.close()
    with time_machine.travel(SIX + timedelta(minutes=5), tick=False):
        assert schedule_sweep()["bulletins"] >= 1
    assert october() is not None


def _close_worker_connections(**kwargs):
    connections.close_all()


@contextmanager
def real_worker(queue, *, announce=False):
    """A real Celery worker on real Redis, consuming ``queue`` only; with ``announce`` it
    sends ``worker_ready`` as ``celery worker`` does (the test worker does not by itself)."""

    def announce_ready(sender=None, worker=None, consumer=None, **kwargs):
        worker_ready.send(sender=consumer)

    if announce:
        test_worker_started.connect(announce_ready, weak=False)
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            shutdown_timeout=30,
            loglevel="WARNING",
            queues=[queue],
        ):
            yield
    finally:
        test_worker_started.disconnect(announce_ready)
        task_postrun.disconnect(_close_worker_connections)


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_starts_makes_the_missing_monthly_bulletin_at_once(bureau):
    done: list[str] = []

    def finished(sender=None, **kwargs):
        done.append(sender.name)

    now = timezone.localtime()
    last_month = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    if now < datetime.combine(now.date().replace(day=1), time(6, 0), tzinfo=now.tzinfo):
        last_month = (last_month - timedelta(days=1)).replace(day=1)  # not yet due this month
    task_postrun.connect(finished, weak=False)
    try:
        with real_worker(f"reports-test-{uuid.uuid4().hex}", announce=True):
            deadline = monotonic() + 90
            while len(done) < 3 and monotonic() < deadline:
                sleep(0.2)
    finally:
        task_postrun.disconnect(finished)
    assert sorted(done) == sorted([tasks.sweep.name, *NOTICE_DELIVERY_TASKS])
    bulletin = Bulletin.objects.get(kind=BulletinKind.MONTHLY, period_start=last_month)
    assert bulletin.made_up_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_on_demand_bulletin_task_waits_out_a_database_outage_with_backoff(bureau, settings):
    settings.PROMO_RETRY_FIRST_SECONDS, settings.PROMO_RETRY_MAX_SECONDS = 1, 2
    retried: list[int] = []

    def on_retry(sender=None, request=None, **kwargs):
        retried.append(request.retries)

    task_retry.connect(on_retry, weak=False)
    queue = f"reports-test-{uuid.uuid4().hex}"
    try:
        with real_worker(queue):
            with database_unreachable():
                result = tasks.generate_monthly_bulletin.apply_async(["2026-10-01"], queue=queue)
                sleep(5)
            bulletin_id = result.get(timeout=60)
    finally:
        task_retry.disconnect(on_retry)
    assert len(retried) >= 2  # tried while the database was down, again and again
    bulletin = Bulletin.objects.get(pk=bulletin_id)
    assert (bulletin.kind, bulletin.period_start) == (BulletinKind.MONTHLY, date(2026, 10, 1))


@pytest.mark.django_db(transaction=True)
def test_the_on_demand_bulletin_task_gives_up_at_the_horizon(bureau, settings):
    settings.PROMO_RETRY_FIRST_SECONDS, settings.PROMO_RETRY_MAX_SECONDS = 1, 1
    settings.PROMO_RETRY_HORIZON_HOURS = 3 / 3600  # three seconds
    queue = f"reports-test-{uuid.uuid4().hex}"
    with real_worker(queue):
        with database_unreachable():
            result = tasks.generate_monthly_bulletin.apply_async(["2026-10-01"], queue=queue)
            with pytest.raises(OperationalError):
                result.get(timeout=30)
    assert october() is None  # the sweep makes it once the database is back
