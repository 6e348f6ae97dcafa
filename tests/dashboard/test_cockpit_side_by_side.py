"""A cold cockpit asks its independent questions side by side (promo.core.reads): the same
figures, links and page as asked one after the other, on connections it closes after."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.backends.signals import connection_created
from django.test import Client

from promo.dashboard.forms import period_for
from promo.dashboard.selectors import CockpitFilters, cockpit
from promo.reports.services import alerts_evaluate
from tests.dashboard.seed import INDUSTRIES, build_mixed
from tests.factories import make_bureau
from tests.reports.seed import TODAY

pytestmark = pytest.mark.django_db(transaction=True)  # the helpers read committed rows

DAY = TODAY.date()
PATHS = ("/dashboard/", "/dashboard/?period=month", "/dashboard/?period=ytd&industry=electronics")
# Per response, not per page: the masked CSRF token and the CSP nonce.
PER_RESPONSE = re.compile(r'(name="csrfmiddlewaretoken" value="|nonce=")[^"]+"')


@pytest.fixture
def bureau(settings):
    settings.PROMO_DASHBOARD_CACHE_SECONDS = 0
    with time_machine.travel(TODAY, tick=False):
        built = make_bureau()
        build_mixed(built)
        alerts_evaluate(on=DAY)
        yield built


def _opened_elsewhere() -> tuple[list[int], object]:
    """The threads (other than this one) that open a database connection, and the receiver."""
    opened: list[int] = []

    def receiver(sender, connection, **kwargs):
        if threading.get_ident() != threading.main_thread().ident:
            opened.append(threading.get_ident())

    connection_created.connect(receiver, weak=False)
    return opened, receiver


def _filters(bureau) -> list[CockpitFilters]:
    return [
        CockpitFilters(period=period_for("ytd", DAY), today=DAY),
        CockpitFilters(period=period_for("month", DAY), today=DAY),
        CockpitFilters(period=period_for("quarter", DAY - timedelta(days=120)), today=DAY),
        CockpitFilters(period=period_for("ytd", DAY - timedelta(days=400)), today=DAY),
        CockpitFilters(period=period_for("ytd", DAY), today=DAY, unit=bureau.shanghai),
        CockpitFilters(period=period_for("ytd", DAY), today=DAY, industry=INDUSTRIES[0]),
    ]


def test_the_cockpit_read_side_by_side_equals_the_cockpit_read_in_turn(bureau, settings):
    assert not connection.in_atomic_block
    for f in _filters(bureau):
        settings.PROMO_PARALLEL_READS = 1
        in_turn = cockpit(bureau.chief, f)
        settings.PROMO_PARALLEL_READS = 3
        opened, receiver = _opened_elsewhere()
        try:
            together = cockpit(bureau.chief, f)
        finally:
            connection_created.disconnect(receiver)
        assert len(set(opened)) == 2, f  # two helper threads, each on its own connection
        assert together == in_turn, f
        assert together["rows"] and together["total"].cells


def test_the_cockpit_page_is_the_same_page_either_way(bureau, settings):
    client = Client()
    client.force_login(bureau.chief)
    paths = (*PATHS, f"/dashboard/?unit={bureau.shanghai.pk}")
    pages = {}
    for language in ("zh-hans", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for threads in (1, 3):
            settings.PROMO_PARALLEL_READS = threads
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200
                html = PER_RESPONSE.sub(r"\1…\"", response.content.decode())
                pages[language, threads, path] = html
    for path in paths:
        for language, word in (("zh-hans", "合计"), ("en", "Total")):
            assert pages[language, 3, path] == pages[language, 1, path], (language, path)
            assert word in pages[language, 3, path]


def test_the_page_computes_a_missing_snapshot_side_by_side_and_serves_a_fresh_one_alone(
    bureau, settings
):
    """Through the view as chiefs reach it (no transaction around a GET): the first request
    computes with helper threads, the next one within the cache age reads the stored snapshot
    and starts none."""
    settings.PROMO_DASHBOARD_CACHE_SECONDS = 60
    settings.PROMO_PARALLEL_READS = 2
    client = Client()
    client.force_login(bureau.chief)
    served = []
    for _ in range(2):
        opened, receiver = _opened_elsewhere()
        try:
            response = client.get("/dashboard/?period=quarter")
        finally:
            connection_created.disconnect(receiver)
        assert response.status_code == 200
        served.append((len(set(opened)), PER_RESPONSE.sub(r'\1…"', response.content.decode())))
    assert served[0][0] == 1  # one helper thread beside the request's
    assert served[1][0] == 0
    assert served[1][1] == served[0][1]
