"""Reads side by side (promo.core.reads): each on its own connection and thread, committed rows
only, the caller's language and context carried, every thread joined and its connection closed,
a failure — a read's own or its connection killed under it — raised in the caller."""

from __future__ import annotations

import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils import timezone, translation

from promo.core import db as replica_db
from promo.core.reads import side_by_side, threads_for


def _pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _alive(pids: set[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)])
        return {row[0] for row in cursor.fetchall()}


def _together(count: int):
    """Reads that each wait for the others: they only all return if they ran at once."""
    barrier = threading.Barrier(count, timeout=10)

    def read() -> tuple[int, int]:
        barrier.wait()
        return threading.get_ident(), _pid()

    return [read] * count


def _helpers_alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("promo-reads-")]


@pytest.mark.django_db
def test_inside_a_transaction_the_reads_run_one_after_the_other_in_the_caller(settings):
    """Another connection would not see the transaction's rows (a form that wrote, a test)."""
    settings.PROMO_PARALLEL_READS = 3
    assert connection.in_atomic_block
    assert threads_for(3) == 1
    caller = threading.get_ident()
    results = side_by_side([threading.get_ident, _pid, threading.get_ident])
    assert results[0] == results[2] == caller
    assert results[1] == _pid()


@pytest.mark.django_db(transaction=True)
def test_reads_run_at_once_each_on_its_own_connection_and_come_back_in_order(settings):
    settings.PROMO_PARALLEL_READS = 3
    assert threads_for(3) == 3
    results = side_by_side(_together(3))  # a barrier of 3: serial reads would time out
    threads = {ident for ident, _pid_ in results}
    pids = {pid for _ident, pid in results}
    assert len(threads) == 3 and threading.get_ident() in threads
    assert len(pids) == 3 and _pid() in pids
    assert side_by_side([lambda n=n: n for n in range(7)]) == list(range(7))


@pytest.mark.django_db(transaction=True)
def test_the_helpers_connections_are_closed_and_their_threads_ended_on_return(settings):
    settings.PROMO_PARALLEL_READS = 3
    pids = {pid for _ident, pid in side_by_side(_together(3))} - {_pid()}
    assert len(pids) == 2
    assert _helpers_alive() == []
    deadline = time.monotonic() + 5
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)  # a closed connection's backend exits just after the close
    assert _alive(pids) == set()


@pytest.mark.django_db(transaction=True)
def test_one_setting_of_one_reads_one_after_the_other(settings):
    settings.PROMO_PARALLEL_READS = 1
    assert threads_for(3) == 1
    caller = threading.get_ident()
    assert side_by_side([threading.get_ident] * 3) == [caller] * 3


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_read_runs_in_its_thread(settings):
    settings.PROMO_PARALLEL_READS = 3

    def inner() -> tuple[int, list[int]]:
        return threads_for(2), side_by_side([threading.get_ident, threading.get_ident])

    barrier = threading.Barrier(2, timeout=10)

    def outer() -> tuple[int, int, list[int]]:
        barrier.wait()
        count, idents = inner()
        return threading.get_ident(), count, idents

    for ident, count, idents in side_by_side([outer, outer]):
        assert count == 1
        assert idents == [ident, ident]


@pytest.mark.django_db(transaction=True)
def test_the_callers_language_time_zone_replica_choice_and_script_prefix_travel(settings):
    settings.PROMO_PARALLEL_READS = 2
    barrier = threading.Barrier(2, timeout=10)

    def read() -> tuple:
        barrier.wait()
        return (
            threading.get_ident(),
            translation.get_language(),
            timezone.get_current_timezone_name(),
            replica_db._replica_wanted.get(),
            reverse("dashboard:index"),
            str(translation.gettext("合计")),
        )

    before = get_script_prefix()
    set_script_prefix("/promo/")
    try:
        with translation.override("en"), timezone.override(ZoneInfo("Asia/Hong_Kong")):
            with replica_db.replica_reads():
                results = side_by_side([read, read])
    finally:
        set_script_prefix(before)
    assert len({r[0] for r in results}) == 2
    for _ident, language, zone, replica, path, word in results:
        assert (language, zone, replica) == ("en", "Asia/Hong_Kong", True)
        assert path.startswith("/promo/")
        assert word == "Total"


@pytest.mark.django_db(transaction=True)
def test_a_failing_read_is_raised_in_the_caller_after_every_thread_has_ended(settings):
    settings.PROMO_PARALLEL_READS = 3
    started: list[int] = []

    def slow() -> int:
        started.append(1)
        time.sleep(0.3)
        return _pid()

    def broken() -> int:
        raise ValueError("a read that fails")

    with pytest.raises(ValueError, match="a read that fails"):
        side_by_side([slow, broken, slow])
    assert _helpers_alive() == []
    # The first failure in the reads' order, whichever thread met it first.
    with pytest.raises(KeyError):
        side_by_side([lambda: {}["first"], lambda: [][1]])


@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_under_a_read_is_an_error_and_the_next_reads_work(settings):
    """The database gone for one read at the worst moment: the caller gets a database error,
    not a hang or half a page, and the next page's reads open fresh connections."""
    settings.PROMO_PARALLEL_READS = 2
    barrier = threading.Barrier(2, timeout=10)
    victim: list[int] = []
    killed = threading.Event()

    def read() -> str:
        barrier.wait()
        if threading.current_thread() is threading.main_thread():
            while not victim:
                time.sleep(0.01)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [victim[0]])
            killed.set()
            return "killer"
        victim.append(_pid())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(10)")
        return "survived"

    started = time.monotonic()
    with pytest.raises(DatabaseError):
        side_by_side([read, read])
    assert killed.is_set()
    assert time.monotonic() - started < 8
    assert _helpers_alive() == []
    results = side_by_side(_together(2))
    assert len({pid for _ident, pid in results}) == 2
    assert victim[0] not in {pid for _ident, pid in results}
