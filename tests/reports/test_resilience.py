"""With the broker unreachable, officers' writes still save fast and queued work waits in the
PostgreSQL outbox (AlertNotice.emailed_at IS NULL) until a run with the broker back sends it.

The broker is made unreachable by pointing Celery at a closed port in the test, never by
stopping the shared Redis that other tests (and developers) use.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.test import Client
from kombu.exceptions import OperationalError as BrokerUnreachable

from projects.choices import ProblemStatus
from projects.models import Problem
from promo.celery import app
from promo.core.services import today
from promo.reports import tasks
from promo.reports.choices import AlertRule
from promo.reports.models import Alert, AlertNotice
from tests.factories import make_project

# Port 1 on the loopback: nothing listens, so every connection is refused at once.
CLOSED_BROKER = "redis://127.0.0.1:1/0"
ANSWER_WITHIN_SECONDS = 2.0
_closed_broker_uses = itertools.count(1)


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Point this process's Celery app at a closed port; put the real broker back after."""
    saved = (app.conf.broker_url, app._pool, app.amqp._producer_pool)
    # Drop the cached connection pools so the next publish connects to the closed port. A
    # fresh URL each time (another db number): kombu keeps producer pools in a process-wide
    # registry keyed by connection, and the previous use's pool was closed on the way out.
    url = f"{CLOSED_BROKER.rsplit('/', 1)[0]}/{next(_closed_broker_uses)}"
    app.conf.broker_url, app._pool, app.amqp._producer_pool = url, None, None
    try:
        yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app._pool, app.amqp._producer_pool = saved


def _close_worker_connections(**kwargs):
    # The worker thread has its own database connection; close it so the test database can
    # be flushed after this transactional test.
    connections.close_all()


@contextmanager
def running_worker(queue: str) -> Iterator[None]:
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
        task_postrun.disconnect(_close_worker_connections)


def timed_post(client: Client, url: str, data: dict) -> tuple[int, float]:
    started = time.monotonic()
    response = client.post(url, data)
    return response.status_code, time.monotonic() - started


@pytest.fixture
def officer_client(bureau, settings):
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32  # keep the monthly unit rule out of the count
    bureau.shanghai_officer.email = "zhang@promo.test"
    bureau.shanghai_officer.save(update_fields=["email"])
    client = Client()
    client.force_login(bureau.shanghai_officer)
    return client


def raise_and_ask_twice_on_the_web(bureau, client: Client) -> Problem:
    """Raise a problem and record the investor's second ask through the officers' pages."""
    project = make_project(bureau.shanghai_officer)
    status, seconds = timed_post(
        client,
        f"/projects/{project.pk}/problems/new/",
        {
            "kind": "power",
            "title": "临时用电迟迟未接通",
            "owner_unit": bureau.shanghai.pk,
            "due_on": (today() + timedelta(days=5)).isoformat(),
        },
    )
    assert status == 302 and seconds < ANSWER_WITHIN_SECONDS
    problem = Problem.objects.get(title="临时用电迟迟未接通")
    status, seconds = timed_post(client, f"/problems/{problem.pk}/ask/", {"note": "企业再次来电"})
    assert status == 302 and seconds < ANSWER_WITHIN_SECONDS
    problem.refresh_from_db()
    return problem


@pytest.mark.django_db
def test_officers_writes_save_and_answer_within_2_seconds_with_the_broker_unreachable(
    bureau, officer_client
):
    with broker_unreachable():
        # The broker is really gone for this process: a publish fails (fast) …
        started = time.monotonic()
        with pytest.raises(BrokerUnreachable):
            tasks.send_alert_emails.delay()
        assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
        # … and yet what officers enter is saved, and the pages answer in time.
        problem = raise_and_ask_twice_on_the_web(bureau, officer_client)
        started = time.monotonic()
        assert officer_client.get("/").status_code == 200
        assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert problem.ask_count == 2 and problem.status == ProblemStatus.OPEN


@pytest.mark.django_db(transaction=True)
def test_notices_raised_while_the_broker_is_down_wait_in_the_outbox_and_are_sent_when_it_returns(
    bureau, officer_client, mailoutbox, caplog
):
    me = bureau.shanghai_officer
    with broker_unreachable():
        problem = raise_and_ask_twice_on_the_web(bureau, officer_client)
        # The daily evaluation runs (the job itself, in process): the red light and its
        # notice are committed; queueing their delivery after commit fails, and only says so.
        result = tasks.evaluate_alerts.apply().get()
        assert result["notices"] == 1
        assert "the outbox keeps the work" in caplog.text

        alert = Alert.objects.get(rule=AlertRule.PROBLEM_ASKED_TWICE, problem=problem)
        notice = AlertNotice.objects.get(alert=alert, recipient=me)
        assert notice.emailed_at is None  # waiting in the outbox (PostgreSQL)
        assert mailoutbox == []
        # In-app delivery needs no broker: the bell already shows it.
        assert '<span class="count">1</span>' in officer_client.get("/").content.decode()

    # The broker is back: the next delivery run (a real worker on real Redis) sends it.
    queue = f"reports-test-{uuid.uuid4().hex}"
    with running_worker(queue):
        sent = tasks.send_alert_emails.apply_async(queue=queue).get(timeout=60)
    assert sent == {"sent": 1, "failed": 0}
    notice.refresh_from_db()
    assert notice.emailed_at is not None and notice.email_attempts == 1
    assert [m.to for m in mailoutbox] == [["zhang@promo.test"]]
    assert "临时用电迟迟未接通" in mailoutbox[0].subject
