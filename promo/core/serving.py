"""gunicorn's threaded worker, with new connections spread over the worker processes.

Why: every gthread worker watches the one listening socket, and whichever wakes first
accepts. A burst of connections (an API client opening 20 keep-alive connections, a load
balancer's pool) then lands mostly on one process: measured with 20 API writers on 5 × 4
workers, one process held 15 of the 20 connections while four others held one or two. A
process runs Python on one core at a time (its threads share one interpreter lock), so
those 15 clients queued behind each other while the other processes idled: visit POST
p50 93–112 ms but p95 335–555 ms in the runs where it happened, against p95 ≈ 1.7 × p50 in
those where it did not. Four connections (the bench's 4 clients, a proxy's pool) often all
went to one process too, and then used one of the two cores.

What changes: a worker that already holds connections lets a pending connection wait
``ACCEPT_STEP`` seconds per connection it holds before taking it, so an emptier sibling —
which accepts at once — takes it first; if none does, the worker takes it when its wait is
over, so a connection is never refused or left waiting for long (at most 5 ms per
connection held). Nothing is shared between processes: the order of
accepting follows from each process's own count. Everything else is gunicorn's gthread
worker as it is (keep-alive, timeouts, graceful stop); ``promo/gunicorn_conf.py`` names
this class.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# Seconds a pending connection is left to emptier siblings, per connection this process
# already holds. A sibling blocked in its poll wakes within microseconds on an idle core but
# only within a scheduler slice when both cores are busy: at 2 ms a freshly started server
# (every process's first requests computing) still gave one process 2 of 4 connections in
# about one burst of three (tests/promo/test_serving.py); at 5 ms none did in twelve.
ACCEPT_STEP = 0.005
# A connection found pending this soon after the wait ended is the one that was waited
# for (taken now); later, a new one, which starts a new wait.
_GRACE = 0.05


class BalancedThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gthread: a new connection goes first to the worker holding the fewest."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._defer_until: float | None = None

    def accept(self, listener: socket.socket) -> None:
        now = time.monotonic()
        if self._defer_until is not None and now < self._defer_until:
            return  # still waiting (another listening socket of the same poll)
        waited = self._defer_until is not None and now - self._defer_until <= _GRACE
        if self.nr_conns and not waited:
            # Leave it to an emptier sibling for a moment: stop watching the socket until
            # the wait is over (run() re-enables it, wait_for_and_dispatch_events wakes).
            self._defer_until = now + ACCEPT_STEP * self.nr_conns
            super().set_accept_enabled(False)
            return
        self._defer_until = None
        super().accept(listener)

    def set_accept_enabled(self, enabled: bool) -> None:
        if enabled and self._defer_until is not None and time.monotonic() < self._defer_until:
            return  # still leaving the pending connection to the siblings
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self._defer_until is not None:
            left = self._defer_until - time.monotonic()
            if left > 0:
                timeout = min(timeout, left)  # wake when the wait is over
            elif left < -_GRACE:
                self._defer_until = None  # a sibling took it; the next one waits afresh
        super().wait_for_and_dispatch_events(timeout)
