"""Upserts by (source_system, external_id) converge: concurrent callers get the one record."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from leads.models import Investor

# Real threads, each with its own database connection: the requests race for real.
pytestmark = pytest.mark.django_db(transaction=True)

CALLERS = 4


def test_concurrent_upserts_of_one_new_key_all_get_the_one_record(bureau, settings):
    # Four sessions of one officer: more than the cap on open sessions allows by default
    # (PROMO_MAX_SESSIONS, tests/web/test_sessions.py), which would end the first.
    settings.PROMO_MAX_SESSIONS = CALLERS
    url = "/api/v1/investors/by-external-id/samr/91310000RACE/"
    body = {"name": "上海并发科技有限公司", "industry": "digital", "unit": bureau.shanghai.pk}
    clients = []
    for _ in range(CALLERS):
        client = APIClient()
        client.force_login(bureau.chief)
        clients.append(client)
    start = threading.Barrier(CALLERS)
    answers: list[tuple[int, dict]] = []

    def call(client: APIClient) -> None:
        try:
            start.wait()
            response = client.put(url, body, format="json")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == CALLERS
    record = Investor.objects.get(source_system="samr", external_id="91310000RACE")
    assert sorted(code for code, _ in answers) == [200] * (CALLERS - 1) + [201], answers
    assert {answer["id"] for _, answer in answers} == {record.pk}
    assert Investor.objects.count() == 1
