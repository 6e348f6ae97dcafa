"""Shared fixtures: the named personas on a real PostgreSQL database."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.test import Client

from promo.devtools.two_factor import verify_client_session
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


@pytest.fixture(scope="session", autouse=True)
def _test_sign_in_passes_the_second_factor():
    """A test client's ``force_login`` / ``login`` skips the sign-in form, so it skips both
    factors: an officer who must use a second factor (a chief, an administrator, staff —
    ``must_use_two_factor``) gets a confirmed TOTP device if they have none, and the session is
    marked verified by it, as the code step would (django_otp's login). The rule itself stays on:
    tests/web/test_two_factor.py signs in through the forms, and signs in *without* passing
    the second factor with ``sign_in_password_only``."""
    from django.test.client import Client as DjangoClient

    original = DjangoClient._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        verify_client_session(self, user)

    # For the whole session: module-scoped worlds (the permission matrix) sign in before any
    # function-scoped fixture runs.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DjangoClient, "_login", _login)
        patch.setattr(DjangoClient, "_login_password_only", original, raising=False)
        yield


def sign_in_password_only(client, user) -> None:
    """``force_login`` without the second factor: the session as the password step leaves it."""
    client._login_password_only(user, None)


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
