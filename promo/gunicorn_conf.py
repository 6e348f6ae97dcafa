"""gunicorn's configuration, one for every way promo is served: the Dockerfile, compose and
``make bench`` all start ``gunicorn -c python:promo.gunicorn_conf promo.wsgi:application``.

Threaded workers (gthread): a request mostly waits on PostgreSQL, and a sync worker holds a
whole process for that wait, so 3 sync workers on 2 cores queued 20 concurrent API writers
into a 2.9 s p95 (issue 18). Each thread keeps its own database connection
(``DB_CONN_MAX_AGE``): the web tier opens at most ``workers × threads`` connections, 20 on
2 cores with the defaults — well under PostgreSQL's 100.

Sized by measurement (province data, 2 cores, 2026-12-03, `make bench`'s own rows): with
3 processes × 4 threads, 20 API writers held 12 threads and queued 8 connections, so some
requests waited a whole round: visit POST p95 333 ms against a p50 of 165 ms; with as many
threads as writers the round is shared evenly — 3 × 8 gave p95 280 ms and 5 × 4 286 ms, at
134–137 req/s either way. More processes with fewer threads each also spread a handful of
keep-alive connections over more interpreters (one process's threads share one GIL): at 4
connections the API lists gave 88–112 req/s with 5 × 4 and 77–107 with 3 × 8. Hence
gunicorn's usual 2 × cores + 1 processes of 4 threads.

Which process takes a new connection (2026-12-06, this machine's successor): with gthread
alone the first process to wake took most of a burst — 15, 2, 1, 1 and 1 of the 20 writers'
keep-alive connections, 3 and 1 of 4 — and the 15 queued behind one interpreter lock (p50
93 ms, p95 335 ms in that run; p95 555 ms on the AMD machine). ``BalancedThreadWorker``
(promo/core/serving.py) lets an emptier process take it first: 4 × 5 and 1 × 4 in every
burst measured after the first. Settings (environment):

    WEB_CONCURRENCY   worker processes       default: 2 × cores + 1
    WEB_THREADS       threads per worker     default: 4
    WEB_TIMEOUT       seconds before a stuck worker is replaced       default: 30
    GUNICORN_BIND     address                default: 0.0.0.0:8000
"""

from __future__ import annotations

import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gthread, with a burst of new connections spread over the processes (promo/core/serving.py).
worker_class = "promo.core.serving.BalancedThreadWorker"
workers = _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)
threads = _int("WEB_THREADS", 4)
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter, so not all at once): a slow leak
# in a library can never grow a worker without bound.
max_requests = 5000
max_requests_jitter = 500
# The application is imported once, in the arbiter, before the workers are forked: a worker
# replaced after max_requests starts in milliseconds instead of importing Django again (about
# a second of a core, taken from the requests in flight: the 20 writers' p95 doubled when a
# replacement fell inside a measurement). Nothing connects at import (database connections
# and the Redis client open on first use, in each worker), so no socket is shared by forks.
preload_app = True
# Heartbeat files in memory, not on a container's overlay disk (a slow disk must not make the
# arbiter think a busy worker hung).
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
