"""``make drill``: the operations drill of issue #18 — a missed 06:00 run, a robot outage, a
worker killed whole and Redis away.

Four faults, reproduced against the real database, the real beat schedule, a real HTTP
server standing in for a 企业微信/钉钉 group robot, real worker processes and real sockets,
with figures printed at the end:

1. **The monthly bulletin's 06:00 run is missed** (finding 1). The beat schedule of
   ``settings.CELERY_BEAT_SCHEDULE`` is walked minute by minute on a frozen clock
   (:class:`BeatWalk`) across 06:00 on the 1st, twice: once with the broker unreachable for
   20 s at 06:00 (beat loses the send), once with PostgreSQL unreachable for the first
   minutes after 06:00 (the run fails and is retried as Celery would retry it).
2. **A group robot answers 500 for a while, slowly** (finding 2). A webhook delivery is
   swept on the real clock by two workers at once while the robot is down, then after it
   is back: how many attempts, how many copies, how many requests at once, how long after
   the recovery the message arrived.
4. **A whole worker is killed mid-import** (finding 4). A real ``celery worker`` process
   checking a 20,000-row ledger gets SIGKILL (its process group: an OOM kill, a reboot); a
   second worker starts and the import sweep runs as the beat runs it, with the production
   heartbeat, stall and sweep settings: how long until the batch runs again and is done.
5. **Redis hung, then stopped** (finding 5). An officer uploads a ledger through the pages
   while Redis accepts and never answers (:class:`HungRedis`), then while its port is
   closed; the import pages are read with broker and cache gone: status codes and times.

Usage: ``python -m promo.devtools.drill [--long] [--rows N]`` (``make drill``). The drill uses
its own database ``promo_drill`` (``DRILL_DATABASE`` names another) on the server of
DATABASE_URL, created afresh each run and dropped afterwards. The robot is down for 20 s by
default; ``--long`` keeps it down for 6 minutes, longer than the 4 min 19 s an attempt budget
of 8 fast task retries used to last, and also measures one publish with Celery's defaults
to a hung Redis (more than 40 s).

:class:`BeatWalk`, :class:`Robot`, :func:`database_unreachable`, :class:`HungRedis`,
:func:`broker_at` and the worker-process helpers are also what the tests use
(tests/reports/test_sweep.py, tests/reports/test_delivery_backoff.py,
tests/imports/test_broker_away.py, tests/imports/test_worker_killed.py).
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from celery import current_app
from celery.schedules import crontab
from celery.utils.time import get_exponential_backoff_interval

# Port 1 on the loopback: nothing listens, so every connection is refused at once.
CLOSED_PORT = 1


# --- The beat schedule and Celery's retries, walked on a frozen clock --------------------------


@dataclass(frozen=True)
class Run:
    """One send of a task in a walk, and what became of it."""

    at: datetime
    task: str
    outcome: str  # "done", "failed", "lost" (the broker was down), "retrying", "gave up"
    detail: str = ""


def fires_at(schedule: crontab, at: datetime) -> bool:
    """Does this crontab entry fire in the minute ``at`` (in the schedule's time zone)?"""
    return (
        at.minute in schedule.minute
        and at.hour in schedule.hour
        and at.day in schedule.day_of_month
        and at.month in schedule.month_of_year
        and at.isoweekday() % 7 in schedule.day_of_week
    )


@dataclass(order=True)
class _Send:
    at: datetime
    seq: int
    task: str = field(compare=False)
    args: tuple = field(compare=False, default=())
    kwargs: dict = field(compare=False, default_factory=dict)
    retries: int = field(compare=False, default=0)


class BeatWalk:
    """Walk the beat schedule and Celery's automatic retries on a travelling clock.

    Every minute from ``start`` to ``end``, each crontab entry of ``schedule`` whose task
    starts with one of ``prefixes`` and which fires that minute is sent, unless
    ``broker_down(at)``: then the send is lost, as celery beat loses it (it logs the error
    and waits for the entry's next time; it never sends it again). A sent task runs at once
    in this process, with the clock at the moment it runs, against the real database (which
    is unreachable while ``database_down(at)``). If it raises one of its ``autoretry_for``
    exceptions it is sent again after the countdown Celery computes from the task's own
    options (``retry_backoff``, ``retry_backoff_max``, ``retry_jitter``, ``max_retries``),
    if the broker is up at that moment. ``runs`` records every send.
    """

    def __init__(
        self,
        traveller: Any,
        *,
        schedule: dict[str, dict[str, Any]],
        prefixes: tuple[str, ...] = ("promo.reports.",),
        broker_down: Callable[[datetime], bool] = lambda at: False,
        database_down: Callable[[datetime], bool] = lambda at: False,
    ) -> None:
        self.traveller = traveller
        self.entries = [
            entry
            for entry in schedule.values()
            if entry["task"].startswith(prefixes) and isinstance(entry["schedule"], crontab)
        ]
        for entry in self.entries:  # register the tasks, as a worker's autodiscovery does
            importlib.import_module(entry["task"].rpartition(".")[0])
        self.broker_down = broker_down
        self.database_down = database_down
        self.runs: list[Run] = []
        self._queue: list[_Send] = []
        self._seq = itertools.count()

    def walk(self, start: datetime, end: datetime) -> list[Run]:
        minute = start.replace(second=0, microsecond=0)
        while minute <= end:
            for entry in self.entries:
                if fires_at(entry["schedule"], minute):
                    self._send(
                        _Send(
                            minute,
                            next(self._seq),
                            entry["task"],
                            tuple(entry.get("args", ())),
                            dict(entry.get("kwargs", {})),
                        )
                    )
            upto = minute + timedelta(minutes=1)
            while self._queue and self._queue[0].at < upto and self._queue[0].at <= end:
                self._run(heapq.heappop(self._queue))
            minute = upto
        return self.runs

    def _send(self, send: _Send) -> None:
        if self.broker_down(send.at):
            self.runs.append(Run(send.at, send.task, "lost", "broker unreachable"))
            return
        heapq.heappush(self._queue, send)

    def _run(self, send: _Send) -> None:
        task = current_app.tasks[send.task]
        self.traveller.move_to(send.at)
        try:
            if self.database_down(send.at):
                with database_unreachable():
                    task(*send.args, **send.kwargs)
            else:
                task(*send.args, **send.kwargs)
        except tuple(getattr(task, "autoretry_for", ()) or ()) as exc:
            max_retries = task.max_retries
            if not getattr(task, "retry_backoff", False) or (
                max_retries is not None and send.retries >= max_retries
            ):
                self.runs.append(Run(send.at, send.task, "gave up", repr(exc)[:120]))
                return
            countdown = get_exponential_backoff_interval(
                factor=int(max(1.0, float(task.retry_backoff))),
                retries=send.retries,
                maximum=int(getattr(task, "retry_backoff_max", 600)),
                full_jitter=bool(getattr(task, "retry_jitter", True)),
            )
            self.runs.append(Run(send.at, send.task, "retrying", f"in {countdown} s"))
            again = send.at + timedelta(seconds=countdown)
            self._send(
                _Send(again, next(self._seq), send.task, send.args, send.kwargs, send.retries + 1)
            )
        except Exception as exc:  # a failure Celery does not retry: the next send may do it
            self.runs.append(Run(send.at, send.task, "failed", repr(exc)[:120]))
        else:
            self.runs.append(Run(send.at, send.task, "done"))


@contextmanager
def database_unreachable() -> Iterator[None]:
    """PostgreSQL is unreachable for this process: its connections go to a closed port.

    Every thread's connection is built from the same settings dictionary, so a worker
    thread loses the database too. The connection is closed on the way in and out, so the
    next query after the block connects again to the real server.
    """
    from django.db import connections

    connection = connections["default"]
    saved = connection.settings_dict.get("PORT")
    connection.close()
    connection.settings_dict["PORT"] = CLOSED_PORT
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


# --- A group robot on 127.0.0.1 -----------------------------------------------------------------


class Robot:
    """A 企业微信/钉钉 group robot: a real HTTP server in a thread.

    Answers ``{"errcode": 0}`` to a request that arrives while it is up and 500 to one that
    arrives while it is ``down``, after ``delay`` seconds either way (a slow robot). Records every request: when, what it answered and how many
    requests were open at once.
    """

    def __init__(self) -> None:
        self.down = False
        self.delay = 0.0
        self.requests: list[tuple[float, int, dict]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                with robot._lock:
                    robot.in_flight += 1
                    robot.max_in_flight = max(robot.max_in_flight, robot.in_flight)
                try:
                    status = 500 if robot.down else 200  # down when the request arrives
                    if robot.delay:
                        time.sleep(robot.delay)
                    with robot._lock:
                        robot.requests.append((time.monotonic(), status, body))
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    if status == 200:
                        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (its timeout): the message was received
                finally:
                    with robot._lock:
                        robot.in_flight -= 1

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/send?key=drill"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def delivered(self) -> int:
        """How many messages the robot accepted (answered 200)."""
        return sum(1 for _at, status, _body in self.requests if status == 200)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _timed(request: Any) -> tuple[int, float]:
    """Send ``request`` (urllib); its HTTP status (0 when no answer came) and seconds taken."""
    import urllib.error
    import urllib.request

    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=35) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return status, time.monotonic() - started


def drill_api_without_redis(*, requests_each: int = 20) -> list[tuple[str, str]]:
    """Finding 3: the REST API while Redis is stopped, then hung.

    gunicorn serves the drill database as compose runs it (promo/gunicorn_conf.py), with
    REDIS_URL — the cache holding the throttle counters, and the Celery broker — on a closed
    port, then on a port that accepts and never answers. An API client lists leads and posts
    visits (a post enqueues work for the worker); each answer's status and time is recorded.
    Returns (figure, value) rows.
    """
    import os
    import subprocess
    import urllib.request
    from datetime import date

    from django.conf import settings

    from leads.models import Visit
    from leads.services import investor_create
    from officers.models import Officer
    from promo.api.clients import api_client_create
    from promo.core.choices import Industry
    from promo.devtools.bench import HOST, _server_env

    chief = Officer.objects.get(username="drill_chief")
    officer = Officer.objects.get(username="drill_officer")
    investor = investor_create(
        actor=officer, name="演练客商（无缓存）有限公司", industry=Industry.ELECTRONICS,
        confirm_distinct=True,
    )  # fmt: skip
    _client, token = api_client_create(
        actor=chief, name="演练接口客户端", officer=officer, access="read_write"
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    hung = HungRedis(hold=60)
    rows: list[tuple[str, str]] = []
    try:
        hung_port = urlsplit(hung.url).port
        for label, redis_port in (("stopped", CLOSED_PORT), ("hung", hung_port)):
            port = 18800 + (1 if label == "hung" else 0)
            env = dict(
                _server_env(port),
                DATABASE_URL=os.environ["DATABASE_URL"],
                REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                GUNICORN_BIND=f"{HOST}:{port}",
                GUNICORN_ACCESS_LOG="",
            )
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:promo.gunicorn_conf",
                 "--log-level", "critical", "promo.wsgi:application"],
                cwd=settings.BASE_DIR, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            base = f"http://{HOST}:{port}"
            try:
                for _ in range(120):
                    if _timed(urllib.request.Request(f"{base}/healthz"))[0] == 200:
                        break
                    time.sleep(0.5)
                before = Visit.objects.filter(investor=investor).count()
                reads = [
                    _timed(urllib.request.Request(f"{base}/api/v1/leads/", headers=headers))
                    for _ in range(requests_each)
                ]
                writes = []
                for n in range(requests_each):
                    body = json.dumps(
                        {
                            "kind": "visit",
                            "visited_on": date.today().isoformat(),
                            "investor": investor.pk,
                            "city": "上海",
                            "summary": f"演练：Redis {label}，第 {n + 1} 次拜访",
                        }
                    ).encode()
                    request = urllib.request.Request(
                        f"{base}/api/v1/visits/", data=body, headers=headers, method="POST"
                    )
                    writes.append(_timed(request))
                written = Visit.objects.filter(investor=investor).count() - before
                ready = _timed(urllib.request.Request(f"{base}/readyz"))[0]
            finally:
                server.terminate()
                server.wait(timeout=30)
            for what, answers in (("GET /api/v1/leads/", reads), ("POST /api/v1/visits/", writes)):
                statuses: dict[int, int] = {}
                for status, _seconds in answers:
                    statuses[status] = statuses.get(status, 0) + 1
                times = sorted(seconds for _status, seconds in answers)
                counted = ", ".join(
                    f"{code or 'no answer'}×{n}" for code, n in sorted(statuses.items())
                )
                rows.append(
                    (
                        f"3. Redis {label}: {what}",
                        f"{counted}; median {times[len(times) // 2] * 1000:.0f} ms, "
                        f"slowest {times[-1] * 1000:.0f} ms",
                    )
                )
            rows.append((f"3. Redis {label}: visits written", f"{written} of {requests_each}"))
            rows.append((f"3. Redis {label}: /readyz", str(ready)))
    finally:
        hung.close()
    return rows


# --- A hung Redis, a stopped Redis --------------------------------------------------------------


class HungRedis:
    """A "Redis" that accepts connections and never answers (a hung server, a full network
    buffer, a paused container): a real TCP listener in a thread, on a free port.

    ``hold`` seconds after accepting, a connection is closed, so that a client with no
    timeout at all fails then rather than forever (a test of old code ends).
    """

    def __init__(self, hold: float = 15.0) -> None:
        import socket

        self.hold = hold
        self.accepted = 0
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.2)
        self.url = f"redis://127.0.0.1:{self._server.getsockname()[1]}/0"
        self._open: list[tuple[float, Any]] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:

        while not self._closed.is_set():
            try:
                conn, _address = self._server.accept()
            except TimeoutError:
                pass
            except OSError:
                break
            else:
                self.accepted += 1
                self._open.append((time.monotonic(), conn))
            while self._open and time.monotonic() - self._open[0][0] > self.hold:
                self._open.pop(0)[1].close()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        for _at, conn in self._open:
            conn.close()
        self._server.close()


