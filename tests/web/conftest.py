"""Fixtures of the web tests: a private lockout cache per test and signed-in clients."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # Lockout counters live in Redis, shared by parallel workers (and other test runs):
    # a key prefix of its own gives every test empty counters without flushing anything.
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "KEY_PREFIX": f"promo-test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def client_for(db):
    """``client_for(officer)``: a test client signed in as that officer."""

    def make(officer) -> Client:
        client = Client()
        client.force_login(officer)
        return client

    return make
