"""A hung Redis costs one socket timeout per pause, not one per request (issue #18, 3 and 9).

The cache configured in settings (promo.core.cache.GuardedRedisCache) is pointed at a real
TCP port that accepts connections and never answers — a hung Redis, as the drill makes it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings
from redis.exceptions import RedisError
from rest_framework.test import APIClient

from promo.core.cache import CacheUnavailable
from promo.devtools.drill import HungRedis
from tests.factories import PASSWORD, make_lead


@pytest.fixture
def hung_cache() -> Iterator[None]:
    """settings.CACHES as configured, with Redis on a port that never answers."""
    listener = HungRedis(hold=30)
    configured = copy.deepcopy(settings.CACHES)
    configured["default"]["LOCATION"] = listener.url
    try:
        with override_settings(CACHES=configured, PROMO_CACHE_RETRY_SECONDS=1):
            yield
    finally:
        listener.close()


def _timed(operation) -> tuple[type[BaseException] | None, float]:
    started = time.monotonic()
    try:
        operation()
    except RedisError as exc:
        return type(exc), time.monotonic() - started
    return None, time.monotonic() - started


def test_after_one_timeout_the_cache_fails_at_once_until_the_pause_ends(hung_cache):
    cache = caches["default"]
    first, first_took = _timed(lambda: cache.get("promo-breaker-probe"))
    assert first is not None and not issubclass(first, CacheUnavailable)
    assert first_took >= 0.4, "the first operation waited for the socket timeout"

    outcomes = [_timed(lambda: cache.set("promo-breaker-probe", 1)) for _ in range(20)]
    assert {kind for kind, _took in outcomes} == {CacheUnavailable}
    assert sum(took for _kind, took in outcomes) < 0.1, "paused: nobody waits for Redis"

    time.sleep(1.1)  # PROMO_CACHE_RETRY_SECONDS=1
    probe, probe_took = _timed(lambda: cache.get("promo-breaker-probe"))
    assert probe is not None and not issubclass(probe, CacheUnavailable)
    assert probe_took >= 0.4, "after the pause Redis is asked again"


def test_a_missing_counter_does_not_count_as_redis_being_down():
    cache = caches["default"]
    cache.delete("promo-breaker-missing")
    with pytest.raises(ValueError):
        cache.incr("promo-breaker-missing")
    cache.set("promo-breaker-present", 1)
    assert cache.get("promo-breaker-present") == 1


@pytest.mark.django_db
def test_api_requests_with_redis_hung_do_not_each_wait_for_it(bureau, hung_cache):
    lead = make_lead(bureau.shanghai_officer)
    client = APIClient()
    client.force_login(bureau.shanghai_officer)
    started = time.monotonic()
    answers = [client.get("/api/v1/leads/") for _ in range(10)]
    took = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 10
    assert answers[-1].json()["results"][0]["id"] == lead.pk
    # Before the breaker each request waited 0.5 s for the throttle's counter: ≥ 5 s.
    assert took < 2.5


@pytest.mark.django_db
def test_signing_in_with_redis_hung_waits_for_it_once(bureau, hung_cache, client, settings):
    settings.SECURE_SSL_REDIRECT = False
    started = time.monotonic()
    response = client.post("/login/", {"username": "sh_officer", "password": PASSWORD})
    took = time.monotonic() - started
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(bureau.shanghai_officer.pk)
    assert took < 1.2, f"sign-in took {took:.2f} s"