STOPPED_REDIS = f"redis://127.0.0.1:{CLOSED_PORT}/0"


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point this process's Celery app (broker and results) at ``url``; put it back after.

    The connection pools are dropped so the next publish connects to ``url``; kombu keeps
    producer pools in a process-wide registry keyed by connection, hence a fresh pool.
    """
    app = current_app
    saved = (app.conf.broker_url, app.conf.result_backend, app._pool, app.amqp._producer_pool)
    app.conf.broker_url, app.conf.result_backend = url, url
    app._pool, app.amqp._producer_pool = None, None
    try:
        yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        (app.conf.broker_url, app.conf.result_backend, app._pool, app.amqp._producer_pool) = saved


# --- A real worker process, killed whole -------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def start_worker_process(queue: str, database_url: str, **environment: str) -> Any:
    """A real ``celery worker`` (prefork, one child, as in production) consuming ``queue``,
    against ``database_url``; in a process group of its own so that it can be killed whole."""
    import subprocess

    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **environment}
    command = [sys.executable, "-m", "celery", "-A", "promo", "worker", "-Q", queue]
    command += ["-P", "prefork", "-c", "1", "--without-mingle", "--without-gossip"]
    return subprocess.Popen(
        [*command, "-l", "WARNING"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_worker_process(worker: Any, *, kill: bool = False) -> None:
    """SIGKILL the worker's whole process group (``kill``: an OOM kill, a reboot), or stop it
    warm (SIGTERM, as a deploy does)."""
    import signal
    import subprocess

    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def forget_queue(queue: str) -> None:
    """Drop ``queue`` and the unacknowledged messages of workers killed on it from Redis."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(queue)
    for tag, payload in client.hgetall("unacked").items():
        if json.loads(payload)[2] == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@contextmanager
