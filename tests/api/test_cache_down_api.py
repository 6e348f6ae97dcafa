"""The REST API keeps answering while Redis (the throttle counters' home) is unreachable."""

from __future__ import annotations

import logging
import time

import pytest
from django.test import override_settings

from tests.factories import make_lead

pytestmark = pytest.mark.django_db

# Nothing listens on this port: Redis is really unreachable for these requests.
CLOSED_PORT_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6390/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


def test_api_list_answers_200_while_redis_is_unreachable_and_logs_the_open_throttle(
    bureau, client_for, caplog
):
    lead = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        with caplog.at_level(logging.WARNING, logger="promo.security"):
            started = time.monotonic()
            response = client.get("/api/v1/leads/")
            elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [lead.pk]
    assert elapsed < 2
    warnings = [r for r in caplog.records if "throttle" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_api_detail_answers_200_while_redis_is_unreachable(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        response = client.get(f"/api/v1/leads/{lead.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == lead.pk
