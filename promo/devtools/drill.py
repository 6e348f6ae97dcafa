"""``make drill``: the operations drill of issue #18 — a missed 06:00 run and a robot outage.

Two faults, reproduced against the real database, the real beat schedule and a real HTTP
server standing in for a 企业微信/钉钉 group robot, with figures printed at the end:

1. **The monthly bulletin's 06:00 run is missed** (finding 1). The beat schedule of
   ``settings.CELERY_BEAT_SCHEDULE`` is walked minute by minute on a frozen clock
   (:class:`BeatWalk`) across 06:00 on the 1st, twice: once with the broker unreachable for
   20 s at 06:00 (beat loses the send), once with PostgreSQL unreachable for the first
   minutes after 06:00 (the run fails and is retried as Celery would retry it).
2. **A group robot answers 500 for a while, slowly** (finding 2). A webhook delivery is
   swept on the real clock by two workers at once while the robot is down, then after it
   is back: how many attempts, how many copies, how many requests at once, how long after
   the recovery the message arrived.

Usage: ``python -m promo.devtools.drill [--long]`` (``make drill``). The drill uses its own
database ``promo_drill`` on the server of DATABASE_URL, created afresh each run and dropped
afterwards. The robot is down for 20 s by default; ``--long`` keeps it down for 6 minutes,
longer than the 4 min 19 s an attempt budget of 8 fast task retries used to last.

:class:`BeatWalk`, :class:`Robot` and :func:`database_unreachable` are also what the tests
use (tests/reports/test_sweep.py, tests/reports/test_delivery_backoff.py).
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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

    Answers ``{"errcode": 0}`` while up and 500 while ``down``, after ``delay`` seconds
    either way (a slow robot). Records every request: when, what it answered and how many
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
                    if robot.delay:
                        time.sleep(robot.delay)
                    status = 500 if robot.down else 200
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