def routed_to(queue: str, *names: str) -> Iterator[None]:
    """Send the tasks ``names`` to ``queue`` (a worker of the drill's or the test's own)."""
    app = current_app
    saved = app.conf.task_routes

    def reset() -> None:
        app.amqp._rtable = None
        app.amqp.__dict__.pop("router", None)

    app.conf.task_routes = {name: {"queue": queue} for name in names}
    reset()
    try:
        yield
    finally:
        app.conf.task_routes = saved
        reset()


def database_url() -> str:
    """The URL of the database Django is connected to (its test name in a test)."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = quote(db["HOST"] or "localhost", safe="")
    return f"postgres://{quote(db['USER'])}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def ledger_csv(rows: int) -> bytes:
    """A 项目信息 ledger of ``rows`` rows, as a CSV file."""
    lines = ["项目名称,投资方,总投资(万元)"]
    lines += [f"第{i}号产业园,第{i}号精密机械有限公司,{1000 + i}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


# --- The drill ------------------------------------------------------------------------------

# DRILL_DATABASE in the environment names another (two drills at once on one server).
DRILL_DATABASE = os.environ.get("DRILL_DATABASE") or "promo_drill"


def _drill_database(base_url: str) -> str:
    """Create ``promo_drill`` on the server of ``base_url`` if missing; its URL."""
    import psycopg2

    parts = urlsplit(base_url)
    admin = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DRILL_DATABASE])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{DRILL_DATABASE}"')
    admin.close()
    return urlunsplit(parts._replace(path=f"/{DRILL_DATABASE}"))


def _minutes(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s"


def _old_retry_budget(samples: int = 10_000) -> tuple[float, float]:
    """How long the attempt budget of the tasks before #18 lasted: Celery's own backoff for
    max_retries=8, retry_backoff=True, retry_backoff_max=600, retry_jitter=True (seconds:
    mean and maximum of the eight waits added up)."""
    totals = [
        sum(get_exponential_backoff_interval(1, retries, 600, True) for retries in range(8))
        for _ in range(samples)
    ]
    return sum(totals) / samples, float(max(totals))


def _bureau() -> Any:
    from officers.choices import Role, UnitKind
    from officers.models import Officer, Unit

    root = Unit.objects.create(name="演练投资促进局", kind=UnitKind.BUREAU, city="演练市")
    office = Unit.objects.create(name="演练办事处", kind=UnitKind.RESIDENT_OFFICE, parent=root)
    chief = Officer.objects.create(username="drill_chief", unit=root, role=Role.CHIEF)
    officer = Officer.objects.create(username="drill_officer", unit=office)
    return root, office, chief, officer


def drill_missed_run(*, outage: timedelta) -> list[tuple[str, str]]:
    """Finding 1: the 06:00 run on the 1st lost to a broker hiccup, then failed by a database
    outage; the beat schedule walked on a frozen clock. Returns (figure, value) rows."""
    import time_machine
    from django.conf import settings
    from django.utils import timezone

    from promo.reports.choices import BulletinKind
    from promo.reports.models import Bulletin
    from promo.reports.schedule import MONTHLY_AT

    first = timezone.localdate().replace(day=1)
    six = timezone.make_aware(datetime.combine(first, MONTHLY_AT))
    month = (first - timedelta(days=1)).replace(day=1)
    rows: list[tuple[str, str]] = []
    never: Callable[[datetime], bool] = lambda at: False  # noqa: E731
    scenarios: list[tuple[str, Callable[[datetime], bool], Callable[[datetime], bool]]] = [
        (
            "broker unreachable 06:00:00–06:00:20",
            lambda at: six <= at < six + timedelta(seconds=20),
            never,
        ),
        (
            f"PostgreSQL unreachable from 06:00 for {_minutes(outage)}",
            never,
            lambda at: six <= at < six + outage,
        ),
    ]
    for name, broker_down, database_down in scenarios:
        Bulletin.objects.filter(period_start__gte=month - timedelta(days=62)).delete()
        end = six + outage + timedelta(minutes=30)
        with time_machine.travel(six - timedelta(minutes=5), tick=False) as traveller:
            beat = BeatWalk(
                traveller,
                schedule=settings.CELERY_BEAT_SCHEDULE,
                broker_down=broker_down,
                database_down=database_down,
            )
            beat.walk(six - timedelta(minutes=5), end)
        bulletin = Bulletin.objects.filter(kind=BulletinKind.MONTHLY, period_start=month).first()
        lost = sum(1 for run in beat.runs if run.outcome == "lost")
        failed = sum(1 for run in beat.runs if run.outcome == "failed" and "sweep" in run.task)
        rows.append((f"[1] {name}", ""))
        rows.append(("    beat sends lost / sweeps failed", f"{lost} / {failed}"))
        made = bulletin.generated_at - six if bulletin else None
        rows.append((f"    bulletin of {month:%Y-%m} made", f"{_minutes(made)} after 06:00"))
        rows.append(
            (
                "    marked as made up on the reports pages",
                "yes" if bulletin and bulletin.made_up_at else "no",
            )
        )
    mean, worst = _old_retry_budget()
    rows.append(
        (
            "[1] before #18: 8 task retries spent in",
            f"{mean:.0f} s on average, {worst:.0f} s at most; then no bulletin",
        )
    )
    return rows


def drill_robot_outage(*, outage: float, horizon: float) -> list[tuple[str, str]]:
    """Finding 2: a group robot down (500, slow) for ``outage`` seconds, another for good;
    two workers sweeping the outbox at once. Timings scaled down (printed)."""
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from promo.reports.choices import AlertLevel, AlertRule, EscalationStep
    from promo.reports.models import (
        Alert,
        AlertNotice,
        SystemNotice,
        WebhookChannel,
        WebhookDelivery,
    )
    from promo.reports.services import alert_webhooks_deliver

    settings.PROMO_WEBHOOK_TIMEOUT_SECONDS = 1
    settings.PROMO_RETRY_FIRST_SECONDS = 2
    settings.PROMO_RETRY_MAX_SECONDS = 8
    settings.PROMO_RETRY_HORIZON_HOURS = horizon / 3600
    settings.PROMO_DELIVERY_LEASE_SECONDS = 10
    _root, office, chief, officer = _bureau()
    back, dead = Robot(), Robot()
    try:
        channels = {
            robot: WebhookChannel.objects.create(
                name=name, url=robot.url, min_step=EscalationStep.OFFICER, owner=chief
            )
            for robot, name in ((back, "招商群"), (dead, "停用群"))
        }
        alert = Alert.objects.create(
            rule=AlertRule.NOT_STARTED,
            level=AlertLevel.RED,
            subject_key="drill:1",
            unit=office,
            detail="演练项目：签约 95 天未开工",
            opened_on=timezone.localdate(),
            last_seen_on=timezone.localdate(),
        )
        AlertNotice.objects.create(alert=alert, step=EscalationStep.OFFICER, recipient=officer)
        for robot in (back, dead):
            robot.down, robot.delay = True, 1.5  # slower than the sender waits
        started = time.monotonic()
        stop = threading.Event()
        recovered_at: list[float] = []

        def worker() -> None:
            try:
                while not stop.is_set():
                    alert_webhooks_deliver()
                    stop.wait(0.5)
            finally:
                connections.close_all()

        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        while time.monotonic() - started < horizon + 15:
            if not recovered_at and time.monotonic() - started >= outage:
                back.down, back.delay = False, 0.0
                recovered_at.append(time.monotonic())
            if recovered_at and WebhookDelivery.objects.filter(status="pending").count() == 0:
                break
            time.sleep(0.2)
        stop.set()
        for thread in workers:
            thread.join()
        time.sleep(2)  # a slow robot records the request it still held
        rows = [
            (
                "[2] timings scaled down",
                f"timeout 1 s, first wait 2 s, ceiling 8 s, horizon {horizon:.0f} s "
                "(production: 5 s, 60 s, 1 h, 24 h)",
            ),
            ("    robot down (500, answering after 1.5 s)", f"{outage:.0f} s"),
        ]
        for robot, label in ((back, "robot back after the outage"), (dead, "robot down for good")):
            delivery = WebhookDelivery.objects.get(channel=channels[robot])
            during = [at for at, status, _ in robot.requests if status != 200]
            rows.append((f"    {label}: requests received", str(len(robot.requests))))
            rows.append(("      of which while down", str(len(during))))
            rows.append(("      most requests open at once", str(robot.max_in_flight)))
            rows.append(("      copies accepted", str(robot.delivered)))
            rows.append(
                ("      delivery ends", f"{delivery.status} after {delivery.attempts} attempts")
            )
            if robot is back and recovered_at:
                ok = [at for at, status, _ in robot.requests if status == 200]
                wait = f"{ok[0] - recovered_at[0]:.1f} s" if ok else "never"
                rows.append(("      sent after the robot came back", wait))
        told = SystemNotice.objects.filter(recipient=chief).first()
        rows.append(
            (
                "    owner told in the bell (system notice)",
                f"{told.count} given up" if told else "no",
            )
        )
        rows.append(
            (
                "[2] before #18",
                "8 attempts in ~4 min by task retries; after that nothing was sent",
            )
        )
        return rows
    finally:
        back.close()
        dead.close()


def drill_robot_outage_walk(*, outage: timedelta) -> list[tuple[str, str]]:
    """Finding 2 at production timings: a robot down (500) for ``outage`` on a frozen clock.

    Beat sends the webhook sweep every minute; the drill walks the clock minute by minute and
    runs the sweep twice each minute (two workers that both received it), with the retry
    settings as configured (``PROMO_RETRY_*``, not scaled down). The robot answers 500 until
    ``outage`` has passed, then accepts. Returns (figure, value) rows.
    """
    import time_machine
    from django.conf import settings
    from django.utils import timezone

    from officers.models import Officer
    from promo.reports.choices import AlertLevel, AlertRule, EscalationStep
    from promo.reports.models import Alert, AlertNotice, WebhookChannel, WebhookDelivery
    from promo.reports.services import alert_webhooks_deliver

    chief = Officer.objects.get(username="drill_chief")
    officer = Officer.objects.get(username="drill_officer")
    robot = Robot()
    try:
        channel = WebhookChannel.objects.create(
            name="招商群（长时中断）", url=robot.url, min_step=EscalationStep.OFFICER, owner=chief
        )
        start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
        with time_machine.travel(start, tick=False) as clock:
            alert = Alert.objects.create(
                rule=AlertRule.NOT_STARTED,
                level=AlertLevel.RED,
                subject_key="drill:walk",
                unit=officer.unit,
                detail="演练项目：签约 95 天未开工（长时中断）",
                opened_on=timezone.localdate(),
                last_seen_on=timezone.localdate(),
            )
            AlertNotice.objects.create(alert=alert, step=EscalationStep.OFFICER, recipient=officer)
            robot.down = True
            minutes = 0
            delivered_after: int | None = None
            limit = int(outage.total_seconds() // 60) + 24 * 60
            while minutes <= limit:
                robot.down = timedelta(minutes=minutes) < outage
                alert_webhooks_deliver()
                alert_webhooks_deliver()  # a second worker running the same sweep
                if robot.delivered and delivered_after is None:
                    delivered_after = minutes - int(outage.total_seconds() // 60)
                if not WebhookDelivery.objects.filter(channel=channel, status="pending").exists():
                    break
                minutes += 1
                clock.move_to(start + timedelta(minutes=minutes))
        delivery = WebhookDelivery.objects.get(channel=channel)
        during = sum(1 for _at, status, _body in robot.requests if status != 200)
        return [
            (
                "[2] robot down on a frozen clock, production timings",
                f"{outage.total_seconds() / 60:.0f} min (first wait "
                f"{settings.PROMO_RETRY_FIRST_SECONDS} s, ceiling "
                f"{settings.PROMO_RETRY_MAX_SECONDS} s, horizon "
                f"{settings.PROMO_RETRY_HORIZON_HOURS} h; sweep every minute, twice)",
            ),
            ("    attempts while down", str(during)),
            ("    copies accepted", str(robot.delivered)),
            (
                "    delivered",
                "never"
                if delivered_after is None
                else f"{delivered_after} min after the robot came back",
            ),
            ("    delivery ends", f"{delivery.status} after {delivery.attempts} attempts"),
        ]
    finally:
        robot.close()


# The drills ``--only`` can name, in the order they run.
DRILLS = ("missed-run", "robot", "robot-walk", "redis", "worker-killed", "broker-away")


def drill_worker_killed(*, rows: int) -> list[tuple[str, str]]:
    """Finding 4: a whole worker killed (SIGKILL to its process group) mid-import; a second
    worker is started at once; the sweep runs as the beat runs it. Production settings."""
    import uuid

    from django.conf import settings

    from promo.core.enqueue import send_now
    from promo.imports.choices import BatchStatus, ImportKind
    from promo.imports.models import ImportBatch, ImportRow
    from promo.imports.services import batch_upload
    from promo.imports.tasks import resume_waiting_imports, run_import

    officer = _bureau_officer()
    batch = batch_upload(
        actor=officer, data=ledger_csv(rows), file_name="演练台账.csv", kind=ImportKind.LEADS
    )
    queue = f"drill-{uuid.uuid4().hex}"
    sweep_every = settings.PROMO_IMPORT_SWEEP_SECONDS
    first = second = None
    with routed_to(queue, run_import.name):
        try:
            first = start_worker_process(queue, database_url())
            send_now(run_import, (batch.pk,))
            deadline = time.monotonic() + 120
            while not ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.CHECKING):
                if time.monotonic() > deadline:
                    raise RuntimeError("the first worker never took the batch")
                time.sleep(0.05)
            time.sleep(1.0)  # well into the check
            stop_worker_process(first, kill=True)
            killed = time.monotonic()
            second = start_worker_process(queue, database_url())
            back = rerun = done = None
            next_sweep = killed  # the beat's phase is unknown: the worst case is a full interval
            while done is None and time.monotonic() - killed < 600:
                now = time.monotonic()
                if now >= next_sweep:
                    resume_waiting_imports()
                    next_sweep = now + sweep_every
                state = ImportBatch.objects.filter(pk=batch.pk).values("status", "stall_count")[0]
                if back is None and state["stall_count"]:
                    back = now - killed
                if back is not None and rerun is None and state["status"] != BatchStatus.QUEUED:
                    rerun = now - killed
                if state["status"] == BatchStatus.CHECKED:
                    done = now - killed
                time.sleep(0.2)
        finally:
            for worker in (first, second):
                if worker is not None:
                    stop_worker_process(worker, kill=worker is first)
            forget_queue(queue)
    batch.refresh_from_db()

    def seconds(value: float | None) -> str:
        return "never" if value is None else f"{value:.1f} s"

    return [
        (
            "[4] worker killed whole mid-check",
            f"{rows} rows; heartbeat {settings.PROMO_IMPORT_HEARTBEAT_SECONDS} s, stall "
            f"{settings.PROMO_IMPORT_STALL_SECONDS} s, sweep every {sweep_every} s",
        ),
        ("    batch taken back after the kill", seconds(back)),
        ("    check running again after", seconds(rerun)),
        ("    check finished after", seconds(done)),
        (
            "    rows checked / written twice",
            f"{ImportRow.objects.filter(batch=batch).count()} / 0 (status {batch.status}, "
            f"taken back {batch.stall_count} time)",
        ),
        (
            "    any other task of a killed worker",
            f"handed out again after {settings.PROMO_TASK_VISIBILITY_SECONDS} s (visibility; "
            f"longest time limit {settings.PROMO_IMPORT_TIME_LIMIT_SECONDS} s); sweeps re-run "
            "on the beat",
        ),
        (
            "[4] before #18",
            "visibility 3600 s (measured 60 min 48 s); a batch stuck 11-13 min (stall 600 s, "
            "sweep every 2 min)",
        ),
    ]


def _publish_seconds(url: str, *, celery_defaults: bool, cap: float) -> str:
    """How long one publish of run_import to ``url`` takes: promo's request path
    (promo/core/enqueue.py) or Celery's defaults (no socket timeouts, publish retries)."""
    from promo.core.enqueue import send_now

    result: list[float] = []
    started = time.monotonic()

    def publish() -> None:
        if celery_defaults:
            app = current_app
            options = {"socket_timeout": None, "socket_connect_timeout": None}
            try:
                with app.connection_for_write(transport_options=options) as conn:
                    app.send_task(
                        "promo.imports.tasks.run_import", (0,), connection=conn, queue="drill-none"
                    )
            except Exception:  # the figure is the time it took to fail
                pass
        else:
            send_now("promo.imports.tasks.run_import", (0,), queue="drill-none")
        result.append(time.monotonic() - started)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    thread.join(cap)
    return f"{result[0]:.2f} s" if result else f"more than {cap:.0f} s (still waiting)"


