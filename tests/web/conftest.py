"""Fixtures of the web tests: a clean lockout cache and signed-in clients per persona."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client


@pytest.fixture(autouse=True)
def _clean_cache():
    # Lockout counters live in Redis; every test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(db):
    """``client_for(officer)``: a test client signed in as that officer."""

    def make(officer) -> Client:
        client = Client()
        client.force_login(officer)
        return client

    return make
