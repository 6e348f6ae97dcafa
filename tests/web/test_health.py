"""/healthz and /readyz: plain probes for compose and load balancers, outside sign-in and the API."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.api.test_cache_down_api import CLOSED_PORT_CACHE


def test_healthz_answers_200_plain_without_touching_the_database(client):
    # No django_db mark: any database access here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_healthz_with_a_session_cookie_still_reads_nothing(
    bureau, client_for, django_assert_num_queries
):
    client = client_for(bureau.shanghai_officer)
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_answers_200_with_each_check_when_everything_is_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "migrations": "ok"},
    }
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_cache_when_redis_is_unreachable(client):
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "cache": "failed", "migrations": "ok"}


@pytest.mark.django_db
def test_probes_need_no_sign_in_and_are_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # anonymous; its middleware chain is built with the setting above
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/", follow=False).status_code == 301  # the rest still goes to HTTPS


@pytest.mark.django_db
def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


@pytest.mark.django_db
def test_probes_are_not_in_the_api_schema(bureau, client_for):
    schema = client_for(bureau.shanghai_officer).get("/api/schema/")
    assert schema.status_code == 200
    assert b"healthz" not in schema.content and b"readyz" not in schema.content