def drill_broker_away(*, measure_before: bool) -> list[tuple[str, str]]:
    """Finding 5: an officer uploads a ledger while Redis is hung, then stopped; the import
    pages are read with Redis stopped (broker and cache)."""
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client, override_settings

    from promo.imports.choices import ImportKind
    from promo.imports.models import ImportBatch

    officer = _bureau_officer()
    client = Client(SERVER_NAME="localhost")
    client.force_login(officer)
    client.get("/imports/new/")  # a warm process, as a serving worker is
    rows: list[tuple[str, str]] = []
    hung = HungRedis(hold=60)
    stopped_cache = {"default": {**settings.CACHES["default"], "LOCATION": STOPPED_REDIS}}
    try:
        for label, url, data in (
            ("hung (accepts, never answers)", hung.url, ledger_csv(3)),
            ("stopped (connection refused)", STOPPED_REDIS, ledger_csv(4)),
        ):
            with broker_at(url), override_settings(CACHES=stopped_cache):
                started = time.monotonic()
                response = client.post(
                    "/imports/new/",
                    {"kind": ImportKind.LEADS, "file": SimpleUploadedFile("演练.csv", data)},
                )
                upload = time.monotonic() - started
                batch = ImportBatch.objects.order_by("-pk")[0]
                pages = []
                for page in (
                    "/imports/",
                    f"/imports/{batch.pk}/",
                    f"/imports/{batch.pk}/progress/",
                ):
                    started = time.monotonic()
                    status = client.get(page).status_code
                    pages.append(f"{status} in {time.monotonic() - started:.2f} s")
            rows.append(
                (f"[5] Redis {label}: upload answers", f"{response.status_code} in {upload:.2f} s")
            )
            rows.append(("    batch saved, waiting in PostgreSQL", f"#{batch.pk} {batch.status}"))
            rows.append(("    list, batch page, progress JSON", "; ".join(pages)))
        again = client.post(
            "/imports/new/",
            {"kind": ImportKind.LEADS, "file": SimpleUploadedFile("演练.csv", ledger_csv(4))},
        )
        rows.append(
            (
                "    the same upload retried",
                f"{again.status_code} to {again['Location']} (batches: "
                f"{ImportBatch.objects.filter(uploaded_by=officer).count()})",
            )
        )
        if measure_before:
            with broker_at(hung.url):
                rows.append(
                    (
                        "[5] before #18: one publish with Celery's defaults, hung Redis",
                        _publish_seconds(hung.url, celery_defaults=True, cap=40),
                    )
                )
        else:
            rows.append(
                (
                    "[5] before #18",
                    "upload held 30 s until gunicorn killed the worker; batch pages 500 "
                    "(--long measures a publish with Celery's defaults)",
                )
            )
    finally:
        hung.close()
    return rows


