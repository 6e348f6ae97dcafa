"""Shared fixtures: the named personas on a real PostgreSQL database."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import Bureau, make_bureau


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Evidence files of the suite's stage changes (every 开工 / 竣工 / 投产 carries one since
    issue #15) go to a temporary folder, never into the checkout's var/media."""
    previous = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    yield
    settings.MEDIA_ROOT = previous


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request with the English cookie (the test
    client runs the middleware in the test's own thread) would otherwise leave English active
    for the tests after it, and a message built at raise time would read in English."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def bureau(db) -> Bureau:
    return make_bureau()


@pytest.fixture
def private_cache(settings) -> None:
    """A cache key prefix of this test's own: the sign-in lockout counters live in Redis,
    shared by other test runs, so every test starts with empty counters without flushing
    anything. Made autouse by the web and agreement tests' conftests."""
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "KEY_PREFIX": f"promo-test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def client_for(db):
    """``client_for(officer)``: a Django test client signed in as that officer (the API
    tests override it with a REST framework client)."""

    def make(officer) -> Client:
        client = Client()
        client.force_login(officer)
        return client

    return make
