"""Sign-in keeps working when Redis (the lockout counters' home) is down."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings

from tests.factories import PASSWORD

CLOSED_PORT_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def test_an_officer_signs_in_quickly_while_redis_is_down(client, bureau):
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        started = time.monotonic()
        response = client.post("/login/", {"username": "sh_officer", "password": PASSWORD})
        elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 2
    assert client.session.get("_auth_user_id") == str(bureau.shanghai_officer.pk)


def test_a_wrong_password_is_still_refused_while_redis_is_down(client, bureau):
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        response = client.post("/login/", {"username": "sh_officer", "password": "wrong-password"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