def _bureau_officer() -> Any:
    from officers.models import Officer

    officer = Officer.objects.filter(username="drill_officer").first()
    return officer or _bureau()[3]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--long",
        action="store_true",
        help="robot down 6 min and PostgreSQL 2 h (default: 20 s and 12 min)",
    )
    parser.add_argument(
        "--only",
        choices=sorted(DRILLS),
        action="append",
        help="run only these drills (repeatable; default: all)",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=20_000,
        help="rows of the ledger whose worker is killed mid-check (default 20000)",
    )
    args = parser.parse_args(argv)
    base = os.environ.get("DATABASE_URL")
    if not base:
        print("drill: DATABASE_URL is not set (make drill sets it)", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = _drill_database(base)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promo.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.core.management import call_command

    from officers.models import Officer

    call_command("migrate", "--noinput", verbosity=0)
    call_command("flush", "--noinput", verbosity=0)
    for name in ("promo.operations", "promo.reports.services"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # the table below says it all
    started = time.monotonic()
    outage, robot_outage, horizon = (
        (timedelta(hours=2), 360.0, 600.0) if args.long else (timedelta(minutes=12), 20.0, 60.0)
    )
    chosen = args.only or list(DRILLS)
    rows: list[tuple[str, str]] = []
    if "missed-run" in chosen:
        rows += drill_missed_run(outage=outage)
    if "robot" in chosen:
        rows += drill_robot_outage(outage=robot_outage, horizon=horizon)
    if not Officer.objects.filter(username="drill_chief").exists() and (
        set(chosen) & {"robot-walk", "redis"}
    ):
        _bureau()
    if "robot-walk" in chosen:
        rows += drill_robot_outage_walk(outage=timedelta(minutes=30))
    if "redis" in chosen:
        rows += drill_api_without_redis()
    if "worker-killed" in chosen:
        rows += drill_worker_killed(rows=args.rows)
    if "broker-away" in chosen:
        rows += drill_broker_away(measure_before=args.long)
    width = max(len(label) for label, _ in rows)
    print(f"promo operations drill (issue #18), database {DRILL_DATABASE}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print(f"drill took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
