"""Issue #16: API client tokens expire, rotate with an overlap, and record who did what."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from promo.api.models import ApiClient
from tests.api.test_api_clients import security_admin, token_client

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


def register(chief_client, officer) -> tuple[int, str]:
    body = chief_client.post(
        "/api/v1/api-clients/", {"name": "发改项目库", "officer": officer.pk, "access": "read"},
        format="json",
    ).json()  # fmt: skip
    return body["id"], body["token"]


def test_a_token_expires_after_its_lifetime(bureau, client_for, settings):
    settings.PROMO_API_TOKEN_DAYS = 30
    with time_machine.travel(START, tick=False) as traveller:
        chief = client_for(security_admin())
        _pk, token = register(chief, bureau.chief)
        listed = chief.get("/api/v1/api-clients/").json()["results"][0]
        assert listed["expires_at"].startswith("2026-12-31")
        assert token_client(token).get("/api/v1/units/").status_code == 200
        traveller.shift(datetime.timedelta(days=30))
        response = token_client(token).get("/api/v1/units/")
    assert response.status_code == 401
    assert "过期" in response.json()["message"]


def test_a_rotation_gives_a_new_token_and_keeps_the_old_one_for_the_overlap(
    bureau, client_for, settings
):
    settings.PROMO_API_TOKEN_OVERLAP_HOURS = 72
    with time_machine.travel(START, tick=False) as traveller:
        chief = client_for(security_admin())
        pk, old = register(chief, bureau.chief)
        rotated = chief.post(f"/api/v1/api-clients/{pk}/rotate/")
        assert rotated.status_code == 200
        new = rotated.json()["token"]
        assert new != old and rotated.json()["rotated_by"]["id"] == security_admin().pk
        assert token_client(new).get("/api/v1/units/").status_code == 200
        assert token_client(old).get("/api/v1/units/").status_code == 200  # the overlap
        traveller.shift(datetime.timedelta(hours=72))
        assert token_client(new).get("/api/v1/units/").status_code == 200
        stale = token_client(old).get("/api/v1/units/")
        assert stale.status_code == 401 and "轮换" in stale.json()["message"]
        # A second rotation: the first token is gone for good, the second has its overlap.
        chief = client_for(security_admin())  # a new sign-in: three days later
        newest = chief.post(f"/api/v1/api-clients/{pk}/rotate/").json()["token"]
        assert token_client(old).get("/api/v1/units/").status_code == 401
        assert token_client(new).get("/api/v1/units/").status_code == 200
        assert token_client(newest).get("/api/v1/units/").status_code == 200


def test_a_revoked_client_is_not_rotated_back_and_names_who_revoked_it(bureau, client_for):
    chief = client_for(security_admin())
    pk, token = register(chief, bureau.chief)
    revoked = chief.post(f"/api/v1/api-clients/{pk}/revoke/").json()
    assert revoked["revoked_by"]["id"] == security_admin().pk
    response = chief.post(f"/api/v1/api-clients/{pk}/rotate/")
    assert response.status_code == 409
    assert ApiClient.objects.get(pk=pk).rotated_at is None
    assert token_client(token).get("/api/v1/units/").status_code == 401


def test_only_the_security_administrator_rotates_and_never_with_a_token(bureau, client_for):
    chief = client_for(security_admin())
    pk, token = register(chief, bureau.chief)
    prefix = ApiClient.objects.get(pk=pk).token_prefix
    assert client_for(bureau.shanghai_head).post(
        f"/api/v1/api-clients/{pk}/rotate/"
    ).status_code in (403, 404)
    assert token_client(token).post(f"/api/v1/api-clients/{pk}/rotate/").status_code == 403
    assert ApiClient.objects.get(pk=pk).token_prefix == prefix
