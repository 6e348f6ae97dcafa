"""The read replica: real streaming replication on this machine, the router and the pin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS
from django.test import RequestFactory

from promo.core import db as replica_db
from promo.core.db import (
    PIN_COOKIE,
    REPLICA,
    ReplicaPinMiddleware,
    ReplicaRouter,
    read_alias,
    replica_reads,
)
from promo.devtools.replica import streaming_pair

ROOT = Path(__file__).resolve().parents[2]


def test_reads_go_to_the_replica_only_where_asked_and_never_when_pinned(monkeypatch):
    monkeypatch.setattr(replica_db, "replica_configured", lambda: True)
    assert read_alias() == DEFAULT_DB_ALIAS
    with replica_reads():
        assert read_alias() == REPLICA
        with replica_db.pinned_to_primary():
            assert read_alias() == DEFAULT_DB_ALIAS
    assert read_alias() == DEFAULT_DB_ALIAS
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_write(object) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(REPLICA, "leads") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "leads") is True


def test_without_a_replica_everything_reads_the_primary():
    with replica_reads():
        assert read_alias() == DEFAULT_DB_ALIAS


def test_a_successful_write_pins_and_a_read_or_a_refusal_does_not(monkeypatch, settings):
    settings.PROMO_REPLICA_PIN_SECONDS = 15
    monkeypatch.setattr(replica_db, "replica_configured", lambda: True)
    seen = []

    def view(status):
        def respond(request):
            with replica_reads():
                seen.append(read_alias())
            from django.http import HttpResponse

            return HttpResponse(status=status)

        return respond

    factory = RequestFactory()
    assert PIN_COOKIE not in ReplicaPinMiddleware(view(200))(factory.get("/")).cookies
    assert PIN_COOKIE not in ReplicaPinMiddleware(view(403))(factory.post("/")).cookies
    response = ReplicaPinMiddleware(view(302))(factory.post("/"))
    until = float(response.cookies[PIN_COOKIE].value)
    assert 14 < until - time.time() <= 15.01

    pinned = factory.get("/")
    pinned.COOKIES[PIN_COOKIE] = str(until)
    expired = factory.get("/")
    expired.COOKIES[PIN_COOKIE] = str(time.time() - 1)
    garbage = factory.get("/")
    garbage.COOKIES[PIN_COOKIE] = "not-a-time"
    seen.clear()
    for request in (pinned, expired, garbage):
        ReplicaPinMiddleware(view(200))(request)
    assert seen == [DEFAULT_DB_ALIAS, REPLICA, REPLICA]


def test_a_real_streaming_replica_serves_the_cockpit_and_a_writer_reads_the_primary():
    with streaming_pair() as (primary, replica):
        env = {
            **os.environ,
            "DATABASE_URL": primary,
            "DATABASE_REPLICA_URL": replica,
            "PROMO_TESTING": "1",
            "PROMO_REPLICA_PIN_SECONDS": "2",
        }
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        run = subprocess.run(
            [sys.executable, "tests/promo/replica_scenario.py"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["/dashboard/"]["replica"] > 0 and figures["/leads/"]["replica"] == 0
