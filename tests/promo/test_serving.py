"""gunicorn as promo serves it: a burst of keep-alive connections is spread over the worker
processes (promo.core.serving), not taken mostly by the first to wake."""

from __future__ import annotations

import collections
import math
import os
import socket
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from promo.devtools import bench

WORKERS = 4
THREADS = 4


def _database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of the server's side of established connections on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes.add(fields[9])
    return inodes


def connections_per_process(port: int) -> list[int]:
    """How many established connections on ``port`` each process holds, most first."""
    inodes = _established_inodes(port)
    held: collections.Counter[int] = collections.Counter()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:  # gone, or not ours to read
            continue
        for link in links:
            if link.startswith("socket:[") and link[8:-1] in inodes:
                held[int(entry.name)] += 1
    return sorted(held.values(), reverse=True)


def burst(port: int, count: int) -> list[socket.socket]:
    """``count`` keep-alive connections opened at once, each having had one answer."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
    for sock in socks:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for sock in socks:
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    return socks


@pytest.fixture
def served(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", str(WORKERS))
    monkeypatch.setenv("WEB_THREADS", str(THREADS))
    port = _free_port()
    with bench.web_instances(_database_url(), port, 1):
        time.sleep(1)  # every worker booted and polling, as in a server that has been up
        yield port


@pytest.mark.django_db
@pytest.mark.parametrize("count", [WORKERS, 2 * WORKERS, 5 * WORKERS])
def test_a_burst_of_keep_alive_connections_is_spread_over_the_workers(served, count):
    # gthread alone: the first worker to wake took most (measured 15, 2, 1, 1, 1 of 20 on
    # 5 workers; 3 and 1 of 4), and its clients queued behind one interpreter lock.
    fair = math.ceil(count / WORKERS)
    for trial in range(3):
        socks = burst(served, count)
        try:
            held = connections_per_process(served)
            assert sum(held) == count
            assert len(held) == WORKERS and held[0] <= fair + 1, (trial, held)
        finally:
            for sock in socks:
                sock.close()
        time.sleep(0.3)


@pytest.mark.django_db
def test_a_connection_beyond_every_workers_share_is_still_answered_at_once(served):
    # Every worker holds its share, idle: the next connection waits a few milliseconds per
    # connection held for an emptier worker, then is taken; nothing is refused.
    socks = burst(served, 2 * WORKERS)
    try:
        started = time.monotonic()
        extra = burst(served, 1)
        assert time.monotonic() - started < 1.0
        assert sum(connections_per_process(served)) == 2 * WORKERS + 1
        extra[0].close()
    finally:
        for sock in socks:
            sock.close()
